import {
  CreateCaseCommand,
  DescribeCasesCommand,
  DescribeServicesCommand,
  DescribeSeverityLevelsCommand,
  ResolveCaseCommand,
  SupportClient,
} from '@aws-sdk/client-support';
import {
  type DescribeCasesQuery,
  type SeverityLevel,
  type SupportApi,
  type SupportCaseDetails,
  SupportCaseLimitError,
  SupportCaseNotFoundError,
  SupportError,
  type SupportLanguage,
  SupportPlanRequiredError,
  type SupportService,
  SupportThrottlingError,
  SupportUnavailableError,
} from '../core/support-cases.ts';

export interface SupportConfig {
  /** AWS_ENDPOINT_URL_SUPPORT, passed in by the entry point; unset: the SDK's own resolution. */
  endpoint?: string;
  /** Fixed credentials (the demo stand-in accepts any); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * SDK attempts per call. Default 1: the state machine owns retries (with backoff, visible in
   * the execution history), and chat commands must answer within the platform's time limit.
   */
  maxAttempts?: number;
  /** How long DescribeServices and DescribeSeverityLevels answers are reused. Default 1 hour. */
  cacheMs?: number;
  now?: () => number;
}

/**
 * The Support API is a global service: every commercial region resolves to
 * support.us-east-1.amazonaws.com, signed for us-east-1 (docs: platforms §6).
 */
export const SUPPORT_REGION = 'us-east-1';
const DEFAULT_CACHE_MS = 60 * 60 * 1000;

/**
 * A thin client over @aws-sdk/client-support: DescribeServices and DescribeSeverityLevels
 * cached, every failure turned into a Support*Error with a message a person can act on.
 */
export function createSupportClient(config: SupportConfig = {}): SupportApi & { destroy(): void } {
  const client = new SupportClient({
    region: SUPPORT_REGION,
    maxAttempts: config.maxAttempts ?? 1,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
  const cacheMs = config.cacheMs ?? DEFAULT_CACHE_MS;
  const now = config.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();

  /** Cache the promise, so concurrent callers share one call; a failure is not cached. */
  function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && now() - hit.at < cacheMs) return hit.value as Promise<T>;
    const value = load();
    cache.set(key, { at: now(), value });
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    return value;
  }

  async function call<T>(what: string, send: () => Promise<T>, caseId?: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toSupportError(error, what, caseId);
    }
  }

  return {
    describeServices(language: SupportLanguage = 'en') {
      return cached(`services:${language}`, async () => {
        const out = await call('DescribeServices', () =>
          client.send(new DescribeServicesCommand({ language })),
        );
        return (out.services ?? []).flatMap((service): SupportService[] =>
          service.code
            ? [
                {
                  code: service.code,
                  name: service.name ?? service.code,
                  categories: (service.categories ?? []).flatMap((c) =>
                    c.code ? [{ code: c.code, name: c.name ?? c.code }] : [],
                  ),
                },
              ]
            : [],
        );
      });
    },

    describeSeverityLevels(language: SupportLanguage = 'en') {
      return cached(`severities:${language}`, async () => {
        const out = await call('DescribeSeverityLevels', () =>
          client.send(new DescribeSeverityLevelsCommand({ language })),
        );
        return (out.severityLevels ?? []).flatMap((level): SeverityLevel[] =>
          level.code ? [{ code: level.code, name: level.name ?? level.code }] : [],
        );
      });
    },

    async createCase(request) {
      const out = await call('CreateCase', () =>
        client.send(
          new CreateCaseCommand({
            subject: request.subject,
            communicationBody: request.body,
            serviceCode: request.serviceCode,
            categoryCode: request.categoryCode,
            severityCode: request.severityCode,
            issueType: request.issueType,
            language: request.language,
            ...(request.ccEmailAddresses?.length ? { ccEmailAddresses: request.ccEmailAddresses } : {}),
          }),
        ),
      );
      if (!out.caseId) throw new SupportError('AWS Support opened a case but returned no case id');
      return { caseId: out.caseId };
    },

    async describeCases(query: DescribeCasesQuery) {
      const limit = query.limit ?? 100;
      const found: SupportCaseDetails[] = [];
      let nextToken: string | undefined;
      do {
        const out = await call(
          'DescribeCases',
          () =>
            client.send(
              new DescribeCasesCommand({
                ...(query.caseIds ? { caseIdList: query.caseIds } : {}),
                ...(query.displayId ? { displayId: query.displayId } : {}),
                ...(query.afterTime ? { afterTime: query.afterTime } : {}),
                includeResolvedCases: query.includeResolved ?? false,
                includeCommunications: query.includeCommunications ?? false,
                // caseIdList and maxResults cannot be combined (AWS refuses it).
                ...(query.caseIds ? {} : { maxResults: Math.min(100, Math.max(10, limit)) }),
                ...(nextToken ? { nextToken } : {}),
              }),
            ),
          query.caseIds?.join(', ') ?? query.displayId,
        );
        for (const c of out.cases ?? []) {
          if (!c.caseId) continue;
          found.push(
            dropUndefined({
              caseId: c.caseId,
              displayId: c.displayId,
              subject: c.subject,
              status: c.status,
              serviceCode: c.serviceCode,
              categoryCode: c.categoryCode,
              severityCode: c.severityCode,
              submittedBy: c.submittedBy,
              timeCreated: c.timeCreated,
              ccEmailAddresses: c.ccEmailAddresses,
              language: c.language,
              communications: c.recentCommunications?.communications?.flatMap((m) =>
                m.body ? [m.body] : [],
              ),
            }),
          );
        }
        nextToken = out.nextToken;
      } while (nextToken && found.length < limit);
      return found.slice(0, limit);
    },

    async resolveCase(caseId) {
      const out = await call('ResolveCase', () => client.send(new ResolveCaseCommand({ caseId })), caseId);
      return dropUndefined({
        initialCaseStatus: out.initialCaseStatus,
        finalCaseStatus: out.finalCaseStatus,
      });
    },

    destroy: () => client.destroy(),
  };
}

/**
 * Turn an SDK failure into a Support*Error. `SubscriptionRequiredException` is not a modeled
 * class in the SDK, so it is recognised by name (and by its `Code`, where a proxy sets only that).
 */
export function toSupportError(error: unknown, what: string, caseId?: string): SupportError {
  if (error instanceof SupportError) return error;
  const name = errorName(error);
  const options = { cause: error };
  switch (name) {
    case 'SubscriptionRequiredException':
      return new SupportPlanRequiredError(options);
    case 'CaseIdNotFound':
      return new SupportCaseNotFoundError(caseId ?? 'with that id', options);
    case 'ThrottlingException':
    case 'TooManyRequestsException':
    case 'Throttling':
      return new SupportThrottlingError(options);
    case 'CaseCreationLimitExceeded':
      return new SupportCaseLimitError(options);
    case 'InternalServerError':
      return new SupportUnavailableError(
        `AWS Support ${what} failed with an internal error; it is retried.`,
        options,
      );
  }
  const status = statusOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (status !== undefined && status >= 500) {
    return new SupportUnavailableError(`AWS Support ${what} failed: ${status} ${detail}`.trim(), options);
  }
  if (isNetworkError(error)) {
    return new SupportUnavailableError(
      `AWS Support ${what} failed: cannot reach the Support API (${detail})`,
      options,
    );
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || status === 403) {
    return new SupportError(
      `AWS Support ${what} was refused: Signoff's AWS credentials may not call support:${what} (${detail})`,
      options,
    );
  }
  return new SupportError(`AWS Support ${what} failed: ${name ? `${name}: ` : ''}${detail}`, options);
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code, code } = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [Code, name, code]) {
    if (typeof candidate === 'string' && candidate !== 'Error' && candidate !== '') return candidate;
  }
  return undefined;
}

function statusOf(error: unknown): number | undefined {
  const meta = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata;
  return typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'TimeoutError' ||
    error.name === 'AbortError' ||
    (typeof code === 'string' && /^(ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|ECONNRESET)/.test(code))
  );
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
