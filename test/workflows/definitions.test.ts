import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MachineName } from '../../core/engine.ts';
import { lintDefinition } from '../../local/engine/index.ts';
import { tasks } from '../../tasks/index.ts';
import {
  placeholdersOf,
  readDefinition,
  STATE_MACHINES,
  substitute,
  taskNameOf,
  workflows,
} from '../../workflows/index.ts';

const kinds = readdirSync(join(import.meta.dirname, '../../workflows'))
  .filter((name) => name.endsWith('.asl.json'))
  .map((name) => name.replace('.asl.json', '') as MachineName);

interface TaskState {
  name: string;
  placeholder: string | undefined;
  payload: Record<string, unknown>;
}

/** Every Task state of a definition, nested ones (Parallel branches, Map processors) included. */
function taskStatesOf(definition: string): TaskState[] {
  type State = {
    Type: string;
    Parameters?: { FunctionName?: string; Payload?: Record<string, unknown> };
    Branches?: Array<{ States: Record<string, State> }>;
    ItemProcessor?: { States: Record<string, State> };
    Iterator?: { States: Record<string, State> };
  };
  const walk = (states: Record<string, State>): TaskState[] =>
    Object.entries(states).flatMap(([name, state]) => [
      ...(state.Type === 'Task'
        ? [
            {
              name,
              placeholder: /^\$\{([A-Za-z0-9]+Arn)\}$/.exec(state.Parameters?.FunctionName ?? '')?.[1],
              payload: state.Parameters?.Payload ?? {},
            },
          ]
        : []),
      ...(state.Branches ?? []).flatMap((branch) => walk(branch.States)),
      ...walk(state.ItemProcessor?.States ?? state.Iterator?.States ?? {}),
    ]);
  return walk((JSON.parse(definition) as { States: Record<string, State> }).States);
}

/** `request-approval` → `RequestApproval`; `rolled-back` → `RolledBack`. */
function pascalCaseOf(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, __, ch: string) => ch.toUpperCase());
}

/**
 * The name the rule gives a Task state that calls `task` (docs/architecture.md, "One name per
 * task"): the task's name in PascalCase, then each constant string of its payload (the action or
 * event it asks the task for), in the order written.
 */
function stateNameOf(task: string, payload: Record<string, unknown>): string {
  const variants = Object.entries(payload)
    .filter(([key, value]) => !key.endsWith('.$') && typeof value === 'string')
    .map(([, value]) => pascalCaseOf(value as string));
  return [pascalCaseOf(task), ...variants].join('');
}

describe('one name per task', () => {
  const states = kinds.flatMap((kind) =>
    taskStatesOf(readDefinition(kind)).map((state) => ({ kind, ...state })),
  );

  it('calls every task through an …Arn placeholder that names an existing task file', () => {
    for (const { kind, name, placeholder } of states) {
      expect(placeholder, `${kind}: ${name}`).toBeDefined();
      const task = taskNameOf(placeholder ?? '');
      expect(tasks[task], `${kind}: ${name} → ${placeholder}`).toBeDefined();
      expect(existsSync(join(import.meta.dirname, '../../tasks', `${task}.ts`)), `tasks/${task}.ts`).toBe(
        true,
      );
    }
  });

  it('names each Task state after its task, then the action its payload asks for', () => {
    const wrong = states
      .map(({ kind, name, placeholder, payload }) => ({
        kind,
        name,
        expected: stateNameOf(taskNameOf(placeholder ?? ''), payload),
      }))
      .filter(({ name, expected }) => name !== expected)
      .map(({ kind, name, expected }) => `${kind}: ${name} should be ${expected}`);
    expect(wrong).toEqual([]);
  });

  it('spells the rule as the docs show it', () => {
    expect(stateNameOf('request-approval', { 'taskToken.$': '$$.Task.Token' })).toBe('RequestApproval');
    expect(stateNameOf('merge-request', { action: 'merge', 'input.$': '$' })).toBe('MergeRequestMerge');
    expect(stateNameOf('notify-deployment', { event: 'rolled-back' })).toBe('NotifyDeploymentRolledBack');
    expect(stateNameOf('support-case', { action: 'notify', event: 'created' })).toBe(
      'SupportCaseNotifyCreated',
    );
  });

  it('registers every task under its file name, and some state calls it', () => {
    const called = new Set(states.map(({ placeholder }) => taskNameOf(placeholder ?? '')));
    for (const [name, task] of Object.entries(tasks)) {
      expect(task.name).toBe(name);
      expect(existsSync(join(import.meta.dirname, '../../tasks', `${name}.ts`)), `tasks/${name}.ts`).toBe(
        true,
      );
      expect(called.has(name), `no state calls ${name}`).toBe(true);
    }
  });
});

describe('workflow definitions', () => {
  it('deploys every ASL file as a state machine, and has an ASL file for every workflow module', () => {
    expect(kinds.length).toBeGreaterThan(0);
    expect([...kinds].sort()).toEqual([...STATE_MACHINES].sort());
    for (const kind of Object.keys(workflows)) expect(kinds, kind).toContain(kind);
  });

  for (const kind of kinds) {
    describe(kind, () => {
      const definition = readDefinition(kind);

      it('names a task for every …Arn placeholder', () => {
        const placeholders = placeholdersOf(definition);
        expect(placeholders.length).toBeGreaterThan(0);
        for (const placeholder of placeholders)
          expect(tasks[taskNameOf(placeholder)], placeholder).toBeDefined();
      });

      it('passes the local-engine lint (JSONPath only, timeouts on waits, waits at top level)', () => {
        const resolved = substitute(
          definition,
          (task) => `arn:aws:lambda:us-east-1:123456789012:function:signoff-${task}`,
        );
        expect(lintDefinition(resolved)).toEqual([]);
      });
    });
  }

  it('maps placeholders to task names with one rule', () => {
    expect(taskNameOf('RequestApprovalArn')).toBe('request-approval');
    expect(taskNameOf('NotifyArn')).toBe('notify');
  });
});
