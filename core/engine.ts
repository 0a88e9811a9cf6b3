import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type ExecutionListItem,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { WorkflowKind } from './config.ts';

export interface EngineConfig {
  region: string;
  accountId: string;
  /** State machines are named `${prefix}<kind>`; default `signoff-`. */
  stateMachinePrefix?: string;
  /** Override the endpoint (the local engine); otherwise the SDK's own resolution applies. */
  endpoint?: string;
  /** Fixed credentials (the local engine accepts any); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * `started`: an execution of that name is running with this input — new, or (Step Functions'
 * idempotency for standard workflows) the one a redelivered trigger already started, in which
 * case `startDate` is the original's. `started: false`: a closed execution has the name.
 */
export type StartResult =
  | { started: true; executionArn: string; startDate: Date }
  | { started: false; executionArn: string };

/** How a task token delivery ended: `stale` when the task was already over (a late second click). */
export type DeliveryResult = 'delivered' | 'stale';

/** A state machine Signoff runs: a workflow kind, or `reminders` (one execution per approval, named by its id). */
export type MachineName = WorkflowKind | 'reminders';

/**
 * The only module that talks to Step Functions. The same calls reach AWS or the local engine.
 *
 * @example const engine = createEngineClient({ region: 'us-east-1', accountId: '123456789012' });
 */
export interface EngineClient {
  stateMachineArn(kind: MachineName): string;
  executionArn(kind: MachineName, name: string): string;
  start(kind: MachineName, name: string, input: unknown): Promise<StartResult>;
  succeed(taskToken: string, output: unknown): Promise<DeliveryResult>;
  fail(taskToken: string, error: string, cause: string): Promise<DeliveryResult>;
  /** SendTaskHeartbeat: a task that waits long (a release's pipeline) is still alive. */
  heartbeat?(taskToken: string): Promise<DeliveryResult>;
  stop(executionArn: string, error: string, cause: string): Promise<void>;
  describe(executionArn: string): Promise<DescribeExecutionCommandOutput | undefined>;
  list(
    kind: WorkflowKind,
    options?: { status?: ExecutionStatus; limit?: number; cursor?: string },
  ): Promise<{
    executions: ExecutionListItem[];
    cursor?: string;
  }>;
  history(executionArn: string): Promise<HistoryEvent[]>;
}

/**
 * Reading state machine definitions (the console draws them). Kept apart from EngineClient so
 * callers that only start and resume executions need not provide it.
 *
 * @example const asl = await engine.definitionFor(executionArn);
 */
export interface StateMachineReader {
  /**
   * The ASL definition an execution runs (DescribeStateMachineForExecution: the version it
   * started with, even after an update), or undefined for an unknown execution.
   */
  definitionFor(executionArn: string): Promise<string | undefined>;
  /** The current ASL definition of a kind's state machine, or undefined when it is not deployed. */
  definition(kind: WorkflowKind): Promise<string | undefined>;
}

/**
 * The account that owns Signoff's state machines, read from their ARNs (ListStateMachines), for
 * clients that know the region but not the account (the CLI). Undefined when none is deployed.
 */
export async function findAccountId(config: Omit<EngineConfig, 'accountId'>): Promise<string | undefined> {
  const prefix = config.stateMachinePrefix ?? 'signoff-';
  const sfn = new SFNClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
  try {
    let nextToken: string | undefined;
    do {
      const out = await sfn.send(new ListStateMachinesCommand({ nextToken, maxResults: 1000 }));
      const mine = out.stateMachines?.find((m) => m.name?.startsWith(prefix));
      const account = mine?.stateMachineArn?.split(':')[4];
      if (account) return account;
      nextToken = out.nextToken;
    } while (nextToken);
    return undefined;
  } finally {
    sfn.destroy();
  }
}

/** True when this engine client can also read definitions (every client createEngineClient makes). */
export function canReadDefinitions(engine: EngineClient): engine is EngineClient & StateMachineReader {
  const candidate = engine as Partial<StateMachineReader>;
  return typeof candidate.definitionFor === 'function' && typeof candidate.definition === 'function';
}

/**
 * Settings for every Step Functions client the app makes. `cacheMiddleware`: the SDK resolves
 * a command's middleware stack once per command class instead of on every call (about a fifth
 * of a call's CPU on the local engine, issue #22); nothing here changes a client's middleware
 * after its first call, which is the option's one condition.
 */
export const SFN_CLIENT_DEFAULTS = { cacheMiddleware: true } as const;

export function createEngineClient(
  config: EngineConfig,
  client?: SFNClient,
): EngineClient & StateMachineReader {
  const sfn =
    client ??
    new SFNClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
      ...SFN_CLIENT_DEFAULTS,
    });
  const prefix = config.stateMachinePrefix ?? 'signoff-';
  const base = `arn:aws:states:${config.region}:${config.accountId}`;

  async function deliver(send: () => Promise<unknown>): Promise<DeliveryResult> {
    try {
      await send();
      return 'delivered';
    } catch (error) {
      // The task is over (decided, timed out, or its execution stopped): nothing to resume.
      if (
        error instanceof TaskDoesNotExist ||
        error instanceof TaskTimedOut ||
        error instanceof InvalidToken
      ) {
        return 'stale';
      }
      throw error;
    }
  }

  return {
    stateMachineArn: (kind) => `${base}:stateMachine:${prefix}${kind}`,
    executionArn: (kind, name) => `${base}:execution:${prefix}${kind}:${name}`,

    async start(kind, name, input) {
      try {
        const out = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: this.stateMachineArn(kind),
            name,
            input: JSON.stringify(input),
          }),
        );
        return {
          started: true,
          executionArn: out.executionArn ?? this.executionArn(kind, name),
          startDate: out.startDate ?? new Date(),
        };
      } catch (error) {
        if (error instanceof ExecutionAlreadyExists)
          return { started: false, executionArn: this.executionArn(kind, name) };
        throw error;
      }
    },

    succeed(taskToken, output) {
      return deliver(() =>
        sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
      );
    },

    fail(taskToken, error, cause) {
      return deliver(() => sfn.send(new SendTaskFailureCommand({ taskToken, error, cause })));
    },

    heartbeat(taskToken) {
      return deliver(() => sfn.send(new SendTaskHeartbeatCommand({ taskToken })));
    },

    async stop(executionArn, error, cause) {
      await sfn.send(new StopExecutionCommand({ executionArn, error, cause }));
    },

    async describe(executionArn) {
      try {
        return await sfn.send(new DescribeExecutionCommand({ executionArn }));
      } catch (error) {
        if (error instanceof ExecutionDoesNotExist) return undefined;
        throw error;
      }
    },

    async list(kind, options = {}) {
      const out = await sfn
        .send(
          new ListExecutionsCommand({
            stateMachineArn: this.stateMachineArn(kind),
            statusFilter: options.status,
            maxResults: options.limit ?? 50,
            nextToken: options.cursor,
          }),
        )
        .catch((error: unknown) => {
          // A kind without a deployed state machine has no executions.
          if (error instanceof StateMachineDoesNotExist) return { executions: [], nextToken: undefined };
          throw error;
        });
      return { executions: out.executions ?? [], ...(out.nextToken ? { cursor: out.nextToken } : {}) };
    },

    async history(executionArn) {
      const events: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const out = await sfn.send(
          new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
        );
        events.push(...(out.events ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
      return events;
    },

    async definitionFor(executionArn) {
      try {
        const out = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn }));
        return out.definition;
      } catch (error) {
        if (error instanceof ExecutionDoesNotExist || error instanceof StateMachineDoesNotExist)
          return undefined;
        throw error;
      }
    },

    async definition(kind) {
      try {
        const out = await sfn.send(
          new DescribeStateMachineCommand({ stateMachineArn: this.stateMachineArn(kind) }),
        );
        return out.definition;
      } catch (error) {
        if (error instanceof StateMachineDoesNotExist) return undefined;
        throw error;
      }
    },
  };
}
