import { createInterpreter, type Interpreter } from './interpreter.ts';
import { lintDefinition } from './lint.ts';
import { isObject, type JsonObject, walkStates } from './resources.ts';
import type { EngineConfig, Machine } from './types.ts';

/** The account and region the engine's ARNs name. */
export interface ArnScope {
  region: string;
  accountId: string;
}

/** `arn:aws:states:<region>:<account>:stateMachine:<name>` */
export function stateMachineArn(scope: ArnScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

/** `arn:aws:states:<region>:<account>:execution:<machine>:<name>` */
export function executionArn(scope: ArnScope, machineName: string, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:execution:${machineName}:${name}`;
}

/**
 * One machine per configured definition, by ARN: validated once and kept ready to run (the
 * interpreter validates each definition text once per process; building one costs 0.2–0.4 s).
 */
export function buildMachines(
  config: Pick<EngineConfig, 'stateMachines' | 'log'> & ArnScope,
): Map<string, Machine> {
  const machines = new Map<string, Machine>();
  const createdMs = Date.now();
  for (const { name, definition } of config.stateMachines) {
    const parsed: unknown = JSON.parse(definition);
    if (!isObject(parsed)) throw new Error(`state machine ${name}: definition is not an object`);
    let interpreter: Interpreter;
    try {
      interpreter = createInterpreter(parsed);
    } catch (error) {
      throw new Error(`state machine ${name}: ${(error as Error).message}`, { cause: error });
    }
    const problems = lintDefinition(definition);
    // Resuming after a crash relies on these rules (e.g. token waits at the top level): say so loudly.
    if (problems.length > 0) config.log('state machine definition has lint problems', { name, problems });
    const tasks = new Map<string, JsonObject>();
    const waitSeconds = new Map<string, number>();
    for (const { name: stateName, state } of walkStates(parsed)) {
      if (state.Type === 'Task') tasks.set(stateName, state);
      if (state.Type === 'Wait' && typeof state.Seconds === 'number')
        waitSeconds.set(stateName, state.Seconds);
    }
    const arn = stateMachineArn(config, name);
    machines.set(arn, {
      name,
      arn,
      definition,
      interpreter,
      tasks,
      waitSeconds,
      timeoutSeconds: typeof parsed.TimeoutSeconds === 'number' ? parsed.TimeoutSeconds : undefined,
      createdMs,
    });
  }
  return machines;
}
