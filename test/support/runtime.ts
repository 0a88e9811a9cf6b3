import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Approval } from '../../core/approvals/types.ts';
import type { Notice } from '../../core/chat.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { buildMergeRequestHook, type FakeMergeRequest, type GitLabFake } from '../../local/demo/gitlab.ts';
import type { LambdaFake } from '../../local/demo/lambda.ts';
import type { SupportFake } from '../../local/demo/support.ts';
import { type Signoff, type StartOptions, startSignoff } from '../../local/start.ts';

export const WEBHOOK_TOKEN = 'test-webhook-token';

export interface TestRuntime extends Signoff {
  dataDir: string;
  gitlab: GitLabFake;
  /** The Lambda stand-in (seeded with the demo functions) the deploy and rollback tasks call. */
  lambda: LambdaFake;
  /** The AWS Support stand-in (seeded services) the support-case task and commands call. */
  support: SupportFake;
  sfn: SFNClient;
  /** Stop the runtime and delete its data. */
  stop(): Promise<void>;
}

/** The real embedded runtime on free loopback ports, with a fresh data dir and the GitLab stand-in. */
export async function startTestRuntime(
  config?: Config,
  dataDir?: string,
  env: Record<string, string> = {},
  /**
   * `demo: false` runs the console as with a team's own configuration (sign-in, bearer tokens).
   * By default the console is in demo mode, as on the built-in demo configuration: these tests
   * act as several people through the API (`actor`). test/console/sign-in.test.ts and
   * test/browser/sign-in.test.ts prove the rule for real configurations.
   */
  options: {
    demo?: boolean;
    /** A port reserved by the test, for a configuration whose `console.publicUrl` must name it. */
    appPort?: number;
    /** Where the runtime's log lines go (none by default). */
    log?: StartOptions['log'];
  } = {},
): Promise<TestRuntime> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'signoff-test-'));
  const signoff = await startSignoff({
    dataDir: dir,
    host: '127.0.0.1',
    ports: { app: options.appPort ?? 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0 },
    env: { GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN, ...env },
    config: config ?? parseConfig(DEFAULT_CONFIG_INPUT),
    demo: options.demo ?? true,
    redeliverEveryMs: 0,
    // Tests run the pipeline reconciler themselves (rt.reconcilePipelines()).
    reconcileEveryMs: 0,
    ...(options.log ? { log: options.log } : {}),
  });
  const gitlab = signoff.gitlabDemo;
  if (!gitlab) throw new Error('expected the GitLab stand-in');
  const lambda = signoff.lambdaDemo;
  if (!lambda) throw new Error('expected the Lambda stand-in');
  const support = signoff.supportDemo;
  if (!support) throw new Error('expected the AWS Support stand-in');
  const sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: signoff.urls.sfn,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    ...signoff,
    dataDir: dir,
    gitlab,
    lambda,
    support,
    sfn,
    async stop() {
      sfn.destroy();
      await signoff.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The default configuration's input with these users' ids on one chat platform (`users.<key>.<platform>`). */
export function inputWithChatIds(
  platform: 'lark' | 'line' | 'slack' | 'dingtalk',
  ids: Record<string, string>,
): typeof DEFAULT_CONFIG_INPUT {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as typeof DEFAULT_CONFIG_INPUT & {
    users: Record<string, Record<string, string>>;
  };
  for (const [user, id] of Object.entries(ids)) {
    const entry = input.users[user];
    if (!entry) throw new Error(`the default configuration has no user "${user}"`);
    entry[platform] = id;
  }
  return input;
}

/** The default configuration with these users' ids on one chat platform. */
export function configWithChatIds(
  platform: 'lark' | 'line' | 'slack' | 'dingtalk',
  ids: Record<string, string>,
): Config {
  return parseConfig(inputWithChatIds(platform, ids));
}

/** Config from the defaults with changes applied to one policy. */
export function configWith(changes: Partial<Record<'merge-request', Record<string, unknown>>>): Config {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
    policies: Record<string, Record<string, unknown>>;
  };
  for (const [kind, policy] of Object.entries(changes))
    input.policies[kind] = { ...input.policies[kind], ...policy };
  return parseConfig(input);
}

/** POST a GitLab webhook as GitLab would. */
export function postGitLab(
  appUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${appUrl}/webhooks/gitlab`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Merge Request Hook',
      'x-gitlab-token': WEBHOOK_TOKEN,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Seed an MR in the stand-in and build its "open" hook. */
export function openedMergeRequest(
  gitlab: GitLabFake,
  iid: number,
  author = 'alice',
): { mr: FakeMergeRequest; hook: object } {
  const mr = gitlab.seedMergeRequest({
    projectId: 7,
    projectPath: 'platform/app',
    iid,
    title: `Change ${iid}`,
    author: { id: 11, username: author, name: author[0]?.toUpperCase() + author.slice(1) },
  });
  return {
    mr,
    hook: buildMergeRequestHook(mr, { action: 'open', actor: { username: author }, baseUrl: gitlab.url }),
  };
}

/** Wait for `check` to return a value (not undefined/false); a bound on waiting, not a timing assertion. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  limitMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** The pending approval of an execution, once `request-approval` has stored it. */
export async function pendingFor(rt: TestRuntime, executionArn: string): Promise<Approval> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    return body.approvals.find((a) => a.executionArn === executionArn);
  }, 'the approval card');
}

/** How an execution ended, once it has. */
export async function finalStatus(rt: TestRuntime, executionArn: string, limitMs = 40_000): Promise<string> {
  return eventually(
    async () => {
      const out = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status !== 'RUNNING' && out.status;
    },
    'the execution to end',
    limitMs,
  );
}

/** How an execution ended: its status and, when it FAILED, the error and cause (e.g. `Signoff.Rejected` and the reason). */
export async function finalOutcome(
  rt: TestRuntime,
  executionArn: string,
): Promise<{ status: string; error?: string; cause?: string }> {
  await finalStatus(rt, executionArn);
  const out = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
  return {
    status: String(out.status),
    ...(out.error !== undefined && { error: out.error }),
    ...(out.cause !== undefined && { cause: out.cause }),
  };
}

/** Decide an approval through the console API, as `actor`. */
export function decideAs(
  rt: TestRuntime,
  approvalId: string,
  actor: string,
  decision: 'approve' | 'reject',
  comment?: string,
): Promise<Response> {
  return fetch(`${rt.urls.app}/console/api/approvals/${approvalId}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision, actor, ...(comment ? { comment } : {}) }),
  });
}

/** Type a chat command in the console, as `actor` (the console is a chat platform like Lark or LINE). */
export async function consoleCommand(
  rt: TestRuntime,
  actor: string,
  text: string,
  eventId?: string,
): Promise<Notice> {
  const response = await fetch(`${rt.urls.app}/console/api/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ actor, text, ...(eventId ? { eventId } : {}) }),
  });
  if (response.status !== 200)
    throw new Error(`command "${text}" answered ${response.status}: ${await response.text()}`);
  return (await json<{ notice: Notice }>(response)).notice;
}
