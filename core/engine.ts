import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type ExecutionListItem,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidToken,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
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

/**
 * The only module that talks to Step Functions. The same calls reach AWS or the local engine.
 *
 * @example const engine = createEngineClient({ region: 'us-east-1', accountId: '123456789012' });
 */
export interface EngineClient {
  stateMachineArn(kind: WorkflowKind): string;
  executionArn(kind: WorkflowKind, name: string): string;
  start(kind: WorkflowKind, name: string, input: unknown): Promise<StartResult>;
  succeed(taskToken: string, output: unknown): Promise<DeliveryResult>;
  fail(taskToken: string, error: string, cause: string): Promise<DeliveryResult>;
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

export function createEngineClient(config: EngineConfig, client?: SFNClient): EngineClient {
  const sfn =
    client ??
    new SFNClient({ region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) });
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
      const out = await sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: this.stateMachineArn(kind),
          statusFilter: options.status,
          maxResults: options.limit ?? 50,
          nextToken: options.cursor,
        }),
      );
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
  };
}
