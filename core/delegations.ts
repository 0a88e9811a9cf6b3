import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor } from './approvals/types.ts';
import type { Config } from './config.ts';
import { batchGetAll, documentClient, queryIndex } from './db.ts';
import { ForbiddenError, InvalidInputError } from './errors.ts';

/** The longest a delegation may run: 90 days from when it is set. */
export const MAX_DELEGATION_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * An approver away: until `until`, the cards of new approvals go to `to`, who may decide in
 * their place (docs/delegation.md). Active while not ended and `until` is still ahead: expiry is
 * data checked at read time (the embedded DynamoDB has no TTL).
 *
 * @example { user: 'alice', to: 'carol', until: '2026-12-25T00:00:00.000Z', since: '2026-12-01T09:00:00.000Z', by: alice, version: 1 }
 */
export interface Delegation {
  /** The approver who is away (user key). */
  user: string;
  /** Who decides in their place (user key). */
  to: string;
  until: string;
  /** When it was set, and by whom (the verified identity). */
  since: string;
  by: Actor;
  /** When `delegate off` ended it before `until`. */
  endedAt?: string;
  version: number;
}

export interface DelegationStore {
  /** The user's delegation as stored (active or not). */
  get(user: string): Promise<Delegation | undefined>;
  /**
   * Write the user's delegation if the stored one is still at `expectedVersion` (0: none stored);
   * false when someone wrote first (read again and retry).
   */
  put(delegation: Delegation, expectedVersion: number): Promise<boolean>;
  /** End it at `at` if it is still at `expectedVersion`; the ended delegation, or undefined when the condition failed. */
  end(user: string, at: string, expectedVersion: number): Promise<Delegation | undefined>;
  /** The active delegations of these users at `now`, by user. */
  activeOf(users: string[], now: Date): Promise<Map<string, Delegation>>;
  /** The active delegations to one person at `now` (whose seats they hold). */
  activeTo(user: string, now: Date): Promise<Delegation[]>;
}

/** Whether a delegation holds at `now`: not ended, `until` still ahead. */
export function isActive(delegation: Delegation | undefined, now: Date): delegation is Delegation {
  return delegation !== undefined && !delegation.endedAt && Date.parse(delegation.until) > now.getTime();
}

const PK = (user: string) => `DELEGATION#${user}`;
const INTERNAL = ['pk', 'sk', 'gsi2pk', 'gsi2sk'];

function fromItem(item: Record<string, unknown>): Delegation {
  const delegation = { ...item };
  for (const key of INTERNAL) delete delegation[key];
  return delegation as unknown as Delegation;
}

/**
 * Delegations on DynamoDB, one item per approver (`DELEGATION#<user>`), written with conditional
 * single-item writes; gsi2 (`DELEGATE#<to>`) answers "whose seats does this person hold".
 */
export function createDelegationStore(client: DynamoDBClient, tableName: string): DelegationStore {
  const db = documentClient(client);

  async function get(user: string): Promise<Delegation | undefined> {
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: PK(user), sk: 'DELEGATION' }, ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  return {
    get,

    async put(delegation, expectedVersion) {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...delegation,
              pk: PK(delegation.user),
              sk: 'DELEGATION',
              gsi2pk: `DELEGATE#${delegation.to}`,
              gsi2sk: delegation.user,
            },
            ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : '#version = :expected',
            ...(expectedVersion === 0
              ? {}
              : {
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':expected': expectedVersion },
                }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    async end(user, at, expectedVersion) {
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: PK(user), sk: 'DELEGATION' },
            // Kept (with when it ended) rather than deleted: the table grants no DeleteItem.
            UpdateExpression: 'SET endedAt = :at, #version = :next REMOVE gsi2pk, gsi2sk',
            ConditionExpression: '#version = :expected AND attribute_not_exists(endedAt)',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: {
              ':at': at,
              ':expected': expectedVersion,
              ':next': expectedVersion + 1,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return out.Attributes ? fromItem(out.Attributes) : undefined;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },

    async activeOf(users, now) {
      // One BatchGetItem for every approver (a decision asks for all of its policy's), not a
      // GetItem each: fewer round trips on the busiest path.
      const keys = users.map((user) => ({ pk: PK(user), sk: 'DELEGATION' }));
      const found = (await batchGetAll(db, tableName, keys)).map(fromItem);
      return new Map(found.filter((d) => isActive(d, now)).map((d) => [d.user, d]));
    },

    async activeTo(user, now) {
      const items = await queryIndex(db, tableName, 'gsi2', `DELEGATE#${user}`, { limit: 1000 });
      return items.map(fromItem).filter((d) => isActive(d, now));
    },
  };
}

/**
 * When a delegation ends, as people write it: a date (`2026-12-24`, `2026/12/24`,
 * `2026年12月24日`) means through that day, UTC (so until 00:00 UTC the next day); a time with
 * its zone (`2026-12-24T18:00:00Z`, `…+09:00`) means that moment.
 */
export function parseUntil(text: string): Date {
  const value = text.normalize('NFKC').trim();
  const day = /^(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?$/.exec(value);
  if (day) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const start = new Date(Date.UTC(year, month - 1, date));
    if (start.getUTCFullYear() === year && start.getUTCMonth() === month - 1 && start.getUTCDate() === date)
      return new Date(start.getTime() + DAY_MS);
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new InvalidInputError(
    `"${value.slice(0, 40)}" is not a date: write 2026-12-24 (through that day, UTC) or 2026-12-24T18:00:00Z`,
    { code: 'BadUntil' },
  );
}

/** The refusal when `until` is not in the next 90 days. */
export function checkUntil(until: Date, now: Date): void {
  if (until.getTime() <= now.getTime())
    throw new InvalidInputError(`until must be in the future (it is ${until.toISOString()})`, {
      code: 'UntilNotFuture',
    });
  const latest = new Date(now.getTime() + MAX_DELEGATION_DAYS * DAY_MS);
  if (until.getTime() > latest.getTime())
    throw new InvalidInputError(
      `a delegation lasts at most ${MAX_DELEGATION_DAYS} days: until ${latest.toISOString()} at the latest`,
      { code: 'UntilTooFar' },
    );
}

/** Whether the user approves something here: any policy or override names them, or a group a policy escalates to. */
export function isApproverAnywhere(config: Config, user: string): boolean {
  for (const policy of Object.values(config.policies)) {
    if (!policy) continue;
    const scopes = [policy, ...Object.values(policy.overrides)];
    if (scopes.some((scope) => scope.approvers?.includes(user))) return true;
    const groups = scopes.flatMap((scope) => scope.escalate?.to ?? []);
    if (groups.some((group) => config.groups[group]?.includes(user))) return true;
  }
  return false;
}

/** The configured user a person typed: their key, or their name (either case-insensitively). */
export function findUser(config: Config, typed: string): string | undefined {
  const wanted = typed.normalize('NFKC').trim().replace(/^@/, '').toLowerCase();
  if (!wanted) return undefined;
  if (config.users[wanted]) return wanted;
  return Object.entries(config.users).find(([, user]) => user.name.toLowerCase() === wanted)?.[0];
}

/** Who may delegate: a configured user who approves something here; otherwise a 403 that says so. */
export function checkDelegator(config: Config, actor: Actor): string {
  const user = actor.user;
  if (!user || !config.users[user])
    throw new ForbiddenError('only a configured user can delegate', { code: 'UnknownUser' });
  if (!isApproverAnywhere(config, user))
    throw new ForbiddenError('only an approver can delegate: no policy here names you as an approver', {
      code: 'NotAnApprover',
    });
  return user;
}

/** The delegate a person named: a configured user other than themselves; otherwise a 400 that says so. */
export function checkDelegate(config: Config, user: string, typed: string): string {
  const to = findUser(config, typed);
  if (!to)
    throw new InvalidInputError(`"${typed.slice(0, 64)}" is not a configured user`, {
      code: 'UnknownDelegate',
    });
  if (to === user) throw new InvalidInputError('you cannot delegate to yourself', { code: 'SelfDelegation' });
  return to;
}
