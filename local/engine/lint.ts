import { isObject, type JsonObject, taskKind, walkStates } from './resources.ts';

const FORBIDDEN_FIELDS = ['Assign', 'Output', 'Arguments'] as const;

/** Lists what the local engine (and our durability rules) cannot accept in an ASL definition; empty when fine. */
export function lintDefinition(definitionJson: string): string[] {
  let definition: unknown;
  try {
    definition = JSON.parse(definitionJson);
  } catch (error) {
    return [`definition is not JSON: ${(error as Error).message}`];
  }
  if (!isObject(definition)) return ['definition is not a JSON object'];
  const problems: string[] = [];
  if (typeof definition.StartAt !== 'string') problems.push('StartAt is missing');
  if (!isObject(definition.States)) return [...problems, 'States is missing'];
  checkQueryLanguage('the definition', definition, problems);
  for (const sub of subDefinitions(definition)) checkQueryLanguage('a nested definition', sub, problems);
  for (const { name, state, parents } of walkStates(definition)) {
    const where = [...parents, name].join(' > ');
    checkQueryLanguage(`state ${where}`, state, problems);
    for (const field of FORBIDDEN_FIELDS) {
      if (field in state) problems.push(`state ${where}: ${field} is not supported (JSONPath only)`);
    }
    if (state.Type !== 'Task') continue;
    const kind = taskKind(state.Resource);
    if (!kind) {
      problems.push(`state ${where}: the local engine cannot run resource ${JSON.stringify(state.Resource)}`);
      continue;
    }
    if (kind !== 'function') {
      const params = state.Parameters;
      if (!isObject(params) || !('FunctionName' in params || 'FunctionName.$' in params)) {
        problems.push(`state ${where}: Parameters.FunctionName is required for ${String(state.Resource)}`);
      }
    }
    if (kind === 'token') {
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
        problems.push(`state ${where}: a waitForTaskToken task needs TimeoutSeconds or TimeoutSecondsPath`);
      }
      if (parents.length > 0) {
        problems.push(
          `state ${where}: a waitForTaskToken task must sit at the top level, not inside Parallel or Map`,
        );
      }
    }
  }
  return problems;
}

function checkQueryLanguage(where: string, node: JsonObject, problems: string[]): void {
  if (node.QueryLanguage === 'JSONata') problems.push(`${where}: QueryLanguage JSONata is not supported`);
}

function subDefinitions(definition: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  for (const { state } of walkStates(definition)) {
    for (const sub of [
      ...(Array.isArray(state.Branches) ? state.Branches : []),
      state.ItemProcessor,
      state.Iterator,
    ]) {
      if (isObject(sub)) out.push(sub);
    }
  }
  return out;
}
