import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { layoutDefinition, stateStatuses } from '../../console/graph.tsx';
import { readDefinition } from '../../workflows/index.ts';

const definition = readDefinition('merge-request');
const names = Object.keys((JSON.parse(definition) as { States: object }).States);

let id = 0;
function ev(type: string, name?: string): HistoryEvent {
  id++;
  const details = name
    ? type.endsWith('Entered')
      ? { stateEnteredEventDetails: { name } }
      : type.endsWith('Exited')
        ? { stateExitedEventDetails: { name } }
        : {}
    : {};
  return { id, type, timestamp: new Date(1_000 * id), ...details } as unknown as HistoryEvent;
}

describe('layoutDefinition', () => {
  it('places every state, StartAt first, each transition pointing down or sideways', () => {
    const layout = layoutDefinition(definition);
    expect(layout.nodes.map((n) => n.name).sort()).toEqual([...names].sort());
    const start = layout.nodes.find(
      (n) => n.name === (JSON.parse(definition) as { StartAt: string }).StartAt,
    );
    expect(start?.rank).toBe(0);
    const rank = new Map(layout.nodes.map((n) => [n.name, n.rank]));
    for (const edge of layout.edges) expect(rank.get(edge.to) ?? 0).toBeGreaterThan(rank.get(edge.from) ?? 0);
    expect(layout.edges).toContainEqual({ from: 'RequestApproval', to: 'ExpireApproval', kind: 'catch' });
    // No two nodes overlap.
    const spots = layout.nodes.map((n) => `${Math.round(n.x)},${n.y}`);
    expect(new Set(spots).size).toBe(spots.length);
  });

  it('survives loops and junk', () => {
    const loop = JSON.stringify({
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Choice', Choices: [{ Next: 'A' }], Default: 'C' },
        C: { Type: 'Succeed' },
      },
    });
    expect(layoutDefinition(loop).nodes.map((n) => n.rank)).toEqual([0, 1, 2]);
    expect(layoutDefinition('not json').nodes).toEqual([]);
  });
});

describe('stateStatuses', () => {
  it('marks the paused state current and the rest not reached', () => {
    id = 0;
    const history = [
      ev('ExecutionStarted'),
      ev('TaskStateEntered', 'RequestApproval'),
      ev('TaskScheduled'),
      ev('TaskSubmitted'),
    ];
    const statuses = stateStatuses(names, history, 'RUNNING');
    expect(statuses.RequestApproval).toBe('current');
    expect(statuses.Decision).toBe('not-reached');
  });

  it('marks a caught timeout, the path taken after it, and the Fail state the execution ended in', () => {
    id = 0;
    const history = [
      ev('ExecutionStarted'),
      ev('TaskStateEntered', 'RequestApproval'),
      ev('TaskTimedOut'),
      ev('TaskStateExited', 'RequestApproval'),
      ev('TaskStateEntered', 'ExpireApproval'),
      ev('TaskStateExited', 'ExpireApproval'),
      ev('TaskStateEntered', 'NotifyExpired'),
      ev('TaskStateExited', 'NotifyExpired'),
      ev('FailStateEntered', 'Expired'),
      ev('ExecutionFailed'),
    ];
    const statuses = stateStatuses(names, history, 'FAILED');
    expect(statuses).toMatchObject({
      RequestApproval: 'caught',
      ExpireApproval: 'visited',
      NotifyExpired: 'visited',
      Expired: 'failed',
      Decision: 'not-reached',
    });
  });
});
