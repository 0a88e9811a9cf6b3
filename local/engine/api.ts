import type { Engine, Execution, Machine } from './engine.ts';
import { SfnApiError } from './errors.ts';
import type { StoredEvent } from './history.ts';
import { isObject, type JsonObject } from './resources.ts';

/** One Step Functions action: the request body in, the response body out; throws SfnApiError. */
export type ActionHandler = (body: JsonObject) => Promise<JsonObject>;

const STATUSES = new Set(['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT', 'PENDING_REDRIVE']);
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;
const NAME_FORBIDDEN = new Set('<>{}[]?*"#%\\^|~`$&,;:/');
const MAX_PAYLOAD = 262_144;

/** The AWS JSON 1.0 actions the local engine serves, by name (`X-Amz-Target: AWSStepFunctions.<name>`). */
export function createActions(engine: Engine): Record<string, ActionHandler> {
  const machineOf = (body: JsonObject): Machine => {
    const arn = requireString(body, 'stateMachineArn');
    if (!STATE_MACHINE_ARN.test(arn)) throw new SfnApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = engine.machines.get(arn);
    if (!machine) throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  };
  const executionOf = (body: JsonObject): Execution => {
    const arn = requireString(body, 'executionArn');
    if (!EXECUTION_ARN.test(arn)) throw new SfnApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const exec = engine.executions.get(arn);
    if (!exec) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return exec;
  };
  const tokenOf = (body: JsonObject): string => {
    const token = requireString(body, 'taskToken');
    if (token.length > 2048) throw new SfnApiError('InvalidToken', 'Invalid Token');
    return token;
  };

  return {
    async StartExecution(body) {
      const machine = machineOf(body);
      const name = optionalString(body, 'name') ?? crypto.randomUUID();
      checkName(name);
      const input = optionalString(body, 'input') ?? '{}';
      if (Buffer.byteLength(input) > MAX_PAYLOAD) {
        throw new SfnApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: too large');
      }
      if (!isJson(input)) {
        throw new SfnApiError(
          'InvalidExecutionInput',
          `Invalid State Machine Execution Input: '${input.slice(0, 200)}'`,
        );
      }
      const exec = await engine.startExecution(machine, name, input);
      return { executionArn: exec.arn, startDate: seconds(exec.startMs) };
    },

    async DescribeExecution(body) {
      const exec = executionOf(body);
      return describeExecution(exec);
    },

    async ListExecutions(body) {
      const machine = machineOf(body);
      const statusFilter = optionalString(body, 'statusFilter');
      if (statusFilter !== undefined && !STATUSES.has(statusFilter)) {
        throw new SfnApiError('ValidationException', `Invalid statusFilter: '${statusFilter}'`);
      }
      const executions = [...engine.executions.values()]
        .filter((exec) => exec.machineArn === machine.arn && (!statusFilter || exec.status === statusFilter))
        .sort((a, b) => b.startMs - a.startMs || b.seq - a.seq)
        .map((exec) => ({
          executionArn: exec.arn,
          stateMachineArn: exec.machineArn,
          name: exec.name,
          status: exec.status,
          startDate: seconds(exec.startMs),
          ...(exec.stopMs !== undefined && { stopDate: seconds(exec.stopMs) }),
        }));
      const page = paginate(executions, body);
      return { executions: page.items, ...(page.nextToken && { nextToken: page.nextToken }) };
    },

    async GetExecutionHistory(body) {
      const exec = executionOf(body);
      const reverse = optionalBoolean(body, 'reverseOrder') ?? false;
      const includeData = optionalBoolean(body, 'includeExecutionData') ?? true;
      const events = engine.history(exec).map((event) => historyEvent(event, includeData));
      if (reverse) events.reverse();
      const page = paginate(events, body);
      return { events: page.items, ...(page.nextToken && { nextToken: page.nextToken }) };
    },

    async StopExecution(body) {
      const exec = executionOf(body);
      const error = optionalString(body, 'error', 256);
      const cause = optionalString(body, 'cause', 32_768);
      await engine.stopExecution(exec, error, cause);
      return { stopDate: seconds(exec.stopMs ?? Date.now()) };
    },

    async ListStateMachines(body) {
      const machines = [...engine.machines.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((machine) => ({
          stateMachineArn: machine.arn,
          name: machine.name,
          type: 'STANDARD',
          creationDate: seconds(machine.createdMs),
        }));
      const page = paginate(machines, body);
      return { stateMachines: page.items, ...(page.nextToken && { nextToken: page.nextToken }) };
    },

    async DescribeStateMachine(body) {
      const machine = machineOf(body);
      return {
        stateMachineArn: machine.arn,
        name: machine.name,
        status: 'ACTIVE',
        definition: machine.definition,
        roleArn: engine.roleArn,
        type: 'STANDARD',
        creationDate: seconds(machine.createdMs),
      };
    },

    async DescribeStateMachineForExecution(body) {
      const exec = executionOf(body);
      const machine = exec.machine;
      if (!machine) {
        throw new SfnApiError(
          'StateMachineDoesNotExist',
          `State Machine Does Not Exist: '${exec.machineArn}'`,
        );
      }
      return {
        stateMachineArn: machine.arn,
        name: machine.name,
        definition: machine.definition,
        roleArn: engine.roleArn,
        updateDate: seconds(machine.createdMs),
      };
    },

    async SendTaskSuccess(body) {
      const token = tokenOf(body);
      const output = requireString(body, 'output');
      if (Buffer.byteLength(output) > MAX_PAYLOAD)
        throw new SfnApiError('InvalidOutput', 'Invalid Output: too large');
      if (!isJson(output)) throw new SfnApiError('InvalidOutput', 'Invalid Output: not JSON');
      await engine.sendTaskSuccess(token, output);
      return {};
    },

    async SendTaskFailure(body) {
      const token = tokenOf(body);
      const error = optionalString(body, 'error', 256) ?? '';
      const cause = optionalString(body, 'cause', 32_768) ?? '';
      await engine.sendTaskFailure(token, error, cause);
      return {};
    },

    async SendTaskHeartbeat(body) {
      await engine.sendTaskHeartbeat(tokenOf(body));
      return {};
    },
  };
}

function describeExecution(exec: Execution): JsonObject {
  return {
    executionArn: exec.arn,
    stateMachineArn: exec.machineArn,
    name: exec.name,
    status: exec.status,
    startDate: seconds(exec.startMs),
    ...(exec.stopMs !== undefined && { stopDate: seconds(exec.stopMs) }),
    input: exec.input,
    inputDetails: { included: true },
    ...(exec.output !== undefined && { output: exec.output, outputDetails: { included: true } }),
    ...(exec.error !== undefined && { error: exec.error }),
    ...(exec.cause !== undefined && { cause: exec.cause }),
  };
}

/** The AWS shape of a history event: details sit under `<camelCaseType>EventDetails`. */
function historyEvent(event: StoredEvent, includeData: boolean): JsonObject {
  const out: JsonObject = {
    timestamp: seconds(event.timestamp),
    type: event.type,
    id: event.id,
    previousEventId: event.id - 1,
  };
  const key = detailsKey(event.type);
  if (key) {
    const details = { ...event.details };
    if (!includeData) {
      for (const field of ['input', 'inputDetails', 'output', 'outputDetails', 'parameters'])
        delete details[field];
    }
    out[key] = details;
  }
  return out;
}

function detailsKey(type: string): string | undefined {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  if (type === 'LambdaFunctionStarted') return undefined;
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

function paginate<T>(items: T[], body: JsonObject): { items: T[]; nextToken?: string } {
  const max = body.maxResults;
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 1000)) {
    throw new SfnApiError('ValidationException', 'maxResults must be an integer between 0 and 1000');
  }
  const size = typeof max === 'number' && max > 0 ? max : 100;
  let offset = 0;
  const token = optionalString(body, 'nextToken');
  if (token !== undefined) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (!isObject(parsed) || typeof parsed.o !== 'number' || parsed.o < 0) throw new Error('bad token');
      offset = parsed.o;
    } catch {
      throw new SfnApiError('InvalidToken', 'Invalid Token');
    }
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size;
  return {
    items: page,
    ...(next < items.length && { nextToken: Buffer.from(JSON.stringify({ o: next })).toString('base64url') }),
  };
}

function checkName(name: string): void {
  let ok = name.length >= 1 && name.length <= 80;
  for (const char of name) {
    if (!ok) break;
    const code = char.codePointAt(0) ?? 0;
    ok = !(
      NAME_FORBIDDEN.has(char) ||
      /\s/u.test(char) ||
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      code > 0xffff ||
      (code >= 0xd800 && code <= 0xdfff)
    );
  }
  if (!ok) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
}

function requireString(body: JsonObject, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SfnApiError(
      'ValidationException',
      `1 validation error detected: '${key}' must be a non-empty string`,
    );
  }
  return value;
}

function optionalString(body: JsonObject, key: string, maxLength?: number): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SfnApiError('ValidationException', `'${key}' must be a string`);
  if (maxLength !== undefined && value.length > maxLength) {
    throw new SfnApiError('ValidationException', `'${key}' must be at most ${maxLength} characters`);
  }
  return value;
}

function optionalBoolean(body: JsonObject, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new SfnApiError('ValidationException', `'${key}' must be a boolean`);
  return value;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function seconds(ms: number): number {
  return ms / 1000;
}
