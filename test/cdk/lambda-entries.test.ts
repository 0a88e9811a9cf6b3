import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { consoleSurface } from '../../console/index.ts';
import { AWS_ENV, parseAwsSettings, secretRecord, secretsFromJson } from '../../core/aws-env.ts';
import type { ChatAdapter, Notice, Recipient } from '../../core/chat.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { ConfigError, InvalidInputError } from '../../core/errors.ts';
import { awsConsoleExecutionUrl, parseExecutionArn } from '../../core/links.ts';
import { createNotificationStore } from '../../core/notifications.ts';
import { createPipelineStore } from '../../core/pipelines.ts';
import { createGitLabClient } from '../../integrations/gitlab.ts';
import { buildMergeRequestHook, startGitLabFake } from '../../local/demo/gitlab.ts';
import { lambdaTask, taskFrom } from '../../tasks/lambda.ts';
import * as notifyModule from '../../tasks/notify.ts';
import * as prepareModule from '../../tasks/prepare-merge-request.ts';
import * as reconcileModule from '../../tasks/reconcile-pipelines.ts';
import { createWebhookHandler } from '../../webhooks/lambda.ts';
import { MergeRequestHook, mergeRequestTrigger } from '../../workflows/merge-request.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

const ARN = 'arn:aws:states:eu-west-1:111122223333:execution:signoff-dev-merge-request:mr-42-open';

describe('awsConsoleExecutionUrl', () => {
  it('links to the execution in the console of its own region', () => {
    expect(awsConsoleExecutionUrl(ARN)).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${ARN}`,
    );
  });

  it('uses the China console for aws-cn', () => {
    const arn = 'arn:aws-cn:states:cn-north-1:111122223333:execution:sm:run-1';
    expect(awsConsoleExecutionUrl(arn)).toMatch(
      /^https:\/\/console\.amazonaws\.cn\/states\/home\?region=cn-north-1#/,
    );
  });

  it('refuses what is not an execution ARN', () => {
    expect(parseExecutionArn('arn:aws:states:eu-west-1:111122223333:stateMachine:sm')).toBeUndefined();
    expect(() => awsConsoleExecutionUrl('not-an-arn')).toThrow(/not a Step Functions execution ARN/);
  });
});

describe('parseAwsSettings', () => {
  it('names every missing variable', () => {
    expect(() => parseAwsSettings({ AWS_REGION: 'eu-west-1', SIGNOFF_ACCOUNT_ID: '12' })).toThrow(
      /SIGNOFF_ACCOUNT_ID is not a 12-digit account id[\s\S]*SIGNOFF_TABLE_NAME is not set[\s\S]*SIGNOFF_STATE_MACHINE_PREFIX is not set/,
    );
  });

  it('reads names and ARNs, defaulting the secret cache to 5 minutes', () => {
    expect(
      parseAwsSettings({
        AWS_REGION: 'eu-west-1',
        SIGNOFF_ACCOUNT_ID: '111122223333',
        SIGNOFF_TABLE_NAME: 't',
        SIGNOFF_STATE_MACHINE_PREFIX: 'signoff-dev-',
      }),
    ).toEqual({
      region: 'eu-west-1',
      accountId: '111122223333',
      tableName: 't',
      stateMachinePrefix: 'signoff-dev-',
      secretMaxAgeSeconds: 300,
    });
  });
});

describe('secretRecord', () => {
  it('keeps string entries (chat keys included), drops empty ones', () => {
    expect(secretRecord({ LARK_APP_ID: 'cli_1', LINE_CHANNEL_SECRET: '', GITLAB_URL: 'u' }, 's')).toEqual({
      LARK_APP_ID: 'cli_1',
      GITLAB_URL: 'u',
    });
    expect(() => secretRecord(['x'], 's')).toThrow(/JSON object of strings/);
  });
});

describe('secretsFromJson', () => {
  it('maps the secret keys and never echoes a value in its errors', () => {
    expect(secretsFromJson({ GITLAB_TOKEN: 'glpat-x', GITLAB_URL: '' }, 's')).toEqual({
      gitlabToken: 'glpat-x',
    });
    let message = '';
    try {
      secretsFromJson({ GITLAB_TOKEN: 12345678 }, 's');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('secret s: GITLAB_TOKEN must be a string');
    expect(() => secretsFromJson('glpat-plain', 's')).toThrow(ConfigError);
  });
});

describe('the AWS entries against a real (embedded) DynamoDB', () => {
  let dynamo: TestDynamo;
  let env: Record<string, string | undefined>;
  const saved: Record<string, string | undefined> = {};
  const logger = new Logger({ serviceName: 'signoff', logLevel: 'SILENT' });

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    const endpoint = await dynamo.client.config.endpoint?.();
    // The SDK clients built by the entries find the endpoint and credentials the standard way.
    const awsEnv = {
      AWS_ENDPOINT_URL_DYNAMODB: `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    for (const [key, value] of Object.entries(awsEnv)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    env = {
      [AWS_ENV.region]: 'us-east-1',
      [AWS_ENV.accountId]: '111122223333',
      [AWS_ENV.tableName]: dynamo.tableName,
      [AWS_ENV.stateMachinePrefix]: 'signoff-test-',
      [AWS_ENV.secretId]: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:signoff-test-credentials',
    };
  }, 30_000);

  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await dynamo?.close();
  });

  it('runs a task as a Lambda handler, building its dependencies from the environment', async () => {
    const reads: string[] = [];
    const handler = lambdaTask(taskFrom(notifyModule, 'notify'), {
      env,
      readSecret: async (id) => {
        reads.push(id);
        return {};
      },
      logger,
    });
    const output = await handler({
      event: 'expired',
      executionArn: ARN,
      input: {
        kind: 'merge-request',
        requester: { platform: 'gitlab', id: 'alice', name: 'Alice', user: 'alice' },
        approval: { timeoutSeconds: 60 },
      },
    });
    expect(output).toMatchObject({ text: expect.stringContaining('expired') });
    const notes = await createNotificationStore(dynamo.client, dynamo.tableName).forUser('alice');
    expect(notes.map((n) => n.executionArn)).toEqual([ARN]);
    // notify never calls GitLab, so it never read the secret.
    expect(reads).toEqual([]);
  });

  it('sends notices through the chat adapters built from the secret, rebuilt only when a chat key changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-entry-'));
    try {
      const config = join(dir, 'signoff.config.json');
      writeFileSync(
        config,
        JSON.stringify({
          users: { alice: { name: 'Alice', lark: 'ou_alice' }, bob: { name: 'Bob' } },
          policies: {
            'merge-request': { approvers: ['bob'] },
            deploy: { approvers: ['bob'] },
            rollback: { approvers: ['bob'] },
            'support-case': { approvers: ['bob'] },
          },
        }),
      );
      const sent: Array<{ to: Recipient; notice: Notice; key: string }> = [];
      const built: string[] = [];
      let secret: Record<string, string> = {
        LARK_APP_ID: 'cli_1',
        LARK_APP_SECRET: 'one',
        GITLAB_TOKEN: 'x',
      };
      const fakeLark = (key: string): ChatAdapter => ({
        platform: 'lark',
        receive: async () => [],
        answeredBy: () => undefined,
        answer: async () => ({ body: {}, failed: [] }),
        send: async () => ({ platform: 'lark', id: 'm1' }),
        update: async () => {},
        notify: async (to, notice) => {
          sent.push({ to, notice, key });
        },
      });
      const handler = lambdaTask(taskFrom(notifyModule, 'notify'), {
        env: { ...env, SIGNOFF_CONFIG: config },
        readSecret: async () => secret,
        logger,
        clients: {
          chats: (secrets) => {
            built.push(secrets.LARK_APP_SECRET ?? '');
            return secrets.LARK_APP_ID ? [fakeLark(secrets.LARK_APP_SECRET ?? '')] : [];
          },
        },
      });
      const payload = (id: string) => ({
        event: 'expired',
        executionArn: `${ARN}-${id}`,
        input: {
          kind: 'merge-request',
          requester: { platform: 'lark', id: 'ou_alice', name: 'Alice', user: 'alice' },
          approval: { timeoutSeconds: 60 },
        },
      });
      await handler(payload('a'));
      secret = { ...secret, GITLAB_TOKEN: 'rotated' }; // not a chat key: the adapters stay
      await handler(payload('b'));
      secret = { ...secret, LARK_APP_SECRET: 'two' };
      await handler(payload('c'));
      expect(built).toEqual(['one', 'two']);
      expect(sent.map((s) => [s.to, s.key])).toEqual([
        [{ kind: 'user', id: 'ou_alice' }, 'one'],
        [{ kind: 'user', id: 'ou_alice' }, 'one'],
        [{ kind: 'user', id: 'ou_alice' }, 'two'],
      ]);
      expect(sent[0]?.notice.text).toContain('expired');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a bad payload with an InvalidInputError naming the field', async () => {
    const handler = lambdaTask(taskFrom(notifyModule, 'notify'), {
      env,
      readSecret: async () => ({}),
      logger,
    });
    const error = await handler({ event: 'exploded', executionArn: ARN, input: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/task notify got a bad payload: [\s\S]*→ at event$/m);
  });

  it('logs a failed task once at error level, with the cause and without the GitLab token', async () => {
    const gitlab = await startGitLabFake();
    const written: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const mr = gitlab.seedMergeRequest({ projectId: 7, projectPath: 'platform/app', iid: 9 });
      const hook = buildMergeRequestHook(mr, {
        action: 'open',
        actor: { username: 'alice' },
        baseUrl: gitlab.url,
      });
      const trigger = mergeRequestTrigger(MergeRequestHook.parse(hook), parseConfig(DEFAULT_CONFIG_INPUT));
      if (trigger.action !== 'start') throw new Error(`expected a start, got ${trigger.action}`);
      const handler = lambdaTask(taskFrom(prepareModule, 'prepare-merge-request'), {
        env,
        readSecret: async () => ({ GITLAB_URL: gitlab.url, GITLAB_TOKEN: gitlab.token }),
        logger: new Logger({ serviceName: 'signoff', logLevel: 'ERROR' }),
        clients: { gitlab: createGitLabClient },
      });
      gitlab.failNext(1, { status: 403 });
      const error = await handler({ executionArn: ARN, input: trigger.input }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('GitLabError');

      const lines = written.join('').trim().split('\n');
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0] ?? '{}');
      expect(line).toMatchObject({
        level: 'ERROR',
        message: 'task failed',
        service: 'signoff',
        task: 'prepare-merge-request',
        executionId: ARN,
        errorName: 'GitLabError',
        error: (error as Error).message,
        cause: 'GitbeakerRequestError: 403 Forbidden',
      });
      expect(lines[0]).not.toContain(gitlab.token);
    } finally {
      stderr.mockRestore();
      await gitlab.close();
    }
  });

  it('serves the app from API Gateway events: health, token check, console closed to remote clients', async () => {
    let reads = 0;
    // As the generated entry builds it (cdk/bundling.ts webhookEntry): the console mounted beside the webhooks.
    const handle = createWebhookHandler({
      env,
      surfaces: [consoleSurface],
      readSecret: async () => {
        reads++;
        return { GITLAB_WEBHOOK_TOKEN: 'right-token' };
      },
      logger,
    });
    const event = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => ({
      version: '2.0',
      routeKey: `${method} ${path}`,
      rawPath: path,
      rawQueryString: '',
      headers: { host: 'abc123.execute-api.us-east-1.amazonaws.com', ...headers },
      requestContext: {
        accountId: '111122223333',
        apiId: 'abc123',
        domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'abc123',
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
        requestId: 'req-1',
        routeKey: `${method} ${path}`,
        stage: '$default',
        time: '01/Jan/2026:00:00:00 +0000',
        timeEpoch: 1_767_225_600_000,
      },
      isBase64Encoded: false,
      ...(body === undefined ? {} : { body }),
    });

    const health = (await handle(event('GET', '/healthz'))) as { statusCode: number; body: string };
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });

    const wrong = (await handle(
      event(
        'POST',
        '/webhooks/gitlab',
        {
          'content-type': 'application/json',
          'x-gitlab-event': 'Merge Request Hook',
          'x-gitlab-token': 'wrong',
        },
        '{}',
      ),
    )) as { statusCode: number; body: string };
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).not.toContain('right-token');

    const console = (await handle(event('GET', '/console'))) as { statusCode: number };
    expect(console.statusCode).toBe(403);
    expect(reads).toBe(3); // read (from Powertools' cache on AWS) on every request: rotation applies
  });

  it('routes /webhooks/<platform> for each chat platform whose keys are in the secret', async () => {
    let secret: Record<string, string> = {
      GITLAB_WEBHOOK_TOKEN: 'right-token',
      LINE_CHANNEL_SECRET: 'line-secret',
      LINE_CHANNEL_ACCESS_TOKEN: 'line-token',
    };
    const handle = createWebhookHandler({ env, readSecret: async () => secret, logger });
    const post = (path: string, headers: Record<string, string>) => ({
      version: '2.0',
      routeKey: `POST ${path}`,
      rawPath: path,
      rawQueryString: '',
      headers: {
        host: 'abc123.execute-api.us-east-1.amazonaws.com',
        'content-type': 'application/json',
        ...headers,
      },
      requestContext: {
        accountId: '111122223333',
        apiId: 'abc123',
        domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'abc123',
        http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
        requestId: 'req-2',
        routeKey: `POST ${path}`,
        stage: '$default',
        time: '01/Jan/2026:00:00:00 +0000',
        timeEpoch: 1_767_225_600_000,
      },
      isBase64Encoded: false,
      body: '{"destination":"U0","events":[]}',
    });
    const line = (await handle(
      post('/webhooks/line', { 'x-line-signature': 'bm90LXRoZS1zaWduYXR1cmU=' }),
    )) as {
      statusCode: number;
      body: string;
    };
    expect(line.statusCode).toBe(401);
    expect(line.body).not.toContain('line-secret');
    const lark = (await handle(post('/webhooks/lark', {}))) as { statusCode: number };
    expect(lark.statusCode).toBe(404); // no LARK_* keys in the secret: no Lark adapter, no route
    secret = {
      ...secret,
      LARK_APP_ID: 'cli_x',
      LARK_APP_SECRET: 'lark-secret',
      LARK_VERIFICATION_TOKEN: 'vt',
      LARK_ENCRYPT_KEY: 'ek',
    };
    const larkNow = (await handle(post('/webhooks/lark', {}))) as { statusCode: number };
    expect(larkNow.statusCode).not.toBe(404); // rebuilt with the Lark adapter: refused, not unknown
    expect(larkNow.statusCode).toBeGreaterThanOrEqual(400);
    expect(larkNow.statusCode).toBeLessThan(500);
  });

  it('runs the pipeline reconciler on its scheduled event: resumes an ended pipeline whose hook was lost, heartbeats a running one', async () => {
    // Step Functions, as the SDK speaks it (JSON 1.0, X-Amz-Target): records SendTask* calls.
    const sfnCalls: Array<{ target: string; body: Record<string, unknown> }> = [];
    const sfn = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        sfnCalls.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(text || '{}') });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => sfn.listen(0, '127.0.0.1', resolve));
    const savedSfn = process.env.AWS_ENDPOINT_URL_SFN;
    process.env.AWS_ENDPOINT_URL_SFN = `http://127.0.0.1:${(sfn.address() as AddressInfo).port}`;
    const gitlab = await startGitLabFake();
    try {
      const project = gitlab.pipelines.seedProject({ id: 77, path: 'group/reconciled' });
      const sha = project.branches.get('main')?.[0]?.id ?? '';
      const client = createGitLabClient({ url: gitlab.url, token: gitlab.token });
      gitlab.pipelines.planNext('hold', 'hold');
      const ended = await client.createPipeline(77, 'main', {});
      const running = await client.createPipeline(77, 'main', {});
      // The first ends while its hook is lost (no hook target is set: nothing reaches Signoff).
      await gitlab.pipelines.finishPipeline(ended.id, 'success', 'drop');
      const store = createPipelineStore(dynamo.client, dynamo.tableName);
      const run = (pipelineId: number, n: number) => ({
        pipelineId,
        executionArn: `${ARN}-release-${n}`,
        approvalId: `apr-${n}`,
        release: 'web',
        project: '77',
        ref: 'main',
        sha,
        createdAt: `2026-01-01T00:00:0${n}.000Z`,
      });
      await store.wait(run(ended.id, 1), 'token-ended');
      await store.wait(run(running.id, 2), 'token-running');

      const handler = lambdaTask(taskFrom(reconcileModule, 'reconcile-pipelines'), {
        env,
        readSecret: async () => ({ GITLAB_URL: gitlab.url, GITLAB_TOKEN: gitlab.token }),
        logger,
        clients: { gitlab: createGitLabClient },
      });
      // The payload the rule sends (cdk/stack.ts: RuleTargetInput.fromObject({})).
      expect(await handler({})).toEqual({ checked: 2, resumed: 1, running: 1, failed: 0 });
      expect(sfnCalls.map((c) => [c.target, c.body.taskToken])).toEqual([
        ['AWSStepFunctions.SendTaskSuccess', 'token-ended'],
        ['AWSStepFunctions.SendTaskHeartbeat', 'token-running'],
      ]);
      expect(JSON.parse(String(sfnCalls[0]?.body.output))).toMatchObject({
        pipelineId: ended.id,
        status: 'success',
        via: 'reconciler',
      });
      expect((await store.get(ended.id))?.resumedAt).toBeDefined();
      // The next run resumes nothing twice: only the running one is still waited for.
      sfnCalls.length = 0;
      expect(await handler({})).toEqual({ checked: 1, resumed: 0, running: 1, failed: 0 });
      expect(sfnCalls.map((c) => c.target)).toEqual(['AWSStepFunctions.SendTaskHeartbeat']);
    } finally {
      if (savedSfn === undefined) delete process.env.AWS_ENDPOINT_URL_SFN;
      else process.env.AWS_ENDPOINT_URL_SFN = savedSfn;
      await gitlab.close();
      await new Promise<void>((resolve) => sfn.close(() => resolve()));
    }
  });

  it('re-delivers outbox decisions on the scheduled event', async () => {
    const handle = createWebhookHandler({ env, readSecret: async () => ({}), logger });
    expect(await handle({ signoff: 'redeliver' })).toEqual({ redelivered: 0 });
  });
});
