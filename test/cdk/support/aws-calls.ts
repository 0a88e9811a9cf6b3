import { AsyncLocalStorage } from 'node:async_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RuntimeScope } from '../../../local/start.ts';

/** Who makes an AWS call: a Signoff function (as it is named in the stack, without the prefix), or the test itself. */
export type Caller = { fn: string; console: boolean } | { harness: true };

/** One AWS API call as the SDK sent it, with the function that made it. */
export interface AwsCall {
  /** `webhooks`, or the task name (`request-approval`); `(unattributed)` when no scope was active. */
  fn: string;
  /** Made while serving `/console/*` (a route that exists on AWS only with `console.allowRemote`). */
  console: boolean;
  /** The IAM service prefix: `dynamodb`, `states`, `lambda`, `support`, `secretsmanager`. */
  service: string;
  /** The API operation, which is also the IAM action name: `PutItem`, `SendTaskSuccess`. */
  operation: string;
  input: Record<string, unknown>;
}

/** SDK service ids (`client.config.serviceId`) by IAM service prefix. */
const IAM_PREFIX: Record<string, string> = {
  DynamoDB: 'dynamodb',
  SFN: 'states',
  Lambda: 'lambda',
  Support: 'support',
  'Secrets Manager': 'secretsmanager',
};

interface SdkClient {
  config: { serviceId?: string };
  send(command: SdkCommand, ...rest: unknown[]): Promise<unknown>;
}

interface SdkCommand {
  input?: Record<string, unknown>;
  /** lib-dynamodb document commands wrap the DynamoDB command they send. */
  clientCommand?: SdkCommand;
}

/**
 * Records every AWS SDK v3 call made in this process, with the function it belongs to. Every
 * client class extends the one smithy `Client`, so wrapping its `send` sees the DynamoDB, Step
 * Functions, Lambda and Support clients alike, whoever built them; lib-dynamodb's document
 * client sends through it once, with the DynamoDB command it wraps. The caller comes from an
 * AsyncLocalStorage scope that local/start.ts opens around each request and each task
 * invocation (`StartOptions.around`).
 */
export function recordAwsCalls() {
  const scope = new AsyncLocalStorage<Caller>();
  const calls: AwsCall[] = [];
  const base = Object.getPrototypeOf(DynamoDBClient.prototype) as SdkClient;
  const original = base.send;
  base.send = function send(this: SdkClient, command: SdkCommand, ...rest: unknown[]) {
    const caller = scope.getStore();
    if (!caller || !('harness' in caller)) {
      const serviceId = this.config.serviceId ?? '?';
      const sent = command.clientCommand ?? command;
      calls.push({
        fn: caller?.fn ?? '(unattributed)',
        console: caller?.console ?? false,
        service: IAM_PREFIX[serviceId] ?? `(unknown service ${serviceId})`,
        operation: (sent.constructor as { name: string }).name.replace(/Command$/, ''),
        input: command.input ?? {},
      });
    }
    return original.call(this, command, ...rest);
  };
  return {
    calls,
    /** For `StartOptions.around`: requests belong to the webhook function; tasks to their own. */
    around<T>(what: RuntimeScope, run: () => Promise<T>): Promise<T> {
      if (what.kind === 'request') {
        return scope.run({ fn: 'webhooks', console: what.path.startsWith('/console') }, run);
      }
      const fn =
        what.functionName
          .split(':')
          .pop()
          ?.replace(/^signoff-/, '') ?? what.functionName;
      return scope.run({ fn, console: false }, run);
    },
    /** Run the test's own SDK calls (reading results) without recording them. */
    harness<T>(run: () => Promise<T>): Promise<T> {
      return scope.run({ harness: true }, run);
    },
    restore() {
      base.send = original;
    },
  };
}

/** Where the local runtime names things, and where the stack does: used to rewrite ARNs and names. */
export interface Placement {
  account: string;
  region: string;
  tableName: string;
  /** State machines are `<prefix><kind>`. */
  stateMachinePrefix: string;
}

/** One call as IAM authorizes it: the action and each resource ARN it names. */
export interface IamRequest {
  fn: string;
  console: boolean;
  action: string;
  resource: string;
}

function rewriteArn(value: string, local: Placement, aws: Placement): string {
  const parts = value.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) throw new Error(`not an ARN: ${value}`);
  if (parts[3] === local.region) parts[3] = aws.region;
  if (parts[4] === local.account) parts[4] = aws.account;
  if (parts[2] === 'states' && (parts[5] === 'stateMachine' || parts[5] === 'execution')) {
    const name = parts[6] ?? '';
    if (!name.startsWith(local.stateMachinePrefix)) throw new Error(`not a Signoff state machine: ${value}`);
    parts[6] = aws.stateMachinePrefix + name.slice(local.stateMachinePrefix.length);
  }
  return parts.join(':');
}

/**
 * The IAM request(s) AWS would authorize for a call, with the local runtime's names moved to
 * the stack's (`aws`): the table name the function's SIGNOFF_TABLE_NAME gives, state machines
 * under its SIGNOFF_STATE_MACHINE_PREFIX, the test account and region. Resource types follow
 * the Service Authorization Reference: DynamoDB item and batch actions name each table (Query
 * the index it reads), Lambda alias and version actions the function, StartExecution the state
 * machine; SendTask*, ListFunctions and every Support action have no resource type (`*`).
 */
export function iamRequestsOf(call: AwsCall, local: Placement, aws: Placement): IamRequest[] {
  const action = `${call.service}:${call.operation}`;
  const one = (resource: string): IamRequest[] => [{ fn: call.fn, console: call.console, action, resource }];
  const input = call.input;
  const table = (name: unknown, index?: unknown) => {
    if (name !== local.tableName)
      throw new Error(`${action} on table ${String(name)}, not the runtime's table`);
    const arn = `arn:aws:dynamodb:${aws.region}:${aws.account}:table/${aws.tableName}`;
    return typeof index === 'string' ? `${arn}/index/${index}` : arn;
  };
  switch (call.service) {
    case 'dynamodb':
      if (input.RequestItems && typeof input.RequestItems === 'object') {
        return Object.keys(input.RequestItems).flatMap((name) => one(table(name)));
      }
      if (Array.isArray(input.TransactItems)) throw new Error(`${action}: transactions are not mapped`);
      return one(table(input.TableName, input.IndexName));
    case 'states': {
      const arn = input.stateMachineArn ?? input.executionArn;
      return one(typeof arn === 'string' ? rewriteArn(arn, local, aws) : '*');
    }
    case 'lambda': {
      const name = input.FunctionName ?? input.Resource;
      if (typeof name !== 'string') return one('*');
      const arn = name.startsWith('arn:')
        ? rewriteArn(name, local, aws)
        : `arn:aws:lambda:${aws.region}:${aws.account}:function:${name}`;
      return one(arn);
    }
    case 'support':
      return one('*');
    case 'secretsmanager':
      return one(String(input.SecretId));
    default:
      throw new Error(`${action}: no resource mapping for service ${call.service}`);
  }
}
