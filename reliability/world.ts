import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Approval } from '../core/approvals/types.ts';
import { DEFAULT_CONFIG_INPUT, DEFAULT_DEPLOY } from '../core/config.ts';
import { buildMergeRequestHook, type GitLabFake, startGitLabFake } from '../local/demo/gitlab.ts';
import { DEMO_FUNCTIONS, type LambdaFake, startLambdaFake } from '../local/demo/lambda.ts';
import { type SupportFake, startSupportFake } from '../local/demo/support.ts';
import { type DingTalkFake, startDingTalkFake } from '../test/fakes/dingtalk.ts';
import { type LarkFake, signedLarkRequest, startLarkFake } from '../test/fakes/lark.ts';
import { type LineFake, startLineFake } from '../test/fakes/line.ts';
import { type SlackFake, startSlackFake } from '../test/fakes/slack.ts';
import { type RuntimeProcess, startRuntimeProcess, waitFor } from './runtime.ts';

export const WEBHOOK_TOKEN = 'reliability-webhook-token-0123456789';
export const LARK = {
  encryptKey: 'reliability-encrypt-key',
  verificationToken: 'reliability-verification-token',
};
export const LINE_IDS: Record<string, string> = {
  alice: 'U00000000000000000000000000a11ce0',
  bob: 'U00000000000000000000000000000b0b',
  carol: 'U00000000000000000000000000ca7010',
};
export const OPEN_IDS: Record<string, string> = {
  alice: 'ou_alice_reliability_000000000000000',
  bob: 'ou_bob_reliability_00000000000000000',
  carol: 'ou_carol_reliability_000000000000000',
};
export const SLACK_IDS: Record<string, string> = {
  alice: 'UA11CE00001',
  bob: 'UB0B0000002',
  carol: 'UCA7010003',
};
/** DingTalk staff ids (userId). */
export const DINGTALK_IDS: Record<string, string> = {
  alice: 'staff-alice-0001',
  bob: 'staff-bob-0002',
  carol: 'staff-carol-0003',
};
/** The chat platforms a world's runtime is given credentials for. */
export type WorldPlatform = 'lark' | 'line' | 'slack' | 'dingtalk';
/** Approvers of the load scenario: one per project `platform/load-NN`, each on Lark, LINE and the console. */
export const LOAD_APPROVERS = 50;
/** The project whose merge requests need two approvals (bob and carol). */
export const QUORUM_PROJECT = { id: 8, path: 'platform/quorum' };
export function loadApprover(n: number): { user: string; project: string; openId: string; lineId: string } {
  const nn = String(n).padStart(2, '0');
  return {
    user: `approver${nn}`,
    project: `platform/load-${nn}`,
    openId: `ou_approver_${nn}_reliability_00000000000`,
    lineId: `U${nn.padStart(32, '0')}`,
  };
}
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';

/** What Signoff did, counted where it shows: executions, votes, chat messages, GitLab writes. */
export interface Effects {
  executions: number;
  votes: number;
  chatMessages: number;
  gitlabWrites: number;
}

/** The runtime as a child process, with wire-true fakes of the platforms it talks to. */
export interface World {
  runtime: RuntimeProcess;
  /**
   * The runtime runs on a real configuration (SIGNOFF_CONFIG), so the console API wants a
   * person: the bearer header of `user`'s token (SIGNOFF_CONSOLE_TOKENS; default alice).
   */
  auth(user?: string): Record<string, string>;
  gitlab: GitLabFake;
  lark: LarkFake;
  line: LineFake;
  /** Slack and DingTalk: always running, used by the runtime only in a world started with them. */
  slack: SlackFake;
  dingtalk: DingTalkFake;
  /** The chat platforms the runtime was given credentials for. */
  platforms: readonly WorldPlatform[];
  /** AWS Lambda (deploy, rollback), seeded with the demo functions; the runtime's AWS_ENDPOINT_URL_LAMBDA. */
  lambda: LambdaFake;
  /** AWS Support (support cases); the runtime's AWS_ENDPOINT_URL_SUPPORT. */
  support: SupportFake;
  sfn: SFNClient;
  effects(): Promise<Effects>;
  /** A new merge request in GitLab, its webhook delivered, waiting for approval. */
  pendingMergeRequest(iid: number): Promise<{ executionArn: string; approval: Approval; hook: object }>;
  postGitLab(body: unknown, headers?: Record<string, string>): Promise<Response>;
  postLark(body: object, options?: { timestamp?: number }): Promise<Response>;
  executionStatus(executionArn: string): Promise<string>;
  /** The pending approval of an execution, once request-approval stored it. */
  pendingApproval(executionArn: string): Promise<Approval>;
  /** A decision through the console API, as `actor` (a configured user). */
  decide(
    approvalId: string,
    actor: string,
    decision?: 'approve' | 'reject',
    comment?: string,
  ): Promise<Response>;
  /** How an execution ended, once it has. */
  ended(executionArn: string, limitMs?: number): Promise<string>;
  /** The audit records of one execution. */
  audit(
    executionArn: string,
  ): Promise<Array<{ action: string; outcome?: string; detail?: Record<string, unknown> }>>;
  close(): Promise<void>;
}

export async function startWorld(
  options: {
    timeoutSeconds?: number /** Run the runtime on this DynamoDB instead of its embedded one. */;
    dynamoUrl?: string;
    /** The chat platforms the runtime talks to (default Lark and LINE). */
    platforms?: readonly WorldPlatform[];
    /** More environment and Node flags for the runtime (the disk row's preload). */
    env?: Record<string, string>;
    nodeArgs?: string[];
  } = {},
): Promise<World> {
  const platforms = options.platforms ?? ['lark', 'line'];
  const gitlab = await startGitLabFake();
  const lark = await startLarkFake();
  const line = await startLineFake();
  const slack = await startSlackFake();
  const dingtalk = await startDingTalkFake();
  const lambda = await startLambdaFake({
    region: 'us-east-1',
    accountId: '123456789012',
    functions: DEMO_FUNCTIONS,
  });
  const support = await startSupportFake();
  const config = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, Record<string, string>>;
    policies: Record<string, Record<string, unknown>>;
  };
  for (const [user, openId] of Object.entries(OPEN_IDS)) {
    const entry = config.users[user];
    if (entry) {
      entry.lark = openId;
      entry.line = LINE_IDS[user] as string;
      entry.slack = SLACK_IDS[user] as string;
      entry.dingtalk = DINGTALK_IDS[user] as string;
    }
  }
  const mergeRequest = config.policies['merge-request'] as { overrides?: Record<string, unknown> };
  mergeRequest.overrides = { ...mergeRequest.overrides };
  // A quorum of two, for votes that race each other (duplicates.ts quorumRace).
  mergeRequest.overrides[QUORUM_PROJECT.path] = { approvers: ['bob', 'carol'], required: 2 };
  for (let n = 1; n <= LOAD_APPROVERS; n++) {
    const a = loadApprover(n);
    config.users[a.user] = { name: `Approver ${n}`, gitlab: a.user, lark: a.openId, line: a.lineId };
    mergeRequest.overrides[a.project] = { approvers: [a.user], required: 1 };
  }
  // Deploys promote the demo functions' aliases dev → test → prod (docs/deploy.md).
  Object.assign(config, { deploy: structuredClone(DEFAULT_DEPLOY) });
  if (options.timeoutSeconds) {
    config.policies['merge-request'] = {
      ...config.policies['merge-request'],
      timeoutSeconds: options.timeoutSeconds,
    };
  }
  // One console token per configured user: scripts act as each person through the API.
  const tokens = Object.fromEntries(
    Object.keys(config.users).map((user) => [user, randomBytes(32).toString('base64url')]),
  );
  const chatEnv: Record<WorldPlatform, Record<string, string>> = {
    lark: {
      LARK_APP_ID: lark.appId,
      LARK_APP_SECRET: lark.appSecret,
      LARK_ENCRYPT_KEY: LARK.encryptKey,
      LARK_VERIFICATION_TOKEN: LARK.verificationToken,
      LARK_DOMAIN: lark.url,
    },
    line: {
      LINE_CHANNEL_SECRET: line.channelSecret,
      LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
      LINE_API_BASE_URL: line.url,
    },
    slack: {
      SLACK_SIGNING_SECRET: slack.signingSecret,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.apiUrl,
    },
    dingtalk: {
      DINGTALK_APP_KEY: dingtalk.appKey,
      DINGTALK_APP_SECRET: dingtalk.appSecret,
      DINGTALK_CARD_TEMPLATE_ID: dingtalk.cardTemplateId,
      DINGTALK_API_URL: dingtalk.url,
    },
  };
  const runtime = await startRuntimeProcess(
    {
      SIGNOFF_CONSOLE_TOKENS: JSON.stringify(tokens),
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      ...Object.assign({}, ...platforms.map((p) => chatEnv[p])),
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
      AWS_ENDPOINT_URL_SUPPORT: support.url,
      SIGNOFF_CONFIG: writeConfig(config),
      ...(options.dynamoUrl ? { SIGNOFF_DYNAMODB_URL: options.dynamoUrl } : {}),
      ...options.env,
    },
    undefined,
    options.nodeArgs,
  );
  const sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: runtime.sfn,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  const world: World = {
    runtime,
    auth: (user = 'alice') => ({ authorization: `Bearer ${tokens[user] ?? ''}` }),
    gitlab,
    lark,
    line,
    slack,
    dingtalk,
    platforms,
    lambda,
    support,
    sfn,
    async effects() {
      let executions = 0;
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(
          new ListExecutionsCommand({ stateMachineArn: MACHINE, nextToken, maxResults: 1000 }),
        );
        executions += page.executions?.length ?? 0;
        nextToken = page.nextToken;
      } while (nextToken);
      let votes = 0;
      for (const status of ['pending', 'approved', 'rejected', 'cancelled', 'expired']) {
        const body = (await (
          await fetch(`${runtime.app}/console/api/approvals?status=${status}&limit=1000`, {
            headers: world.auth(),
          })
        ).json()) as {
          approvals: Approval[];
        };
        // One page holds at most 1,000: counting past it would undercount the votes, silently.
        if (body.approvals.length >= 1000)
          throw new Error(`more than 1,000 ${status} approvals: votes cannot be counted`);
        for (const approval of body.approvals) votes += approval.votes.length;
      }
      const chatMessages =
        lark.requests.filter((r) => r.method !== 'GET' && !r.path.includes('tenant_access_token')).length +
        line.messages.length +
        slack.messages.length +
        dingtalk.messages.length +
        dingtalk.cards.size;
      const gitlabWrites = gitlab.requests.filter((r) => r.method !== 'GET').length;
      return { executions, votes, chatMessages, gitlabWrites };
    },
    async pendingMergeRequest(iid) {
      const mr = gitlab.seedMergeRequest({
        projectId: 9,
        projectPath: 'platform/reliability',
        iid,
        title: `Change ${iid}`,
      });
      const hook = buildMergeRequestHook(mr, {
        action: 'open',
        actor: { username: 'alice' },
        baseUrl: gitlab.url,
      });
      const response = await world.postGitLab(hook);
      const { executionArn } = (await response.json()) as { executionArn: string };
      return { executionArn, approval: await world.pendingApproval(executionArn), hook };
    },
    pendingApproval(executionArn) {
      return waitFor(async () => {
        const body = (await (
          await fetch(`${runtime.app}/console/api/approvals?status=pending`, { headers: world.auth() })
        ).json()) as {
          approvals: Approval[];
        };
        return body.approvals.find((a) => a.executionArn === executionArn);
      }, `the approval of ${executionArn}`);
    },
    decide(approvalId, actor, decision = 'approve', comment) {
      return fetch(`${runtime.app}/console/api/approvals/${approvalId}/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...world.auth(actor) },
        body: JSON.stringify({ decision, actor, ...(comment ? { comment } : {}) }),
      });
    },
    ended(executionArn, limitMs = 90_000) {
      return waitFor(
        async () => {
          const status = await world.executionStatus(executionArn);
          return status !== 'RUNNING' && status;
        },
        'the execution to end',
        limitMs,
      );
    },
    async audit(executionArn) {
      const body = (await (
        await fetch(`${runtime.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`, {
          headers: world.auth(),
        })
      ).json()) as { records: Array<{ action: string; outcome?: string; detail?: Record<string, unknown> }> };
      return body.records;
    },
    postGitLab(body, headers = {}) {
      return fetch(`${runtime.app}/webhooks/gitlab`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Merge Request Hook',
          'x-gitlab-token': WEBHOOK_TOKEN,
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    postLark(body, signOptions = {}) {
      const request = signedLarkRequest(body, { encryptKey: LARK.encryptKey, ...signOptions });
      return fetch(`${runtime.app}/webhooks/lark`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
    },
    async executionStatus(executionArn) {
      return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status ?? 'UNKNOWN';
    },
    async close() {
      sfn.destroy();
      await runtime.stop();
      await gitlab.close();
      await lark.close();
      await line.close();
      await slack.close();
      await dingtalk.close();
      await lambda.close();
      await support.close();
    },
  };
  return world;

  function writeConfig(value: unknown): string {
    const path = join(mkdtempSync(join(tmpdir(), 'signoff-reliability-config-')), 'signoff.config.json');
    writeFileSync(path, JSON.stringify(value));
    return path;
  }
}
