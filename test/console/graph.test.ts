import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { type GraphLayout, layoutDefinition, type Point, stateStatuses } from '../../console/graph.tsx';
import { WORKFLOW_KINDS } from '../../core/config.ts';
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

type Box = { x: number; y: number; width: number; height: number };

/** Whether the segment p→q passes through the inside of the box (Liang–Barsky clipping). */
function crosses(p: Point, q: Point, box: Box): boolean {
  const inset = 1; // touching an edge of the box is not crossing it
  const [x0, y0, x1, y1] = [
    box.x + inset,
    box.y + inset,
    box.x + box.width - inset,
    box.y + box.height - inset,
  ];
  const dx = q.x - p.x;
  const dy = q.y - p.y;
  let t0 = 0;
  let t1 = 1;
  for (const [pk, qk] of [
    [-dx, p.x - x0],
    [dx, x1 - p.x],
    [-dy, p.y - y0],
    [dy, y1 - p.y],
  ] as const) {
    if (pk === 0) {
      if (qk < 0) return false;
      continue;
    }
    const r = qk / pk;
    if (pk < 0) t0 = Math.max(t0, r);
    else t1 = Math.min(t1, r);
    if (t0 > t1) return false;
  }
  return true;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Every edge segment that passes under a box other than its own two ends, as "edge / box". */
function edgesUnderBoxes(layout: GraphLayout): string[] {
  const found: string[] = [];
  for (const edge of layout.edges)
    for (const node of layout.nodes) {
      if (node.name === edge.from || node.name === edge.to) continue;
      for (let i = 1; i < edge.points.length; i++) {
        const [p, q] = [edge.points[i - 1], edge.points[i]];
        if (p && q && crosses(p, q, node)) found.push(`${edge.from}→${edge.to} / ${node.name}`);
      }
    }
  return found;
}

describe('layoutDefinition', () => {
  it.each(WORKFLOW_KINDS)(
    'lays out every state of %s, StartAt at the top, no two boxes overlapping',
    async (kind) => {
      const asl = JSON.parse(readDefinition(kind)) as { StartAt: string; States: object };
      const layout = await layoutDefinition(readDefinition(kind));
      expect(layout.nodes.map((n) => n.name).sort()).toEqual(Object.keys(asl.States).sort());
      const top = Math.min(...layout.nodes.map((n) => n.y));
      expect(layout.nodes.find((n) => n.name === asl.StartAt)?.y).toBe(top);
      for (const a of layout.nodes)
        for (const b of layout.nodes)
          if (a !== b) expect(overlaps(a, b), `${a.name} / ${b.name}`).toBe(false);
      for (const node of layout.nodes) {
        expect(node.x + node.width).toBeLessThanOrEqual(layout.width);
        expect(node.y + node.height).toBeLessThanOrEqual(layout.height);
      }
    },
  );

  it.each(WORKFLOW_KINDS)('routes no edge of %s under a box, and no label over one', async (kind) => {
    const layout = await layoutDefinition(readDefinition(kind));
    expect(layout.edges.every((e) => e.points.length >= 2)).toBe(true);
    expect(edgesUnderBoxes(layout)).toEqual([]);
    for (const edge of layout.edges)
      for (const node of layout.nodes)
        if (edge.labelBox) expect(overlaps(edge.labelBox, node), `${edge.label} / ${node.name}`).toBe(false);
  });

  it('finds an edge drawn straight through a box (the check can fail)', () => {
    const layout: GraphLayout = {
      nodes: [
        { name: 'A', type: 'Pass', x: 0, y: 0, width: 100, height: 40 },
        { name: 'B', type: 'Pass', x: 0, y: 80, width: 100, height: 40 },
        { name: 'C', type: 'Pass', x: 0, y: 160, width: 100, height: 40 },
      ],
      edges: [
        {
          from: 'A',
          to: 'C',
          kind: 'next',
          points: [
            { x: 50, y: 40 },
            { x: 50, y: 160 },
          ],
        },
      ],
      width: 100,
      height: 200,
    };
    expect(edgesUnderBoxes(layout)).toEqual(['A→C / B']);
  });

  it('labels each Choice branch with its rule and the default, and each Catch with its errors', async () => {
    const layout = await layoutDefinition(definition);
    const labels = (from: string) =>
      layout.edges.filter((e) => e.from === from).map((e) => `${e.label ?? ''}→${e.to}`);
    expect(labels('Decision').sort()).toEqual(
      [
        'decision = approve→MergeRequestMerge',
        'decision = reject→MergeRequestClose',
        'decision = cancelled→NotifyCancelled',
        'default→NotifyFailed',
      ].sort(),
    );
    expect(labels('RejectedBecause').sort()).toEqual([
      'comment present→Rejected',
      'default→RejectedWithoutReason',
    ]);
    expect(layout.edges).toContainEqual(
      expect.objectContaining({
        from: 'RequestApproval',
        to: 'ExpireApproval',
        kind: 'catch',
        label: 'Timeout',
      }),
    );
    for (const edge of layout.edges.filter((e) => e.label)) expect(edge.labelBox).toBeDefined();
  });

  it('survives loops and junk', async () => {
    const loop = JSON.stringify({
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Next: 'B' },
        B: {
          Type: 'Choice',
          Choices: [{ Variable: '$.again', BooleanEquals: true, Next: 'A' }],
          Default: 'C',
        },
        C: { Type: 'Succeed' },
      },
    });
    const layout = await layoutDefinition(loop);
    expect(layout.nodes.map((n) => n.name).sort()).toEqual(['A', 'B', 'C']);
    expect(layout.edges.find((e) => e.to === 'A')?.label).toBe('again = true');
    expect(edgesUnderBoxes(layout)).toEqual([]);
    expect((await layoutDefinition('not json')).nodes).toEqual([]);
    expect((await layoutDefinition('{"States":7}')).nodes).toEqual([]);
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
