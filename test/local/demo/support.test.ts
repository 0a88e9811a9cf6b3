import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SUPPORT_DEMO_LABEL, type SupportFake, startSupportFake } from '../../../local/demo/support.ts';

let fake: SupportFake;
beforeEach(async () => {
  fake = await startSupportFake();
});
afterEach(async () => {
  await fake.close();
});

const SIGNED =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/support/aws4_request, Signature=abc123';

/** A raw JSON 1.1 call, as the SDK makes it. */
async function call(
  operation: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const response = await fetch(fake.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSSupport_20130415.${operation}`,
      authorization: SIGNED,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    json: (await response.json()) as Record<string, unknown>,
  };
}

const NEW_CASE = {
  subject: 'Throttled',
  communicationBody: 'Our function is throttled',
  serviceCode: 'aws-lambda',
  categoryCode: 'performance',
  severityCode: 'high',
  issueType: 'technical',
  language: 'en',
};

describe('the AWS Support fake', () => {
  it('lists seeded services with categories, and severity levels by plan', async () => {
    const services = await call('DescribeServices', { language: 'en' });
    expect(services.status).toBe(200);
    expect(services.type).toBe('application/x-amz-json-1.1');
    const list = services.json.services as Array<{ code: string; categories: Array<{ code: string }> }>;
    expect(list.find((s) => s.code === 'aws-lambda')?.categories.map((c) => c.code)).toContain('performance');

    const only = await call('DescribeServices', { serviceCodeList: ['amazon-dynamodb'] });
    expect((only.json.services as unknown[]).length).toBe(1);

    const enterprise = await call('DescribeSeverityLevels', {});
    expect((enterprise.json.severityLevels as Array<{ code: string }>).map((l) => l.code)).toEqual([
      'low',
      'normal',
      'high',
      'urgent',
      'critical',
    ]);
    fake.setPlan('business');
    const business = await call('DescribeSeverityLevels', {});
    expect((business.json.severityLevels as Array<{ code: string }>).map((l) => l.code)).not.toContain(
      'critical',
    );
  });

  it('creates, describes and resolves a case, and records every request', async () => {
    const created = await call('CreateCase', { ...NEW_CASE, ccEmailAddresses: ['ops@example.com'] });
    expect(created.status).toBe(200);
    const caseId = created.json.caseId as string;
    expect(caseId).toMatch(/^case-123456789012-muen-\d{4}-[0-9a-f]{16}$/);

    const described = await call('DescribeCases', { caseIdList: [caseId], includeCommunications: true });
    const [details] = described.json.cases as Array<Record<string, unknown>>;
    expect(details).toMatchObject({
      caseId,
      subject: 'Throttled',
      status: 'unassigned',
      serviceCode: 'aws-lambda',
      categoryCode: 'performance',
      severityCode: 'high',
      ccEmailAddresses: ['ops@example.com'],
      language: 'en',
      recentCommunications: { communications: [{ body: 'Our function is throttled' }] },
    });
    expect(details?.displayId).toMatch(/^\d{10}$/);

    expect((await call('ResolveCase', { caseId })).json).toEqual({
      initialCaseStatus: 'unassigned',
      finalCaseStatus: 'resolved',
    });
    // Resolved cases are left out unless asked for, as in AWS.
    expect((await call('DescribeCases', {})).json.cases).toEqual([]);
    expect(
      ((await call('DescribeCases', { includeResolvedCases: true })).json.cases as unknown[]).length,
    ).toBe(1);

    expect(fake.requests.map((r) => r.operation)).toEqual([
      'CreateCase',
      'DescribeCases',
      'ResolveCase',
      'DescribeCases',
      'DescribeCases',
    ]);
    expect(fake.requests[0]?.headers.authorization).toContain('Signature=[redacted]');
    expect(fake.calls('CreateCase')[0]?.body).toMatchObject({ subject: 'Throttled' });
  });

  it('answers AWS-shaped errors: unknown case, no plan, throttling, bad signature scope', async () => {
    const missing = await call('ResolveCase', { caseId: 'case-nope' });
    expect(missing).toMatchObject({ status: 400, json: { __type: 'CaseIdNotFound' } });
    expect((await call('DescribeCases', { caseIdList: ['case-nope'] })).json.__type).toBe('CaseIdNotFound');

    fake.failNext(1, 'ThrottlingException', 'CreateCase');
    expect((await call('DescribeServices', {})).status).toBe(200);
    expect((await call('CreateCase', NEW_CASE)).json).toEqual({
      __type: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    expect((await call('CreateCase', NEW_CASE)).status).toBe(200);

    fake.setPlan('none');
    const noPlan = await call('DescribeServices', {});
    expect(noPlan).toMatchObject({ status: 400, json: { __type: 'SubscriptionRequiredException' } });

    fake.setPlan('enterprise');
    const wrongRegion = await call(
      'DescribeServices',
      {},
      { authorization: SIGNED.replace('us-east-1/support', 'eu-west-1/support') },
    );
    expect(wrongRegion.json.__type).toBe('InvalidSignatureException');
    expect((await call('DescribeServices', {}, { authorization: '' })).json.__type).toBe(
      'MissingAuthenticationTokenException',
    );
    expect((await call('NoSuchThing', {})).json.__type).toBe('UnknownOperationException');
  });

  it('refuses an invalid case the way CreateCase would', async () => {
    expect((await call('CreateCase', { ...NEW_CASE, serviceCode: 'nope' })).json.__type).toBe(
      'InvalidParameterValueException',
    );
    expect((await call('CreateCase', { ...NEW_CASE, communicationBody: 'x'.repeat(8001) })).json.__type).toBe(
      'ValidationException',
    );
    fake.setPlan('business');
    expect((await call('CreateCase', { ...NEW_CASE, severityCode: 'critical' })).json.__type).toBe(
      'InvalidParameterValueException',
    );
    expect(fake.cases.size).toBe(0);
  });

  it('pages DescribeCases with nextToken', async () => {
    for (let i = 0; i < 12; i++) await call('CreateCase', { ...NEW_CASE, subject: `case ${i}` });
    const first = await call('DescribeCases', { maxResults: 10 });
    expect((first.json.cases as unknown[]).length).toBe(10);
    const second = await call('DescribeCases', { maxResults: 10, nextToken: first.json.nextToken });
    expect((second.json.cases as unknown[]).length).toBe(2);
    expect(second.json.nextToken).toBeUndefined();
  });

  it('shows a labelled demo page', async () => {
    await call('CreateCase', NEW_CASE);
    const page = await (await fetch(fake.url)).text();
    expect(page).toContain(SUPPORT_DEMO_LABEL);
    expect(page).toContain('Throttled');
  });
});
