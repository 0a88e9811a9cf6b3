import { describe, expect, it } from 'vitest';
import { lintDefinition } from '../../../local/engine/index.ts';
import { fixture } from './helpers.ts';

const TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

function machine(states: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ StartAt: Object.keys(states)[0], States: states, ...extra });
}

const waitTask = (extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: TOKEN,
  Parameters: { FunctionName: 'f', Payload: { 'token.$': '$$.Task.Token' } },
  TimeoutSeconds: 60,
  End: true,
  ...extra,
});

describe('lintDefinition', () => {
  it('accepts the fixtures', () => {
    for (const name of ['approval', 'heartbeat', 'direct', 'nested'])
      expect(lintDefinition(fixture(name)), name).toEqual([]);
  });

  it('rejects JSONata and the JSONata-only fields', () => {
    expect(
      lintDefinition(machine({ A: { Type: 'Pass', End: true } }, { QueryLanguage: 'JSONata' })),
    ).toHaveLength(1);
    const problems = lintDefinition(
      machine({
        A: { Type: 'Pass', QueryLanguage: 'JSONata', Assign: { x: 1 }, Output: {}, Next: 'B' },
        B: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Arguments: {}, End: true },
      }),
    );
    expect(problems.join('\n')).toMatch(/JSONata/);
    expect(problems.join('\n')).toMatch(/Assign/);
    expect(problems.join('\n')).toMatch(/Output/);
    expect(problems.join('\n')).toMatch(/Arguments/);
  });

  it('requires a timeout on every waitForTaskToken task', () => {
    const { TimeoutSeconds: _omit, ...noTimeout } = waitTask();
    expect(lintDefinition(machine({ W: noTimeout }))).toEqual([expect.stringMatching(/TimeoutSeconds/)]);
    expect(lintDefinition(machine({ W: { ...noTimeout, TimeoutSecondsPath: '$.t' } }))).toEqual([]);
  });

  it('keeps waitForTaskToken tasks out of Parallel and Map', () => {
    const parallel = machine({
      P: { Type: 'Parallel', Branches: [{ StartAt: 'W', States: { W: waitTask() } }], End: true },
    });
    expect(lintDefinition(parallel)).toEqual([expect.stringMatching(/P > W.*top level/)]);
    const map = machine({
      M: { Type: 'Map', ItemProcessor: { StartAt: 'W', States: { W: waitTask() } }, End: true },
    });
    expect(lintDefinition(map)).toEqual([expect.stringMatching(/top level/)]);
  });

  it('flags resources the local engine cannot run', () => {
    const problems = lintDefinition(
      machine({
        A: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', Next: 'B' },
        B: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { Payload: {} },
          End: true,
        },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/cannot run resource.*sqs/),
      expect.stringMatching(/FunctionName is required/),
    ]);
    expect(
      lintDefinition(
        machine({
          A: { Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:fn:live', End: true },
        }),
      ),
    ).toEqual([]);
  });

  it('reports text that is not a definition', () => {
    expect(lintDefinition('{')).toEqual([expect.stringMatching(/not JSON/)]);
    expect(lintDefinition('[]')).toEqual(['definition is not a JSON object']);
  });
});
