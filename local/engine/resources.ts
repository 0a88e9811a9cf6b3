/** How the local engine runs a Task resource. */
export type TaskKind = 'invoke' | 'token' | 'function';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;

/** Classifies a Task `Resource`, or returns undefined when the local engine cannot run it. */
export function taskKind(resource: unknown): TaskKind | undefined {
  if (resource === LAMBDA_INVOKE) return 'invoke';
  if (resource === LAMBDA_INVOKE_TOKEN) return 'token';
  if (typeof resource === 'string' && FUNCTION_ARN.test(resource)) return 'function';
  return undefined;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A state found while walking a definition, with where it sits. */
export interface StateRef {
  name: string;
  state: JsonObject;
  /** Parallel/Map states it is nested in (empty at the top level). */
  parents: string[];
}

/** Every state of a definition, including those inside Parallel branches and Map processors. */
export function walkStates(definition: JsonObject, parents: string[] = []): StateRef[] {
  const out: StateRef[] = [];
  const states = definition.States;
  if (!isObject(states)) return out;
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    out.push({ name, state, parents });
    const inner = [
      ...(Array.isArray(state.Branches) ? state.Branches : []),
      state.ItemProcessor,
      state.Iterator,
    ].filter(isObject);
    for (const sub of inner) out.push(...walkStates(sub, [...parents, name]));
  }
  return out;
}
