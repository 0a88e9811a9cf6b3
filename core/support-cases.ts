import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor } from './approvals/types.ts';
import { documentClient, putIfAbsent, queryIndex } from './db.ts';
import { IntegrationError } from './errors.ts';

/**
 * AWS Support as the rest of Signoff sees it: the calls it makes (implemented over
 * @aws-sdk/client-support in integrations/support.ts), the errors they end in, and the record
 * of which cases were opened through Signoff, by whom.
 */

export const SEVERITIES = ['low', 'normal', 'high', 'urgent', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The languages AWS Support answers in (CreateCase `language`). */
export const SUPPORT_LANGUAGES = ['en', 'zh', 'ja', 'ko'] as const;
export type SupportLanguage = (typeof SUPPORT_LANGUAGES)[number];

export interface SupportCategory {
  code: string;
  name: string;
}

/** One AWS service as DescribeServices lists it. */
export interface SupportService {
  code: string;
  name: string;
  categories: SupportCategory[];
}

export interface SeverityLevel {
  code: string;
  name: string;
}

/** What CreateCase is sent: exactly the fields the requester gave, plus issue type and language. */
export interface NewSupportCase {
  subject: string;
  body: string;
  serviceCode: string;
  categoryCode: string;
  severityCode: Severity;
  issueType: 'technical' | 'customer-service';
  language: SupportLanguage;
  ccEmailAddresses?: string[];
}

/** A case as DescribeCases returns it (the fields Signoff reads). */
export interface SupportCaseDetails {
  caseId: string;
  displayId?: string;
  subject?: string;
  status?: string;
  serviceCode?: string;
  categoryCode?: string;
  severityCode?: string;
  submittedBy?: string;
  timeCreated?: string;
  ccEmailAddresses?: string[];
  language?: string;
  /** Bodies of the case's recent communications (the first one is the case body), when asked for. */
  communications?: string[];
}

export interface DescribeCasesQuery {
  caseIds?: string[];
  displayId?: string;
  /** ISO time: only cases created at or after it. */
  afterTime?: string;
  includeResolved?: boolean;
  includeCommunications?: boolean;
  /** Stop after this many cases (pages are followed until then). Default 100. */
  limit?: number;
}

/**
 * The AWS Support calls Signoff makes. Errors are the Support*Error classes below.
 *
 * @example const services = await support.describeServices(); // cached
 */
export interface SupportApi {
  /** Every service with its categories (DescribeServices, cached). */
  describeServices(language?: SupportLanguage): Promise<SupportService[]>;
  /** The severity levels this account may use (DescribeSeverityLevels, cached). */
  describeSeverityLevels(language?: SupportLanguage): Promise<SeverityLevel[]>;
  createCase(request: NewSupportCase): Promise<{ caseId: string }>;
  describeCases(query: DescribeCasesQuery): Promise<SupportCaseDetails[]>;
  resolveCase(caseId: string): Promise<{ initialCaseStatus?: string; finalCaseStatus?: string }>;
}

/** An AWS Support call failed. ASL Retry/Catch match on the subclass names. */
export class SupportError extends IntegrationError {}

/** `SubscriptionRequiredException`: the account has no Business, Enterprise On-Ramp or Enterprise Support plan. */
export class SupportPlanRequiredError extends SupportError {
  constructor(options?: ErrorOptions) {
    super(
      'AWS Support refused the call: this account has no Business/Enterprise Support plan ' +
        '(SubscriptionRequiredException). Ask the account owner to subscribe to Business, ' +
        'Enterprise On-Ramp or Enterprise Support, or open the case from the AWS console.',
      { ...options, retryable: false },
    );
  }
}

/** `CaseIdNotFound`: AWS Support has no case with that id in this account. */
export class SupportCaseNotFoundError extends SupportError {
  constructor(caseId: string, options?: ErrorOptions) {
    super(`AWS Support has no case ${caseId} in this account (CaseIdNotFound).`, {
      ...options,
      retryable: false,
    });
  }
}

/** `ThrottlingException`: too many calls; the state machine retries with backoff. */
export class SupportThrottlingError extends SupportError {
  constructor(options?: ErrorOptions) {
    super('AWS Support is throttling calls (ThrottlingException); try again in a minute.', {
      ...options,
      retryable: true,
    });
  }
}

/** `CaseCreationLimitExceeded`: the account opened too many cases recently. */
export class SupportCaseLimitError extends SupportError {
  constructor(options?: ErrorOptions) {
    super(
      'AWS Support refused to open the case: this account reached its case creation limit ' +
        '(CaseCreationLimitExceeded). Wait, or resolve cases you no longer need.',
      { ...options, retryable: false },
    );
  }
}

/** `InternalServerError`, a 5xx, a timeout or a network failure: worth retrying. */
export class SupportUnavailableError extends SupportError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: true });
  }
}

/** Which cases Signoff opened, for whom (one item per request, keyed by its execution name). */
export interface SupportCaseRecord {
  /** The execution name of the request: one case per request. */
  requestId: string;
  executionArn: string;
  /** The requester's user key. */
  user: string;
  requester: Actor;
  subject: string;
  serviceCode: string;
  categoryCode: string;
  severity: Severity;
  /** `creating`: CreateCase may or may not have happened (see tasks/support-case.ts). */
  status: 'creating' | 'opened' | 'resolved';
  caseId?: string;
  displayId?: string;
  /** When the create task first ran (lower bound of the case's creation time). */
  startedAt: string;
  openedAt?: string;
  resolvedAt?: string;
}

export interface SupportCaseStore {
  /** Record that CreateCase is about to be sent; returns the record already there, if any. */
  begin(record: SupportCaseRecord): Promise<{ record: SupportCaseRecord; created: boolean }>;
  get(requestId: string): Promise<SupportCaseRecord | undefined>;
  opened(
    requestId: string,
    caseId: string,
    displayId: string | undefined,
    at: Date,
  ): Promise<SupportCaseRecord>;
  resolved(requestId: string, at: Date): Promise<void>;
  /** A case opened through Signoff, by its case id or its display id. */
  find(id: string): Promise<SupportCaseRecord | undefined>;
  /** A user's cases, newest first: `open` (creating or opened) or `resolved`. */
  forUser(user: string, state: 'open' | 'resolved', limit?: number): Promise<SupportCaseRecord[]>;
}

/** Everything Support-related a task or a command needs. */
export interface SupportDeps {
  api: SupportApi;
  cases: SupportCaseStore;
}

/**
 * The AWS Support Center page of a case. The Support Center addresses cases by their display
 * id (the number shown to people), not by the `case-…` id the API uses.
 *
 * @example supportCenterUrl('1234567890', 'en') // https://support.console.aws.amazon.com/support/home#/case/?displayId=1234567890&language=en
 */
export function supportCenterUrl(displayId: string, language: SupportLanguage = 'en'): string {
  return `https://support.console.aws.amazon.com/support/home#/case/?displayId=${encodeURIComponent(displayId)}&language=${language}`;
}

const ITEM_FIELDS = [
  'requestId',
  'executionArn',
  'user',
  'requester',
  'subject',
  'serviceCode',
  'categoryCode',
  'severity',
  'status',
  'caseId',
  'displayId',
  'startedAt',
  'openedAt',
  'resolvedAt',
] as const;

function fromItem(item: Record<string, unknown>): SupportCaseRecord {
  const record: Record<string, unknown> = {};
  for (const field of ITEM_FIELDS) if (item[field] !== undefined) record[field] = item[field];
  return record as unknown as SupportCaseRecord;
}

function userKey(user: string, state: 'open' | 'resolved'): string {
  return `SUPPORTCASES#${user}#${state}`;
}

/**
 * Support case records in the one table (docs/architecture.md): base `SUPPORTCASE#<request>`;
 * gsi1 the user's open or resolved cases; gsi2 by case id; gsi3 by display id. Query only.
 */
export function createSupportCaseStore(client: DynamoDBClient, tableName: string): SupportCaseStore {
  const db = documentClient(client);
  const key = (requestId: string) => ({ pk: `SUPPORTCASE#${requestId}`, sk: 'SUPPORTCASE' });

  async function get(requestId: string): Promise<SupportCaseRecord | undefined> {
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: key(requestId), ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async function byIndex(index: 'gsi2' | 'gsi3', pk: string): Promise<SupportCaseRecord | undefined> {
    const [item] = await queryIndex(db, tableName, index, pk, { limit: 1, forward: true });
    return item ? fromItem(item) : undefined;
  }

  return {
    async begin(record) {
      const item = {
        ...record,
        ...key(record.requestId),
        gsi1pk: userKey(record.user, 'open'),
        gsi1sk: `${record.startedAt}#${record.requestId}`,
      };
      const { value, created } = await putIfAbsent(db, tableName, item, record, () => get(record.requestId));
      return { record: value, created };
    },
    get,
    async opened(requestId, caseId, displayId, at) {
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(requestId),
          UpdateExpression: `SET #status = :opened, caseId = :caseId, openedAt = :at, gsi2pk = :g2, gsi2sk = :sk${
            displayId ? ', displayId = :displayId, gsi3pk = :g3, gsi3sk = :sk' : ''
          }`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':opened': 'opened',
            ':caseId': caseId,
            ':at': at.toISOString(),
            ':g2': `SUPPORTCASE#CASE#${caseId}`,
            ':sk': 'SUPPORTCASE',
            ...(displayId ? { ':displayId': displayId, ':g3': `SUPPORTCASE#DISPLAY#${displayId}` } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes ?? {});
    },
    async resolved(requestId, at) {
      const current = await get(requestId);
      if (!current || current.status === 'resolved') return;
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(requestId),
          UpdateExpression: 'SET #status = :resolved, resolvedAt = :at, gsi1pk = :g1',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':resolved': 'resolved',
            ':at': at.toISOString(),
            ':g1': userKey(current.user, 'resolved'),
          },
        }),
      );
    },
    async find(id) {
      const trimmed = id.trim();
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(trimmed)) return undefined;
      return (
        (await byIndex('gsi2', `SUPPORTCASE#CASE#${trimmed}`)) ??
        (await byIndex('gsi3', `SUPPORTCASE#DISPLAY#${trimmed}`))
      );
    },
    async forUser(user, state, limit = 50) {
      return (await queryIndex(db, tableName, 'gsi1', userKey(user, state), { limit })).map(fromItem);
    },
  };
}
