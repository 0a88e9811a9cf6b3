import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk.bundled.js';
import type { Translate } from './i18n.ts';

/** How far an execution got through one state. `caught`: it failed there and a Catch moved on. */
export type StateStatus = 'visited' | 'current' | 'failed' | 'caught' | 'not-reached';

export interface GraphNode {
  name: string;
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** `catch` edges are drawn dashed. */
  kind: 'next' | 'choice' | 'default' | 'catch';
  /** What takes this branch: a Choice rule (`decision = approve`), `default`, or the errors a Catch matches. */
  label?: string;
  /** The route ELK drew: start, bends, end (orthogonal, around the boxes). */
  points: Point[];
  /** Where the label goes. */
  labelBox?: { x: number; y: number; width: number; height: number };
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
}

const NODE_H = 44;
const MARGIN = 12;
const LABEL_H = 14;

type EdgeSpec = Omit<GraphEdge, 'points' | 'labelBox'>;

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const OPERATORS: Array<[RegExp, string]> = [
  [/Equals(Path)?$/, '='],
  [/GreaterThanEquals(Path)?$/, '≥'],
  [/LessThanEquals(Path)?$/, '≤'],
  [/GreaterThan(Path)?$/, '>'],
  [/LessThan(Path)?$/, '<'],
  [/Matches$/, '~'],
];

/** A Choice rule in a few words: `decision = approve`, `comment present`, `not(…)`. */
export function describeRule(rule: unknown): string {
  if (!rule || typeof rule !== 'object') return '?';
  const r = rule as Record<string, unknown>;
  if (typeof r.Condition === 'string') return r.Condition.replace(/^\{%\s*|\s*%\}$/g, '');
  if (Array.isArray(r.And)) return r.And.map(describeRule).join(' and ');
  if (Array.isArray(r.Or)) return r.Or.map(describeRule).join(' or ');
  if (r.Not) return `not ${describeRule(r.Not)}`;
  const variable = typeof r.Variable === 'string' ? (r.Variable.split('.').pop() ?? r.Variable) : '?';
  for (const [key, value] of Object.entries(r)) {
    if (key === 'Variable' || key === 'Next' || key === 'Comment') continue;
    if (key === 'IsPresent') return `${variable} ${value ? 'present' : 'absent'}`;
    if (key.startsWith('Is')) return `${variable} ${value ? '' : 'not '}${key.slice(2).toLowerCase()}`;
    const operator = OPERATORS.find(([pattern]) => pattern.test(key))?.[1] ?? key;
    return `${variable} ${operator} ${valueText(value)}`;
  }
  return variable;
}

function shorten(text: string, max = 28): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function edgesOf(name: string, state: AslState): EdgeSpec[] {
  const edges: EdgeSpec[] = [];
  const push = (to: unknown, kind: GraphEdge['kind'], label?: string) => {
    if (typeof to === 'string')
      edges.push({ from: name, to, kind, ...(label ? { label: shorten(label) } : {}) });
  };
  push(state.Next, 'next');
  if (Array.isArray(state.Choices))
    for (const choice of state.Choices)
      push((choice as { Next?: unknown })?.Next, 'choice', describeRule(choice));
  push(state.Default, 'default', state.Choices ? 'default' : undefined);
  if (Array.isArray(state.Catch))
    for (const handler of state.Catch) {
      const errors = (handler as { ErrorEquals?: unknown })?.ErrorEquals;
      const label = Array.isArray(errors)
        ? errors
            .map(String)
            .join(', ')
            .replace(/States\./g, '')
        : 'catch';
      push((handler as { Next?: unknown })?.Next, 'catch', label);
    }
  return edges;
}

/** Box width for a state name: room for the name in 13 px type. */
function nodeWidth(name: string, type: string): number {
  return Math.max(132, Math.min(260, Math.max(name.length * 8.2, (type.length + 14) * 6.2) + 24));
}

function labelWidth(label: string): number {
  return Math.ceil(label.length * 6.2) + 8;
}

type ElkConstructor = typeof import('elkjs/lib/elk.bundled.js').default;
type ElkInstance = InstanceType<ElkConstructor>;
let elkInstance: Promise<ElkInstance> | undefined;

/**
 * ELK, loaded the first time a graph is drawn: elkjs is 1.6 MB, and the webhook function (which
 * also serves the console on AWS) must import fast when a chat callback wakes it cold.
 */
function loadElk(): Promise<ElkInstance> {
  elkInstance ??= import('elkjs/lib/elk.bundled.js').then((elkModule) => {
    // elkjs is CommonJS: Node's default import is the constructor itself, the types say `.default`.
    const loaded = elkModule as unknown as { default: ElkConstructor | { default: ElkConstructor } };
    const Elk = 'default' in loaded.default ? loaded.default.default : loaded.default;
    return new Elk();
  });
  return elkInstance;
}

/**
 * Lay out the top-level states of an ASL definition with ELK's layered algorithm: top to bottom
 * from StartAt, edges routed orthogonally around the boxes, each branch's label placed beside its
 * edge. Parallel and Map states are single boxes. A definition that is not JSON lays out empty.
 */
export async function layoutDefinition(definition: string): Promise<GraphLayout> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definition);
  } catch {
    return { nodes: [], edges: [], width: 0, height: 0 };
  }
  const asl = (parsed ?? {}) as { StartAt?: unknown; States?: unknown };
  const states = asl.States && typeof asl.States === 'object' ? (asl.States as Record<string, AslState>) : {};
  const start = typeof asl.StartAt === 'string' && asl.StartAt in states ? asl.StartAt : undefined;
  // StartAt first: ELK keeps the input order where it can, so the start sits at the top left.
  const names = Object.keys(states).sort((x, y) => Number(y === start) - Number(x === start));
  if (names.length === 0) return { nodes: [], edges: [], width: 0, height: 0 };
  const known = new Set(names);
  const specs = names.flatMap((name) => edgesOf(name, states[name] ?? {})).filter((e) => known.has(e.to));
  const types = new Map(names.map((name) => [name, String(states[name]?.Type ?? '')]));

  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.spacing.edgeNode': '16',
      'elk.spacing.edgeEdge': '10',
      'elk.spacing.edgeLabel': '3',
      'elk.layered.spacing.edgeNodeBetweenLayers': '16',
      'elk.padding': `[top=${MARGIN},left=${MARGIN},bottom=${MARGIN},right=${MARGIN}]`,
      'elk.edgeLabels.placement': 'CENTER',
    },
    children: names.map((name) => ({
      id: name,
      width: nodeWidth(name, types.get(name) ?? ''),
      height: NODE_H,
    })),
    edges: specs.map(
      (edge, i): ElkExtendedEdge => ({
        id: `e${i}`,
        sources: [edge.from],
        targets: [edge.to],
        ...(edge.label
          ? { labels: [{ id: `l${i}`, text: edge.label, width: labelWidth(edge.label), height: LABEL_H }] }
          : {}),
      }),
    ),
  };
  const laid = await (await loadElk()).layout(graph);
  const nodes: GraphNode[] = (laid.children ?? []).map((n) => ({
    name: n.id,
    type: types.get(n.id) ?? '',
    x: n.x ?? 0,
    y: n.y ?? 0,
    width: n.width ?? 0,
    height: n.height ?? NODE_H,
  }));
  const edges: GraphEdge[] = specs.map((spec, i) => {
    const laidEdge = laid.edges?.find((e) => e.id === `e${i}`);
    const points = (laidEdge?.sections ?? []).flatMap((section) => [
      section.startPoint,
      ...(section.bendPoints ?? []),
      section.endPoint,
    ]);
    const label = laidEdge?.labels?.[0];
    return {
      ...spec,
      points: points.map((p) => ({ x: p.x, y: p.y })),
      ...(label
        ? {
            labelBox: {
              x: label.x ?? 0,
              y: label.y ?? 0,
              width: label.width ?? 0,
              height: label.height ?? LABEL_H,
            },
          }
        : {}),
    };
  });
  return { nodes, edges, width: laid.width ?? 0, height: laid.height ?? 0 };
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

function pathOf(points: Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
}

/** The id of a state's input/output panel, which its box links to. */
export function stateIoId(name: string): string {
  return `io-${name.replace(/[^\w-]/g, '_')}`;
}

function pretty(text: string | undefined): string {
  if (text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Each state's last input (StateEntered) and output (StateExited) from the history. */
export function stateInputsOutputs(
  history: HistoryEvent[],
): Map<string, { input?: string; output?: string }> {
  const io = new Map<string, { input?: string; output?: string }>();
  for (const event of [...history].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))) {
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (entered?.name)
      io.set(entered.name, { ...(entered.input !== undefined ? { input: entered.input } : {}) });
    if (exited?.name)
      io.set(exited.name, {
        ...io.get(exited.name),
        ...(exited.output !== undefined ? { output: exited.output } : {}),
      });
  }
  return io;
}

/**
 * The state machine as an SVG graph laid out by ELK, each state marked with its status and each
 * branch labelled; a visited state links to its input and output below. Wide graphs scroll in
 * their box; the + and − buttons (and pinch on a phone) zoom.
 */
export async function WorkflowGraph(props: {
  definition: string;
  statuses: Record<string, StateStatus>;
  history: HistoryEvent[];
  t: Translate;
}) {
  const layout = await layoutDefinition(props.definition);
  const io = stateInputsOutputs(props.history);
  const { t } = props;
  const label: Record<StateStatus, string> = {
    visited: t('legendVisited'),
    current: t('legendCurrent'),
    failed: t('legendFailed'),
    caught: t('legendCaught'),
    'not-reached': t('legendNotReached'),
  };
  const reached = layout.nodes.filter((n) => io.has(n.name));
  return (
    <figure class="graph">
      <div class="graph-tools">
        <button type="button" class="zoom" data-zoom="out" aria-label={t('zoomOut')}>
          −
        </button>
        <button type="button" class="zoom" data-zoom="in" aria-label={t('zoomIn')}>
          +
        </button>
      </div>
      <div class="graph-scroll">
        <svg
          xmlns="http://www.w3.org/2000/svg"
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          width={layout.width}
          style={`--graph-w:${layout.width}px`}
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
            const taken =
              props.statuses[edge.from] !== 'not-reached' && props.statuses[edge.to] !== 'not-reached';
            return (
              <g class={`edge-group e-${edge.kind}`}>
                <path
                  class={`edge e-${edge.kind}${taken ? ' taken' : ''}`}
                  d={pathOf(edge.points)}
                  marker-end="url(#arrow)"
                  data-from={edge.from}
                  data-to={edge.to}
                  {...(edge.label ? { 'data-label': edge.label } : {})}
                />
                {edge.label && edge.labelBox ? (
                  <text
                    class="e-label"
                    x={edge.labelBox.x + edge.labelBox.width / 2}
                    y={edge.labelBox.y + edge.labelBox.height - 3}
                    text-anchor="middle"
                  >
                    {edge.label}
                  </text>
                ) : null}
              </g>
            );
          })}
          {layout.nodes.map((node) => {
            const status = props.statuses[node.name] ?? 'not-reached';
            const box = (
              <>
                <title>{`${node.name} (${node.type}): ${label[status]}`}</title>
                <rect
                  x={node.x}
                  y={node.y}
                  width={node.width}
                  height={node.height}
                  rx={node.type === 'Choice' ? 18 : 7}
                />
                <text x={node.x + node.width / 2} y={node.y + 19} text-anchor="middle" class="n-name">
                  {node.name}
                </text>
                <text x={node.x + node.width / 2} y={node.y + 35} text-anchor="middle" class="n-type">
                  {`${node.type} · ${label[status]}`}
                </text>
              </>
            );
            return io.has(node.name) ? (
              <a
                href={`#${stateIoId(node.name)}`}
                class={`node st-${status}`}
                data-state={node.name}
                data-status={status}
              >
                {box}
              </a>
            ) : (
              <g class={`node st-${status}`} data-state={node.name} data-status={status}>
                {box}
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption class="legend">
        {(['visited', 'current', 'failed', 'caught', 'not-reached'] as const).map((status) => (
          <span class={`key st-${status}`}>
            <i />
            {label[status]}
          </span>
        ))}
      </figcaption>
      {reached.length > 0 ? (
        <div class="state-io">
          <h4>{t('stateIo')}</h4>
          {reached.map((node) => {
            const values = io.get(node.name) ?? {};
            return (
              <details class="io" id={stateIoId(node.name)} data-state={node.name}>
                <summary>{node.name}</summary>
                <dl>
                  <dt>{t('stateInput')}</dt>
                  <dd>
                    <pre class="io-input">{pretty(values.input)}</pre>
                  </dd>
                  <dt>{t('stateOutput')}</dt>
                  <dd>
                    <pre class="io-output">{pretty(values.output)}</pre>
                  </dd>
                </dl>
              </details>
            );
          })}
        </div>
      ) : null}
    </figure>
  );
}
