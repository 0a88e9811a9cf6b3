import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { Translate } from './i18n.ts';

/** How far an execution got through one state. `caught`: it failed there and a Catch moved on. */
export type StateStatus = 'visited' | 'current' | 'failed' | 'caught' | 'not-reached';

export interface GraphNode {
  name: string;
  type: string;
  rank: number;
  order: number;
  x: number;
  y: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** `catch` edges are drawn dashed. */
  kind: 'next' | 'choice' | 'default' | 'catch';
}

export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

interface AslState {
  Type?: unknown;
  Next?: unknown;
  Default?: unknown;
  Choices?: unknown;
  Catch?: unknown;
  Branches?: unknown;
}

const NODE_W = 168;
const NODE_H = 44;
const GAP_X = 22;
const GAP_Y = 46;
const MARGIN = 12;

function edgesOf(name: string, state: AslState): GraphEdge[] {
  const edges: GraphEdge[] = [];
  const push = (to: unknown, kind: GraphEdge['kind']) => {
    if (typeof to === 'string') edges.push({ from: name, to, kind });
  };
  push(state.Next, 'next');
  if (Array.isArray(state.Choices))
    for (const choice of state.Choices) push((choice as { Next?: unknown })?.Next, 'choice');
  push(state.Default, 'default');
  if (Array.isArray(state.Catch))
    for (const handler of state.Catch) push((handler as { Next?: unknown })?.Next, 'catch');
  return edges;
}

/**
 * Lay out the top-level states of an ASL definition: layers by longest path from StartAt (back
 * edges ignored, so loops do not stretch the graph), ordered within a layer by their parents'
 * positions. Parallel and Map states are single nodes.
 */
export function layoutDefinition(definition: string): GraphLayout {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch {
    return { nodes: [], edges: [], width: 0, height: 0 };
  }
  const asl = (parsed ?? {}) as { StartAt?: unknown; States?: unknown };
  const states = asl.States && typeof asl.States === 'object' ? (asl.States as Record<string, AslState>) : {};
  const names = Object.keys(states);
  const known = new Set(names);
  const edges = names.flatMap((name) => edgesOf(name, states[name] ?? {})).filter((e) => known.has(e.to));
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const edge of edges) out.get(edge.from)?.push(edge.to);

  // Depth-first from StartAt to find back edges; the rest is a DAG.
  const start = typeof asl.StartAt === 'string' && known.has(asl.StartAt) ? asl.StartAt : names[0];
  const back = new Set<string>();
  const onStack = new Set<string>();
  const seen = new Set<string>();
  const postOrder: string[] = [];
  const visit = (name: string) => {
    seen.add(name);
    onStack.add(name);
    for (const to of out.get(name) ?? []) {
      if (onStack.has(to)) back.add(`${name}>${to}`);
      else if (!seen.has(to)) visit(to);
    }
    onStack.delete(name);
    postOrder.push(name);
  };
  if (start) visit(start);
  for (const name of names) if (!seen.has(name)) visit(name);

  const rank = new Map<string, number>(names.map((n) => [n, 0]));
  for (const name of postOrder.reverse()) {
    for (const to of out.get(name) ?? []) {
      if (back.has(`${name}>${to}`)) continue;
      rank.set(to, Math.max(rank.get(to) ?? 0, (rank.get(name) ?? 0) + 1));
    }
  }

  const layers: string[][] = [];
  for (const name of postOrder) {
    const r = rank.get(name) ?? 0;
    layers[r] ??= [];
    layers[r].push(name);
  }
  const position = new Map<string, number>();
  layers.forEach((layer, r) => {
    if (r > 0) {
      const parents = (name: string) =>
        edges
          .filter((e) => e.to === name && (rank.get(e.from) ?? 0) < r)
          .map((e) => position.get(e.from) ?? 0);
      const score = (name: string) => {
        const p = parents(name);
        return p.length ? p.reduce((a, b) => a + b, 0) / p.length : 0;
      };
      layer.sort((a, b) => score(a) - score(b));
    }
    layer.forEach((name, i) => {
      position.set(name, i - (layer.length - 1) / 2);
    });
  });

  const widest = Math.max(1, ...layers.map((l) => l?.length ?? 0));
  const width = MARGIN * 2 + widest * NODE_W + (widest - 1) * GAP_X;
  const nodes: GraphNode[] = names.map((name) => {
    const r = rank.get(name) ?? 0;
    const offset = position.get(name) ?? 0;
    return {
      name,
      type: String(states[name]?.Type ?? ''),
      rank: r,
      order: (layers[r] ?? []).indexOf(name),
      x: width / 2 + offset * (NODE_W + GAP_X) - NODE_W / 2,
      y: MARGIN + r * (NODE_H + GAP_Y),
    };
  });
  const height = MARGIN * 2 + layers.length * NODE_H + Math.max(0, layers.length - 1) * GAP_Y;
  return { nodes, edges, width, height };
}

const FAILURE =
  /^(TaskFailed|TaskTimedOut|TaskStartFailed|TaskSubmitFailed|LambdaFunctionFailed|LambdaFunctionTimedOut|LambdaFunctionStartFailed|LambdaFunctionScheduleFailed|ExecutionFailed|ExecutionTimedOut|ExecutionAborted|MapRunFailed)$/;

function stateName(event: HistoryEvent): string | undefined {
  return event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
}

/**
 * The status of each top-level state from an execution's history: entered → visited; entered and
 * not left while the execution runs → current; a failure while in it → failed, or caught when
 * the execution left it for a Catch target.
 */
export function stateStatuses(
  stateNames: string[],
  history: HistoryEvent[],
  executionStatus: string | undefined,
): Record<string, StateStatus> {
  const known = new Set(stateNames);
  const result: Record<string, StateStatus> = Object.fromEntries(
    stateNames.map((n) => [n, 'not-reached' as StateStatus]),
  );
  const failedIn = new Set<string>();
  let open: string | undefined;
  for (const event of [...history].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))) {
    const type = event.type ?? '';
    const name = stateName(event);
    if (type.endsWith('StateEntered') && name && known.has(name)) {
      open = name;
      if (result[name] === 'not-reached') result[name] = 'visited';
    } else if (type.endsWith('StateExited') && name && known.has(name)) {
      if (failedIn.has(name)) result[name] = 'caught';
      failedIn.delete(name);
      if (open === name) open = undefined;
    } else if (FAILURE.test(type) && open) {
      failedIn.add(open);
      result[open] = 'failed';
    }
  }
  // A Fail state has no Exited event: the execution fails in it.
  if (open && executionStatus === 'RUNNING' && result[open] !== 'failed') result[open] = 'current';
  if (open && executionStatus !== 'RUNNING' && executionStatus !== 'SUCCEEDED') result[open] = 'failed';
  return result;
}

function edgePath(from: GraphNode, to: GraphNode): string {
  const x1 = from.x + NODE_W / 2;
  const y1 = from.y + NODE_H;
  const x2 = to.x + NODE_W / 2;
  const y2 = to.y;
  if (to.rank > from.rank) {
    const bend = Math.max(18, (y2 - y1) / 2);
    return `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
  }
  // A loop back (or sideways): leave from the right side, come back into the target's right side.
  const sx = from.x + NODE_W;
  const sy = from.y + NODE_H / 2;
  const tx = to.x + NODE_W;
  const ty = to.y + NODE_H / 2;
  const out = Math.max(sx, tx) + 30;
  return `M${sx},${sy} C${out},${sy} ${out},${ty} ${tx},${ty}`;
}

function shortName(name: string): string {
  return name.length > 22 ? `${name.slice(0, 21)}…` : name;
}

/** The state machine as an SVG graph, each state marked with its status (server-rendered, no script). */
export function WorkflowGraph(props: {
  definition: string;
  statuses: Record<string, StateStatus>;
  t: Translate;
}) {
  const layout = layoutDefinition(props.definition);
  const byName = new Map(layout.nodes.map((n) => [n.name, n]));
  const { t } = props;
  const label: Record<StateStatus, string> = {
    visited: t('legendVisited'),
    current: t('legendCurrent'),
    failed: t('legendFailed'),
    caught: t('legendCaught'),
    'not-reached': t('legendNotReached'),
  };
  return (
    <figure class="graph">
      <svg
        xmlns="http://www.w3.org/2000/svg"
        viewBox={`0 0 ${layout.width + 40} ${layout.height}`}
        width={layout.width + 40}
        role="img"
        aria-label={t('graph')}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {layout.edges.map((edge) => {
          const from = byName.get(edge.from);
          const to = byName.get(edge.to);
          if (!from || !to) return null;
          const taken =
            props.statuses[edge.from] !== 'not-reached' && props.statuses[edge.to] !== 'not-reached';
          return (
            <path
              class={`edge e-${edge.kind}${taken ? ' taken' : ''}`}
              d={edgePath(from, to)}
              marker-end="url(#arrow)"
              data-from={edge.from}
              data-to={edge.to}
            />
          );
        })}
        {layout.nodes.map((node) => {
          const status = props.statuses[node.name] ?? 'not-reached';
          return (
            <g class={`node st-${status}`} data-state={node.name} data-status={status}>
              <title>{`${node.name} (${node.type}): ${label[status]}`}</title>
              <rect
                x={node.x}
                y={node.y}
                width={NODE_W}
                height={NODE_H}
                rx={node.type === 'Choice' ? 18 : 7}
              />
              <text x={node.x + NODE_W / 2} y={node.y + 19} text-anchor="middle" class="n-name">
                {shortName(node.name)}
              </text>
              <text x={node.x + NODE_W / 2} y={node.y + 35} text-anchor="middle" class="n-type">
                {`${node.type} · ${label[status]}`}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        {(['visited', 'current', 'failed', 'caught', 'not-reached'] as const).map((status) => (
          <span class={`key st-${status}`}>
            <i />
            {label[status]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
