import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor } from './approvals/types.ts';
import type { Platform } from './config.ts';
import { documentClient, putIfAbsent, queryIndex } from './db.ts';
import { ConflictError } from './errors.ts';

/** `deployed` until rolled back; `failed` when promotion failed (and the aliases were restored). */
export type DeploymentStatus = 'deployed' | 'failed' | 'rolled-back';

/** One alias a deployment moved: from the version it had (origin) to the version it was given (target). */
export interface DeployedFunction {
  functionName: string;
  /** The alias (the environment's name). */
  alias: string;
  fromVersion: string;
  toVersion: string;
}

export interface DeploymentApprover {
  user: string;
  name: string;
  platform: Platform;
}

/**
 * A deployment record: which aliases moved where, who asked, who approved, and how it ended.
 *
 * @example { deployId: 'deploy-test-3f2a…', environment: 'test', source: 'dev', status: 'deployed', functions: [{ functionName: 'orders', alias: 'test', fromVersion: '3', toVersion: '4' }], … }
 */
export interface Deployment {
  deployId: string;
  environment: string;
  source: string;
  functions: DeployedFunction[];
  requester: Actor;
  approvers: DeploymentApprover[];
  executionArn: string;
  requestedAt: string;
  approvedAt?: string;
  finishedAt: string;
  status: DeploymentStatus;
  /** Why it failed, and what was restored. */
  error?: string;
  rollback?: {
    executionArn: string;
    requester: Actor;
    approvers: DeploymentApprover[];
    at: string;
  };
}

export interface DeploymentStore {
  /** Write a deployment once; a second call with the same id returns the first (created: false). */
  record(deployment: Deployment): Promise<{ deployment: Deployment; created: boolean }>;
  get(deployId: string): Promise<Deployment | undefined>;
  /** Deployments to one environment, newest first. */
  forEnvironment(environment: string, options?: { limit?: number }): Promise<Deployment[]>;
  /** Deployments in one status across environments, newest first (`deployed`: what can be rolled back). */
  withStatus(status: DeploymentStatus, options?: { limit?: number }): Promise<Deployment[]>;
  /**
   * Mark a deployment rolled back, only while it is `deployed`. Repeating it for the same
   * rollback execution is a no-op that answers `true`; another rollback got there first: `false`.
   */
  markRolledBack(deployId: string, rollback: NonNullable<Deployment['rollback']>): Promise<boolean>;
  /** The newest deployment that moved aliases (deployed or later rolled back) per environment. */
  lastPerEnvironment(environments: string[]): Promise<Record<string, Deployment | undefined>>;
}

const PK = (id: string) => `DEPLOY#${id}`;
const SK = 'DEPLOY';
const BY_ENV = (environment: string) => `DEPLOYS#ENV#${environment}`;
const BY_STATUS = (status: DeploymentStatus) => `DEPLOYS#STATUS#${status}`;
const INTERNAL = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'];

/** The item: base key by id, gsi1 by environment and time, gsi2 by status and time. */
export function deploymentItem(deployment: Deployment): Record<string, unknown> {
  const sortKey = `${deployment.finishedAt}#${deployment.deployId}`;
  return {
    ...deployment,
    pk: PK(deployment.deployId),
    sk: SK,
    gsi1pk: BY_ENV(deployment.environment),
    gsi1sk: sortKey,
    gsi2pk: BY_STATUS(deployment.status),
    gsi2sk: sortKey,
  };
}

function fromItem(item: Record<string, unknown>): Deployment {
  const deployment = { ...item };
  for (const key of INTERNAL) delete deployment[key];
  return deployment as unknown as Deployment;
}

/** Deployment records in the single table; Query only, conditional single-item writes. */
export function createDeploymentStore(client: DynamoDBClient, tableName: string): DeploymentStore {
  const db = documentClient(client);

  async function query(index: 'gsi1' | 'gsi2', pk: string, limit: number): Promise<Deployment[]> {
    return (await queryIndex(db, tableName, index, pk, { limit })).map(fromItem);
  }

  async function get(deployId: string): Promise<Deployment | undefined> {
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: PK(deployId), sk: SK }, ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  return {
    async record(deployment) {
      const { value, created } = await putIfAbsent(
        db,
        tableName,
        deploymentItem(deployment),
        deployment,
        () => get(deployment.deployId),
      );
      return { deployment: value, created };
    },

    get,

    forEnvironment(environment, options) {
      return query('gsi1', BY_ENV(environment), options?.limit ?? 20);
    },

    withStatus(status, options) {
      return query('gsi2', BY_STATUS(status), options?.limit ?? 20);
    },

    async markRolledBack(deployId, rollback) {
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: PK(deployId), sk: SK },
            UpdateExpression: 'SET #status = :rolledBack, gsi2pk = :gsi2pk, #rollback = :rollback',
            ConditionExpression: 'attribute_exists(pk) AND #status = :deployed',
            ExpressionAttributeNames: { '#status': 'status', '#rollback': 'rollback' },
            ExpressionAttributeValues: {
              ':rolledBack': 'rolled-back',
              ':deployed': 'deployed',
              ':gsi2pk': BY_STATUS('rolled-back'),
              ':rollback': rollback,
            },
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const current = await get(deployId);
        return current?.status === 'rolled-back' && current.rollback?.executionArn === rollback.executionArn;
      }
    },

    async lastPerEnvironment(environments) {
      const out: Record<string, Deployment | undefined> = {};
      await Promise.all(
        environments.map(async (environment) => {
          // Failed deployments moved nothing in the end; the newest that did is a few items in at most.
          const recent = await query('gsi1', BY_ENV(environment), 25);
          out[environment] = recent.find((d) => d.status !== 'failed');
        }),
      );
      return out;
    },
  };
}

/** The deployment cannot be rolled back as asked (unknown, failed, already rolled back, or changed since). */
export class DeploymentStateError extends ConflictError {}
