import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { documentClient, queryIndex } from './db.ts';
import type { EngineClient } from './engine.ts';

/** The pipeline statuses that end a release (GitLab's `object_attributes.status`). */
export const FINAL_PIPELINE_STATUSES = ['success', 'failed', 'canceled', 'skipped'] as const;
export type FinalPipelineStatus = (typeof FINAL_PIPELINE_STATUSES)[number];

export function isFinalStatus(status: string): status is FinalPipelineStatus {
  return (FINAL_PIPELINE_STATUSES as readonly string[]).includes(status);
}

/** How a pipeline ended, as the waiting execution receives it (`$.pipeline`). */
export const PipelineResult = z.object({
  pipelineId: z.number().int().positive(),
  status: z.enum(FINAL_PIPELINE_STATUSES),
  /** Seconds GitLab reports the pipeline ran. */
  duration: z.number().nullish(),
  finishedAt: z.string().nullish(),
  webUrl: z.string().max(2048).nullish(),
  /** The first failed job's name (from the hook's `builds[]`). */
  failedJob: z.string().max(255).nullish(),
  /** Who reported it: the Pipeline Hook, or the reconciler asking GitLab. */
  via: z.enum(['hook', 'reconciler']),
});
export type PipelineResult = z.infer<typeof PipelineResult>;

/** A pipeline Signoff created and waits for (its task token never leaves this store). */
export interface PipelineRun {
  pipelineId: number;
  executionArn: string;
  approvalId: string;
  release: string;
  project: string;
  ref: string;
  sha: string;
  webUrl?: string;
  createdAt: string;
}

/** What the store holds about one pipeline id: the run (once stored), the result (once known), whether resumed. */
export interface PipelineRecord {
  pipelineId: number;
  run?: PipelineRun;
  result?: PipelineResult;
  resumedAt?: string;
  /** Only inside this module and the resume: never returned to a route or a card. */
  taskToken?: string;
}

/**
 * Pipeline id → task token, and what each pipeline ended as. A result and a token may arrive in
 * either order (a Pipeline Hook can overtake the task that stores the id): whichever write comes
 * second sees both, and one conditional write claims the resume.
 *
 * @example const record = await pipelines.wait(run, taskToken); await resumeWhenReady(pipelines, engine, record, now);
 */
export interface PipelineStore {
  /** The pipeline an execution already created (a retried task must not create a second). */
  runOf(executionArn: string): Promise<number | undefined>;
  rememberRun(executionArn: string, pipelineId: number): Promise<void>;
  /** Store the run and its token; returns the record as written (with a result that came first). */
  wait(run: PipelineRun, taskToken: string): Promise<PipelineRecord>;
  /** Keep a final result (the first one wins); returns the record as it is after the write. */
  record(result: PipelineResult, now: Date): Promise<PipelineRecord>;
  /** The one write that may resume: false when someone already did. */
  claimResume(pipelineId: number, now: Date): Promise<boolean>;
  /** Give a claim back (the engine could not be reached): the reconciler tries again. */
  releaseResume(pipelineId: number): Promise<void>;
  get(pipelineId: number): Promise<PipelineRecord | undefined>;
  /** Runs still waiting for their pipeline, oldest first (the reconciler's list). */
  waiting(limit?: number): Promise<PipelineRun[]>;
  /** Mark a run's release as ended with `status` (successful ones are listed by `successes`). */
  finished(run: PipelineRun, result: PipelineResult): Promise<void>;
  /** A release's successful runs, newest first (last successful release; rollback). */
  successes(release: string, limit?: number): Promise<Array<PipelineRun & { finishedAt: string }>>;
}

const PK = (id: number) => `PIPELINE#${id}`;
/** A result for a pipeline nobody waits for (yet) is kept this long, then it is data to ignore. */
const KEEP_UNCLAIMED_SECONDS = 7 * 24 * 3600;

function toRecord(item: Record<string, unknown> | undefined): PipelineRecord | undefined {
  if (!item) return undefined;
  return {
    pipelineId: Number(item.pipelineId),
    ...(item.run ? { run: item.run as PipelineRun } : {}),
    ...(item.result ? { result: item.result as PipelineResult } : {}),
    ...(typeof item.resumedAt === 'string' ? { resumedAt: item.resumedAt } : {}),
    ...(typeof item.taskToken === 'string' ? { taskToken: item.taskToken } : {}),
  };
}

/** The pipeline store on the signoff table: single-item conditional writes (no transactions). */
export function createPipelineStore(client: DynamoDBClient, tableName: string): PipelineStore {
  const db = documentClient(client);
  const key = (id: number) => ({ pk: PK(id), sk: 'PIPELINE' });

  async function update(
    id: number,
    expression: string,
    values: Record<string, unknown>,
    condition?: string,
    names?: Record<string, string>,
  ): Promise<PipelineRecord | undefined> {
    try {
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(id),
          UpdateExpression: expression,
          ...(condition ? { ConditionExpression: condition } : {}),
          ...(names ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(out.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  const store: PipelineStore = {
    async runOf(executionArn) {
      const out = await db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: `RUN#${executionArn}`, sk: 'PIPELINE' },
          ConsistentRead: true,
        }),
      );
      return typeof out.Item?.pipelineId === 'number' ? out.Item.pipelineId : undefined;
    },

    async rememberRun(executionArn, pipelineId) {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `RUN#${executionArn}`, sk: 'PIPELINE', pipelineId },
        }),
      );
    },

    async wait(run, taskToken) {
      const written = await update(
        run.pipelineId,
        'SET pipelineId = :id, run = :run, taskToken = :token, gsi1pk = :waiting, gsi1sk = :sort REMOVE expiresAt',
        {
          ':id': run.pipelineId,
          ':run': run,
          ':token': taskToken,
          ':waiting': 'PIPELINES#waiting',
          ':sort': `${run.createdAt}#${run.pipelineId}`,
        },
      );
      return written ?? { pipelineId: run.pipelineId };
    },

    async record(result, now) {
      const written = await update(
        result.pipelineId,
        'SET pipelineId = :id, #result = :result, expiresAt = if_not_exists(expiresAt, :expires)',
        {
          ':id': result.pipelineId,
          ':result': result,
          ':expires': Math.floor(now.getTime() / 1000) + KEEP_UNCLAIMED_SECONDS,
        },
        'attribute_not_exists(#result)',
        { '#result': 'result' },
      );
      return written ?? (await store.get(result.pipelineId)) ?? { pipelineId: result.pipelineId };
    },

    async claimResume(pipelineId, now) {
      const claimed = await update(
        pipelineId,
        'SET resumedAt = :now REMOVE gsi1pk, gsi1sk',
        { ':now': now.toISOString() },
        'attribute_exists(taskToken) AND attribute_exists(#result) AND attribute_not_exists(resumedAt)',
        { '#result': 'result' },
      );
      return claimed !== undefined;
    },

    async releaseResume(pipelineId) {
      const current = await store.get(pipelineId);
      if (!current?.run) return;
      await update(pipelineId, 'SET gsi1pk = :waiting, gsi1sk = :sort REMOVE resumedAt', {
        ':waiting': 'PIPELINES#waiting',
        ':sort': `${current.run.createdAt}#${pipelineId}`,
      });
    },

    async get(pipelineId) {
      const out = await db.send(
        new GetCommand({ TableName: tableName, Key: key(pipelineId), ConsistentRead: true }),
      );
      return toRecord(out.Item);
    },

    async waiting(limit = 100) {
      const items = await queryIndex(db, tableName, 'gsi1', 'PIPELINES#waiting', { limit, forward: true });
      return items.map((item) => item.run as PipelineRun).filter(Boolean);
    },

    async finished(run, result) {
      if (result.status !== 'success') return;
      const at = result.finishedAt ?? new Date().toISOString();
      await update(run.pipelineId, 'SET gsi2pk = :list, gsi2sk = :sort, finishedAt = :at', {
        ':list': `RELEASES#${run.release}#success`,
        ':sort': `${at}#${run.pipelineId}`,
        ':at': at,
      });
    },

    async successes(release, limit = 10) {
      const items = await queryIndex(db, tableName, 'gsi2', `RELEASES#${release}#success`, { limit });
      return items
        .filter((item) => item.run)
        .map((item) => ({ ...(item.run as PipelineRun), finishedAt: String(item.finishedAt ?? '') }));
    },
  };
  return store;
}

/**
 * Resume the execution waiting on this pipeline once both its token and its result are stored,
 * exactly once (one conditional write claims it). `waiting`: no token or no result yet;
 * `duplicate`: resumed before; `resumed`; `stale`: the task had ended (timed out).
 */
export async function resumeWhenReady(
  store: PipelineStore,
  engine: Pick<EngineClient, 'succeed'>,
  record: PipelineRecord,
  now: Date,
): Promise<'waiting' | 'duplicate' | 'resumed' | 'stale'> {
  if (record.resumedAt) return 'duplicate';
  if (!record.taskToken || !record.result) return 'waiting';
  if (!(await store.claimResume(record.pipelineId, now))) return 'duplicate';
  try {
    const delivery = await engine.succeed(record.taskToken, record.result);
    return delivery === 'delivered' ? 'resumed' : 'stale';
  } catch (error) {
    await store.releaseResume(record.pipelineId);
    throw error;
  }
}
