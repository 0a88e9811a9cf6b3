import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SupportCaseLimitError,
  SupportCaseNotFoundError,
  type SupportError,
  SupportPlanRequiredError,
  SupportThrottlingError,
  SupportUnavailableError,
} from '../../core/support-cases.ts';
import { createSupportClient } from '../../integrations/support.ts';
import { type SupportFake, startSupportFake } from '../../local/demo/support.ts';

let fake: SupportFake;
let support: ReturnType<typeof createSupportClient>;
let clock = 0;
beforeEach(async () => {
  fake = await startSupportFake();
  clock = 1_000_000;
  support = createSupportClient({
    endpoint: fake.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    now: () => clock,
  });
});
afterEach(async () => {
  support.destroy();
  await fake.close();
});

const NEW_CASE = {
  subject: 'Lambda throttling',
  body: 'Line one\nLine two',
  serviceCode: 'aws-lambda',
  categoryCode: 'performance',
  severityCode: 'high',
  issueType: 'technical',
  language: 'ja',
} as const;

describe('createSupportClient', () => {
  it('signs for us-east-1 and the support service, on the JSON 1.1 protocol', async () => {
    await support.describeServices();
    const request = fake.requests[0];
    expect(request?.headers['x-amz-target']).toBe('AWSSupport_20130415.DescribeServices');
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(request?.headers.authorization).toMatch(
      /Credential=test\/\d{8}\/us-east-1\/support\/aws4_request/,
    );
  });

  it('caches DescribeServices and DescribeSeverityLevels, per language, for an hour', async () => {
    const services = await support.describeServices();
    expect(services.find((s) => s.code === 'aws-lambda')).toMatchObject({
      name: 'Lambda',
      categories: expect.arrayContaining([{ code: 'performance', name: 'Performance' }]),
    });
    await Promise.all([support.describeServices(), support.describeServices()]);
    await support.describeSeverityLevels();
    await support.describeSeverityLevels();
    expect(fake.calls('DescribeServices')).toHaveLength(1);
    expect(fake.calls('DescribeSeverityLevels')).toHaveLength(1);

    await support.describeServices('ja');
    expect(fake.calls('DescribeServices')).toHaveLength(2);
    clock += 60 * 60 * 1000;
    await support.describeServices();
    expect(fake.calls('DescribeServices')).toHaveLength(3);
  });

  it('does not cache a failure', async () => {
    fake.failNext(1, 'ThrottlingException');
    await expect(support.describeServices()).rejects.toBeInstanceOf(SupportThrottlingError);
    expect((await support.describeServices()).length).toBeGreaterThan(0);
  });

  it('sends CreateCase with exactly the given fields, and describes the case', async () => {
    const { caseId } = await support.createCase({ ...NEW_CASE, ccEmailAddresses: ['a@example.com'] });
    expect(fake.calls('CreateCase')[0]?.body).toEqual({
      subject: 'Lambda throttling',
      communicationBody: 'Line one\nLine two',
      serviceCode: 'aws-lambda',
      categoryCode: 'performance',
      severityCode: 'high',
      issueType: 'technical',
      language: 'ja',
      ccEmailAddresses: ['a@example.com'],
    });
    const [details] = await support.describeCases({ caseIds: [caseId], includeCommunications: true });
    expect(details).toMatchObject({
      caseId,
      subject: 'Lambda throttling',
      severityCode: 'high',
      language: 'ja',
      communications: ['Line one\nLine two'],
    });
    expect(details?.displayId).toMatch(/^\d+$/);
    expect(await support.resolveCase(caseId)).toEqual({
      initialCaseStatus: 'unassigned',
      finalCaseStatus: 'resolved',
    });
    expect(await support.describeCases({})).toEqual([]);
    expect(await support.describeCases({ includeResolved: true })).toHaveLength(1);
  });

  it('follows DescribeCases pages up to the limit', async () => {
    for (let i = 0; i < 25; i++) await support.createCase({ ...NEW_CASE, subject: `case ${i}` });
    expect(await support.describeCases({ limit: 500 })).toHaveLength(25);
    expect(await support.describeCases({ limit: 12 })).toHaveLength(12);
  });

  it('turns errors into messages a person can act on, with names the state machine matches', async () => {
    fake.setPlan('none');
    const noPlan = await support.describeServices().catch((error: unknown) => error);
    expect(noPlan).toBeInstanceOf(SupportPlanRequiredError);
    expect((noPlan as Error).name).toBe('SupportPlanRequiredError');
    expect((noPlan as Error).message).toContain('this account has no Business/Enterprise Support plan');
    expect((noPlan as SupportError).retryable).toBe(false);
    expect(((noPlan as Error).cause as Error).name).toBe('SubscriptionRequiredException');
    fake.setPlan('enterprise');

    const missing = await support.resolveCase('case-123-nope').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(SupportCaseNotFoundError);
    expect((missing as Error).message).toBe(
      'AWS Support has no case case-123-nope in this account (CaseIdNotFound).',
    );

    fake.failNext(1, 'ThrottlingException', 'CreateCase');
    const throttled = await support.createCase(NEW_CASE).catch((error: unknown) => error);
    expect(throttled).toBeInstanceOf(SupportThrottlingError);
    expect((throttled as Error).name).toBe('SupportThrottlingError');
    expect((throttled as SupportError).retryable).toBe(true);
    // The SDK does not retry by itself (maxAttempts 1): the state machine does, with backoff.
    expect(fake.calls('CreateCase')).toHaveLength(1);

    fake.failNext(1, 'CaseCreationLimitExceeded');
    await expect(support.createCase(NEW_CASE)).rejects.toBeInstanceOf(SupportCaseLimitError);
    fake.failNext(1, 'InternalServerError');
    const internal = await support.describeCases({}).catch((error: unknown) => error);
    expect(internal).toBeInstanceOf(SupportUnavailableError);
    expect((internal as SupportError).retryable).toBe(true);
  });

  it('reports an unreachable endpoint as retryable', async () => {
    await fake.close();
    const down = await support.describeServices().catch((error: unknown) => error);
    expect(down).toBeInstanceOf(SupportUnavailableError);
    fake = await startSupportFake();
  });
});
