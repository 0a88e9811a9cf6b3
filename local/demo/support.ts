/**
 * A wire-true stand-in for the AWS Support API (JSON 1.1 protocol, `X-Amz-Target:
 * AWSSupport_20130415.<Operation>`) for the calls Signoff makes through @aws-sdk/client-support:
 * DescribeServices, DescribeSeverityLevels, CreateCase, ResolveCase and DescribeCases, with their
 * errors. Tests point the real client at it; the local runtime serves it as a clearly labelled
 * demo AWS Support.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const SUPPORT_DEMO_LABEL = 'Demo AWS Support stand-in (local, not the real AWS Support API)';
export const FAKE_ACCOUNT = '123456789012';
const TARGET_PREFIX = 'AWSSupport_20130415.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export type SupportFakeOperation =
  | 'DescribeServices'
  | 'DescribeSeverityLevels'
  | 'CreateCase'
  | 'ResolveCase'
  | 'DescribeCases';

export type SupportFakeError =
  | 'SubscriptionRequiredException'
  | 'CaseIdNotFound'
  | 'ThrottlingException'
  | 'CaseCreationLimitExceeded'
  | 'InternalServerError';

/** `none`: no Business/Enterprise plan (every call fails); `business` has no `critical` severity. */
export type SupportPlan = 'none' | 'business' | 'enterprise';

export interface FakeCase {
  caseId: string;
  displayId: string;
  subject: string;
  status: string;
  serviceCode: string;
  categoryCode: string;
  severityCode: string;
  submittedBy: string;
  timeCreated: string;
  ccEmailAddresses: string[];
  language: string;
  issueType: string;
  communications: Array<{ body: string; submittedBy: string; timeCreated: string }>;
}

export interface SupportRequest {
  operation: string;
  /** Lower-cased header names; the signature is replaced by `[redacted]`. */
  headers: Record<string, string>;
  body: Record<string, unknown>;
  at: string;
}

export interface SupportFake {
  url: string;
  label: string;
  requests: SupportRequest[];
  cases: Map<string, FakeCase>;
  /** Requests of one operation, in order. */
  calls(operation: SupportFakeOperation): SupportRequest[];
  setPlan(plan: SupportPlan): void;
  /** The next `times` calls (of `operation`, or of any) fail with `error`. */
  failNext(times: number, error: SupportFakeError, operation?: SupportFakeOperation): void;
  close(): Promise<void>;
}

export interface SupportFakeOptions {
  port?: number;
  host?: string;
  plan?: SupportPlan;
  label?: string;
}

const GENERAL = { code: 'general-guidance', name: 'General Guidance' };
const OTHER = { code: 'other', name: 'Other' };
const PERFORMANCE = { code: 'performance', name: 'Performance' };
const APIS = { code: 'apis', name: 'APIs' };

/** Seeded services, shaped like DescribeServices output (a small, real-looking subset). */
export const FAKE_SERVICES = [
  {
    code: 'amazon-elastic-compute-cloud-linux',
    name: 'Elastic Compute Cloud (EC2 - Linux)',
    categories: [GENERAL, { code: 'instance-issue', name: 'Instance Issue' }, PERFORMANCE, OTHER],
  },
  {
    code: 'amazon-simple-storage-service',
    name: 'Simple Storage Service (S3)',
    categories: [GENERAL, APIS, PERFORMANCE, OTHER],
  },
  {
    code: 'aws-lambda',
    name: 'Lambda',
    categories: [GENERAL, { code: 'configuration', name: 'Configuration' }, PERFORMANCE, APIS, OTHER],
  },
  {
    code: 'aws-lambda-edge',
    name: 'Lambda@Edge',
    categories: [GENERAL, OTHER],
  },
  { code: 'amazon-dynamodb', name: 'DynamoDB', categories: [GENERAL, APIS, PERFORMANCE, OTHER] },
  { code: 'aws-step-functions', name: 'Step Functions', categories: [GENERAL, APIS, OTHER] },
  {
    code: 'amazon-relational-database-service-mysql',
    name: 'Relational Database Service (MySQL)',
    categories: [GENERAL, PERFORMANCE, { code: 'connectivity', name: 'Connectivity' }, OTHER],
  },
  {
    code: 'amazon-virtual-private-cloud',
    name: 'Virtual Private Cloud (VPC)',
    categories: [GENERAL, { code: 'connectivity', name: 'Connectivity' }, OTHER],
  },
  {
    code: 'aws-identity-and-access-management',
    name: 'Identity and Access Management (IAM)',
    categories: [GENERAL, { code: 'access-issue', name: 'Access Issue' }, OTHER],
  },
  {
    code: 'general-info',
    name: 'General Info and Getting Started',
    categories: [GENERAL, { code: 'using-aws', name: 'Using AWS & Services' }, OTHER],
  },
  {
    code: 'service-limit-increase',
    name: 'Service Limit Increase',
    categories: [{ code: 'lambda', name: 'Lambda' }, { code: 'ec2-instances', name: 'EC2 Instances' }, OTHER],
  },
];

const SEVERITY_LEVELS = [
  { code: 'low', name: 'General guidance' },
  { code: 'normal', name: 'System impaired' },
  { code: 'high', name: 'Production system impaired' },
  { code: 'urgent', name: 'Production system down' },
  { code: 'critical', name: 'Business-critical system down' },
];

const MESSAGES: Record<SupportFakeError, { status: ContentfulStatusCode; message: string }> = {
  SubscriptionRequiredException: {
    status: 400,
    message: 'AWS Premium Support Subscription is required to use this service.',
  },
  CaseIdNotFound: { status: 400, message: 'Invalid case ID' },
  ThrottlingException: { status: 400, message: 'Rate exceeded' },
  CaseCreationLimitExceeded: { status: 400, message: 'Case creation limit exceeded' },
  InternalServerError: { status: 500, message: 'Internal server error' },
};

/** Starts the fake on loopback (port 0 unless given). */
export async function startSupportFake(options: SupportFakeOptions = {}): Promise<SupportFake> {
  const label = options.label ?? SUPPORT_DEMO_LABEL;
  let plan: SupportPlan = options.plan ?? 'enterprise';
  const requests: SupportRequest[] = [];
  const cases = new Map<string, FakeCase>();
  const failures: Array<{ error: SupportFakeError; operation?: SupportFakeOperation }> = [];
  let nextDisplayId = 1_700_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
  let baseUrl = '';

  const app = new Hono();

  app.post('/', async (c) => {
    const target = c.req.header('x-amz-target') ?? '';
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    let body: Record<string, unknown> = {};
    try {
      const text = await c.req.text();
      const parsed: unknown = text === '' ? {} : JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
      else
        return awsError(
          c,
          400,
          'SerializationException',
          'Start of structure or map found where not expected',
        );
    } catch {
      return awsError(c, 400, 'SerializationException', 'Unexpected character');
    }
    requests.push({
      operation,
      headers: recordedHeaders(c.req.raw.headers),
      body,
      at: new Date().toISOString(),
    });

    if (!(c.req.header('content-type') ?? '').startsWith(CONTENT_TYPE))
      return awsError(c, 400, 'UnknownOperationException', '');
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      c.req.header('authorization') ?? '',
    );
    if (!scope)
      return awsError(c, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (scope[1] !== 'us-east-1' || scope[2] !== 'support') {
      return awsError(
        c,
        400,
        'InvalidSignatureException',
        `Credential should be scoped to a valid region and service ('us-east-1', 'support'), not ('${scope[1]}', '${scope[2]}').`,
      );
    }
    const index = failures.findIndex((f) => f.operation === undefined || f.operation === operation);
    const failure = index >= 0 ? failures.splice(index, 1)[0] : undefined;
    if (failure)
      return awsError(c, MESSAGES[failure.error].status, failure.error, MESSAGES[failure.error].message);
    if (plan === 'none') {
      const { status, message } = MESSAGES.SubscriptionRequiredException;
      return awsError(c, status, 'SubscriptionRequiredException', message);
    }

    switch (operation) {
      case 'DescribeServices': {
        const list = stringList(body.serviceCodeList);
        const services = list ? FAKE_SERVICES.filter((s) => list.includes(s.code)) : FAKE_SERVICES;
        return awsJson(c, { services });
      }
      case 'DescribeSeverityLevels':
        return awsJson(c, {
          severityLevels:
            plan === 'enterprise' ? SEVERITY_LEVELS : SEVERITY_LEVELS.filter((l) => l.code !== 'critical'),
        });
      case 'CreateCase':
        return createCase(c, body);
      case 'ResolveCase': {
        const found = typeof body.caseId === 'string' ? cases.get(body.caseId) : undefined;
        if (!found) return awsError(c, 400, 'CaseIdNotFound', MESSAGES.CaseIdNotFound.message);
        const initialCaseStatus = found.status;
        found.status = 'resolved';
        return awsJson(c, { initialCaseStatus, finalCaseStatus: 'resolved' });
      }
      case 'DescribeCases':
        return describeCases(c, body);
      default:
        return awsError(c, 400, 'UnknownOperationException', '');
    }
  });

  function createCase(c: Context, body: Record<string, unknown>) {
    const subject = body.subject;
    const communicationBody = body.communicationBody;
    if (typeof subject !== 'string' || subject === '')
      return awsError(
        c,
        400,
        'ValidationException',
        "1 validation error detected: Value null at 'subject' failed to satisfy constraint: Member must not be null",
      );
    if (typeof communicationBody !== 'string' || communicationBody === '' || communicationBody.length > 8000)
      return awsError(
        c,
        400,
        'ValidationException',
        "1 validation error detected: Value at 'communicationBody' failed to satisfy constraint: Member must have length between 1 and 8000",
      );
    const service = FAKE_SERVICES.find((s) => s.code === body.serviceCode);
    if (body.serviceCode !== undefined && !service)
      return awsError(
        c,
        400,
        'InvalidParameterValueException',
        `Invalid service code: ${String(body.serviceCode)}`,
      );
    if (
      service &&
      body.categoryCode !== undefined &&
      !service.categories.some((k) => k.code === body.categoryCode)
    )
      return awsError(
        c,
        400,
        'InvalidParameterValueException',
        `Invalid category code: ${String(body.categoryCode)}`,
      );
    const severity = body.severityCode ?? 'low';
    const levels =
      plan === 'enterprise' ? SEVERITY_LEVELS : SEVERITY_LEVELS.filter((l) => l.code !== 'critical');
    if (!levels.some((l) => l.code === severity))
      return awsError(c, 400, 'InvalidParameterValueException', `Invalid severity code: ${String(severity)}`);
    const cc = stringList(body.ccEmailAddresses) ?? [];
    if (cc.length > 10) return awsError(c, 400, 'ValidationException', 'ccEmailAddresses: at most 10');
    const now = new Date().toISOString();
    const caseId = `case-${FAKE_ACCOUNT}-muen-${now.slice(0, 4)}-${randomBytes(8).toString('hex')}`;
    const submittedBy = `signoff@example.com`;
    cases.set(caseId, {
      caseId,
      displayId: String(nextDisplayId++),
      subject,
      status: 'unassigned',
      serviceCode: typeof body.serviceCode === 'string' ? body.serviceCode : 'general-info',
      categoryCode: typeof body.categoryCode === 'string' ? body.categoryCode : 'other',
      severityCode: String(severity),
      submittedBy,
      timeCreated: now,
      ccEmailAddresses: cc,
      language: typeof body.language === 'string' ? body.language : 'en',
      issueType: typeof body.issueType === 'string' ? body.issueType : 'technical',
      communications: [{ body: communicationBody, submittedBy, timeCreated: now }],
    });
    return awsJson(c, { caseId });
  }

  function describeCases(c: Context, body: Record<string, unknown>) {
    const ids = stringList(body.caseIdList);
    if (ids) {
      const missing = ids.find((id) => !cases.has(id));
      if (missing) return awsError(c, 400, 'CaseIdNotFound', MESSAGES.CaseIdNotFound.message);
    }
    const includeResolved = body.includeResolvedCases === true;
    const includeCommunications = body.includeCommunications !== false; // AWS default: included
    const maxResults = typeof body.maxResults === 'number' ? body.maxResults : 100;
    if (maxResults < 10 || maxResults > 100)
      return awsError(
        c,
        400,
        'ValidationException',
        "Value at 'maxResults' failed to satisfy constraint: Member must have value between 10 and 100",
      );
    const matching = [...cases.values()]
      .filter((k) => !ids || ids.includes(k.caseId))
      .filter((k) => body.displayId === undefined || k.displayId === body.displayId)
      .filter((k) => includeResolved || k.status !== 'resolved')
      .filter((k) => typeof body.afterTime !== 'string' || k.timeCreated >= body.afterTime)
      .filter((k) => typeof body.beforeTime !== 'string' || k.timeCreated <= body.beforeTime)
      .sort((a, b) => b.timeCreated.localeCompare(a.timeCreated));
    const start =
      typeof body.nextToken === 'string' ? Number(Buffer.from(body.nextToken, 'base64url').toString()) : 0;
    const page = matching.slice(start, start + maxResults);
    const next =
      start + maxResults < matching.length
        ? Buffer.from(String(start + maxResults)).toString('base64url')
        : undefined;
    return awsJson(c, {
      cases: page.map((k) => ({
        caseId: k.caseId,
        displayId: k.displayId,
        subject: k.subject,
        status: k.status,
        serviceCode: k.serviceCode,
        categoryCode: k.categoryCode,
        severityCode: k.severityCode,
        submittedBy: k.submittedBy,
        timeCreated: k.timeCreated,
        ccEmailAddresses: k.ccEmailAddresses,
        language: k.language,
        ...(includeCommunications
          ? {
              recentCommunications: {
                communications: k.communications
                  .slice(-5)
                  .reverse()
                  .map((m) => ({ caseId: k.caseId, ...m, attachmentSet: [] })),
              },
            }
          : {}),
      })),
      ...(next ? { nextToken: next } : {}),
    });
  }

  app.get('/', (c) => c.html(demoPage(label, baseUrl, plan, requests, [...cases.values()])));
  app.get('/__demo/requests', (c) => c.json(requests));
  app.all('*', (c) => awsError(c, 404, 'UnknownOperationException', ''));

  const { server, address } = await new Promise<{ server: ReturnType<typeof serve>; address: AddressInfo }>(
    (resolve, reject) => {
      const s = serve(
        { fetch: app.fetch, port: options.port ?? 0, hostname: options.host ?? '127.0.0.1' },
        (info) => resolve({ server: s, address: info }),
      );
      s.once('error', reject);
    },
  );
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${urlHost}:${address.port}`;

  return {
    url: baseUrl,
    label,
    requests,
    cases,
    calls: (operation) => requests.filter((r) => r.operation === operation),
    setPlan(next) {
      plan = next;
    },
    failNext(times, error, operation) {
      for (let i = 0; i < times; i++) failures.push({ error, ...(operation ? { operation } : {}) });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    },
  };
}

function awsJson(c: Context, body: unknown) {
  return c.body(JSON.stringify(body), 200, {
    'content-type': CONTENT_TYPE,
    'x-amzn-requestid': crypto.randomUUID(),
  });
}

function awsError(c: Context, status: ContentfulStatusCode, type: string, message: string) {
  return c.body(JSON.stringify({ __type: type, message }), status, {
    'content-type': CONTENT_TYPE,
    'x-amzn-requestid': crypto.randomUUID(),
  });
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

function recordedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] =
      name === 'authorization' ? value.replace(/Signature=[0-9a-f]+/, 'Signature=[redacted]') : value;
  });
  return out;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function demoPage(
  label: string,
  url: string,
  plan: SupportPlan,
  requests: SupportRequest[],
  cases: FakeCase[],
) {
  const caseRows = cases
    .map(
      (k) =>
        `<tr><td>${escapeHtml(k.displayId)}</td><td><code>${escapeHtml(k.caseId)}</code></td><td>${escapeHtml(k.subject)}</td><td>${escapeHtml(k.serviceCode)} / ${escapeHtml(k.categoryCode)}</td><td>${escapeHtml(k.severityCode)}</td><td>${escapeHtml(k.status)}</td></tr>`,
    )
    .join('');
  const requestRows = requests
    .slice(-100)
    .reverse()
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.at)}</td><td>${escapeHtml(r.operation)}</td><td><code>${escapeHtml(JSON.stringify(r.body))}</code></td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(label)}</title></head><body>
<h1>${escapeHtml(label)}</h1>
<p>Signoff talks to this server with the real AWS SDK (<code>AWS_ENDPOINT_URL_SUPPORT=${escapeHtml(url)}</code>).
Cases opened here are not real AWS Support cases. Plan: <b>${escapeHtml(plan)}</b>.</p>
<h2>Cases</h2><table border="1"><tr><th>display id</th><th>case id</th><th>subject</th><th>service / category</th><th>severity</th><th>status</th></tr>${caseRows}</table>
<h2>Calls received (newest first)</h2><table border="1"><tr><th>at</th><th>operation</th><th>body</th></tr>${requestRows}</table>
</body></html>`;
}
