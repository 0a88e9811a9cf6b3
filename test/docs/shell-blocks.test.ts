import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import {
  decideAs,
  finalStatus,
  json,
  pendingFor,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';
import {
  type CodeBlock,
  codeBlocks,
  consoleCommands,
  SHELL_LANGS,
  type ShellCommand,
  shellCommands,
} from './markdown-blocks.ts';

/**
 * Docs that work when pasted (issue #21 item 7): every command in a shell block of README.md and
 * docs/*.md is either run here, as written, against a runtime this test starts, or excluded by
 * a rule that says why. A command no rule matches fails the test, so a new command in the docs
 * is run or consciously excluded. The only changes made before running are the documented
 * default ports (8787, 8083, …) becoming the test runtime's free ports, and the placeholders a
 * rule names (`APPROVAL_ID`, …) becoming real values.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

/** What a command needs from the runtime before it runs, and the values of its placeholders. */
interface DocsContext {
  rt: TestRuntime;
  /** A merge request simulated as the console's button does, paused on its approval (requested by alice). */
  pendingMergeRequest(): Promise<{ executionArn: string; approvalId: string }>;
  /** The last one made. */
  latest?: { executionArn: string; approvalId: string };
}

interface Ran {
  code: number;
  out: string;
  err: string;
}

type Rule =
  | { match: RegExp; excluded: string }
  | {
      match: RegExp;
      /** A program the command needs that `npm install` does not provide. */
      needs?: 'aws';
      /** Placeholder in the command → its value, made when the command is about to run. */
      given?: Record<string, (ctx: DocsContext) => Promise<string>>;
      /** Runs before the command (state the doc assumes, e.g. "after approving as bob"). */
      before?: (ctx: DocsContext) => Promise<void>;
      expect?: (ran: Ran, ctx: DocsContext) => void | Promise<void>;
    };

const AWS_ACCOUNT_NEEDED =
  'needs an AWS account and its credentials (docs/deploy-aws.md); the test runs offline';

const freshApprovalId = async (ctx: DocsContext) => (await ctx.pendingMergeRequest()).approvalId;

const RULES: Rule[] = [
  // Run: the quick start and the CLI.
  {
    match: /^npx signoff executions$/,
    before: async (ctx) => {
      await ctx.pendingMergeRequest();
    },
    expect: ({ out }, ctx) => {
      expect(out).toMatch(/^NAME\s+STATUS\s+ERROR\s+STARTED/);
      expect(out).toContain(ctx.latest?.executionArn.split(':').pop());
    },
  },
  {
    match: /^curl -s 'http:\/\/127\.0\.0\.1:8787\/console\/api\/approvals\?status=pending'$/,
    before: async (ctx) => {
      await ctx.pendingMergeRequest();
    },
    expect: ({ out }, ctx) => {
      const { approvals } = JSON.parse(out) as { approvals: Approval[] };
      expect(approvals.map((a) => a.approvalId)).toContain(ctx.latest?.approvalId);
    },
  },
  {
    match: /^curl -s -X POST http:\/\/127\.0\.0\.1:8787\/console\/api\/approvals\/APPROVAL_ID\/decision /,
    given: { APPROVAL_ID: freshApprovalId },
    expect: ({ out }) => {
      expect(JSON.parse(out)).toMatchObject({ outcome: 'completed', approval: { status: 'approved' } });
    },
  },
  {
    match: /^export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1\b/,
  },
  {
    match: /^aws stepfunctions --endpoint-url http:\/\/127\.0\.0\.1:8083 list-executions /,
    needs: 'aws',
    before: async (ctx) => {
      await ctx.pendingMergeRequest();
    },
    expect: ({ out }, ctx) => {
      const { executions } = JSON.parse(out) as { executions: Array<{ executionArn: string }> };
      expect(executions.map((e) => e.executionArn)).toContain(ctx.latest?.executionArn);
    },
  },
  {
    match: /^aws stepfunctions --endpoint-url http:\/\/127\.0\.0\.1:8083 get-execution-history /,
    needs: 'aws',
    given: {
      'signoff-merge-request:NAME': async (ctx) =>
        `signoff-merge-request:${(await ctx.pendingMergeRequest()).executionArn.split(':').pop()}`,
    },
    expect: ({ out }) => {
      const { events } = JSON.parse(out) as { events: Array<{ type: string }> };
      expect(events[0]?.type).toBe('ExecutionStarted');
    },
  },
  { match: /^export AWS_ENDPOINT_URL_(SFN|DYNAMODB)=http:\/\/127\.0\.0\.1:(8083|8000)$/ },
  {
    match: /^npx signoff audit --kind merge-request --actor bob --format csv$/,
    // "after approving the demo merge request as bob"
    before: async (ctx) => {
      const { executionArn, approvalId } = await ctx.pendingMergeRequest();
      expect((await decideAs(ctx.rt, approvalId, 'bob', 'approve')).status).toBe(200);
      expect(await finalStatus(ctx.rt, executionArn)).toBe('SUCCEEDED');
    },
  },
  {
    // On the demo configuration; test/cli/decide-identity.test.ts covers --override on a team's.
    match: /^npx signoff decide a3F… approve --as carol --override --reason "carol approved on the phone"$/,
    given: { 'a3F…': freshApprovalId },
  },
  {
    match: /^curl -s -X POST http:\/\/127\.0\.0\.1:8787\/console\/api\/commands .*"text":"approvals"/,
    expect: ({ out }) => {
      expect(JSON.parse(out)).toMatchObject({
        notice: { title: expect.any(String), text: expect.any(String) },
      });
    },
  },
  {
    match: /^curl -s localhost:8787\/console\/api\/commands .*"text":"service code lambda"/,
    expect: ({ out }) => {
      expect((JSON.parse(out) as { notice: { text: string } }).notice.text).toContain('aws-lambda');
    },
  },

  // Excluded, each with the reason.
  {
    match: /^npm install && npm start$/,
    excluded:
      'installs from the npm registry and runs until Ctrl-C; this test starts the same runtime (startSignoff, what npm start runs) on free ports',
  },
  {
    match: /^npm start$/,
    excluded:
      'runs until Ctrl-C, here with a real GitLab; test/local/start.test.ts and test/local/crash.test.ts start local/start.ts as a process',
  },
  {
    match: /^export GITLAB_(URL|TOKEN|WEBHOOK_TOKEN)=/,
    excluded: 'settings for your own GitLab (gitlab.example.com and the … tokens stand for yours)',
  },
  {
    match: /^SLACK_SIGNING_SECRET=… SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… npm start$/,
    excluded:
      "needs a Slack app's secrets and runs until Ctrl-C; test/local/slack.test.ts runs Slack against its fake",
  },
  {
    match: /^(git pull && )?npm install && npm test$/,
    excluded: 'the npm registry, and the whole suite, this test included',
  },
  {
    match: /^npm run bench( -- .*)?$/,
    excluded: 'benchmarks: minutes of CPU, and they never fail (they print figures next to targets)',
  },
  {
    match: /^npx tsx bench\/audit-query\.ts$/,
    excluded: 'a benchmark: seeds 100,000 audit records (about 90 s) before it measures',
  },
  {
    match: /^(RELIABILITY_RUNTIME_ARGS="[^"]*" (MEMORY_SAMPLES=\S+ )?)?npm run reliability( -- .*)?$/,
    excluded:
      'the reliability harness: about 13 minutes on 2 cores; test/reliability.test.ts runs its short configuration in npm test',
  },
  {
    match: /^npx cdk synth --quiet$/,
    excluded:
      'bundles every function and runs cdk-nag (minutes of CPU); test/cdk/app.test.ts synthesizes the app and test/cdk/deployed.test.ts runs its bundles',
  },
  {
    match: /^export AWS_REGION=eu-west-1$/,
    excluded: `sets up the bootstrap below, which ${AWS_ACCOUNT_NEEDED}`,
  },
  { match: /^npx cdk (bootstrap|diff|deploy|destroy) /, excluded: AWS_ACCOUNT_NEEDED },
  { match: /^npm run deploy -- /, excluded: AWS_ACCOUNT_NEEDED },
  {
    match: /^(SECRET=\$\(|WEBHOOK_TOKEN=\$\()?aws (cloudformation|secretsmanager) /,
    excluded: AWS_ACCOUNT_NEEDED,
  },
  {
    match: /^rm \/tmp\/signoff-secret\.json$/,
    excluded: `cleans up after the secret update above, which ${AWS_ACCOUNT_NEEDED}`,
  },
];

/** The documented default ports and the part of the test runtime each stands for. */
const DEFAULT_PORTS: Record<string, (rt: TestRuntime) => string> = {
  '8787': (rt) => rt.urls.app,
  '8083': (rt) => rt.urls.sfn,
  '8000': (rt) => rt.urls.dynamo,
  '8790': (rt) => rt.urls.gitlab,
};

interface Classified {
  command: ShellCommand;
  rule: Rule | undefined;
}

function commandsOf(block: CodeBlock): ShellCommand[] {
  if (SHELL_LANGS.includes(block.lang)) return shellCommands(block);
  if (block.lang === 'console') return consoleCommands(block);
  return [];
}

const DOCS = FILES.map((file) => ({ file, ...codeBlocks(file, readFileSync(join(ROOT, file), 'utf8')) }));
const SHELL_BLOCKS = DOCS.flatMap((doc) =>
  doc.blocks
    .map((block) => ({
      block,
      commands: commandsOf(block).map(
        (command): Classified => ({ command, rule: RULES.find((r) => r.match.test(command.normalized)) }),
      ),
    }))
    .filter((b) => b.commands.length > 0),
);
const RUN_BLOCKS = SHELL_BLOCKS.filter((b) => b.commands.some((c) => c.rule && !('excluded' in c.rule)));

describe('the shell blocks of README.md and docs/*.md', () => {
  it('are all fenced with a language: no indented code block, no bare fence', () => {
    const problems = DOCS.flatMap((doc) => [
      ...doc.indented.map((line) => `${doc.file}:${line} indented code block: fence it with a language`),
      ...doc.blocks
        .filter((block) => block.lang === '')
        .map((block) => `${block.file}:${block.line} fence without a language (sh, console, json, text, …)`),
    ]);
    expect(problems).toEqual([]);
  });

  it('has every command run by this test or excluded with a reason, and every rule in use', () => {
    const unclassified = SHELL_BLOCKS.flatMap((b) =>
      b.commands
        .filter((c) => !c.rule)
        .map((c) => `${b.block.file}:${c.command.line} ${c.command.normalized}`),
    );
    expect(unclassified, 'commands no rule runs or excludes: add a rule in this file').toEqual([]);
    const used = new Set(SHELL_BLOCKS.flatMap((b) => b.commands.map((c) => c.rule)));
    expect(
      RULES.filter((rule) => !used.has(rule)).map((rule) => String(rule.match)),
      'rules that match no command in the docs: delete them',
    ).toEqual([]);
    for (const rule of RULES)
      if ('excluded' in rule) expect(rule.excluded.length, String(rule.match)).toBeGreaterThan(20);
  });

  describe('run as written against a runtime', () => {
    let rt: TestRuntime;
    let home: string;
    let ctx: DocsContext;

    beforeAll(async () => {
      rt = await startTestRuntime();
      home = mkdtempSync(join(tmpdir(), 'signoff-docs-home-'));
      ctx = {
        rt,
        async pendingMergeRequest() {
          const response = await fetch(`${rt.urls.app}/console/api/demo/merge-requests`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          expect(response.status).toBe(202);
          const { executionArn } = await json<{ executionArn: string }>(response);
          const { approvalId } = await pendingFor(rt, executionArn);
          ctx.latest = { executionArn, approvalId };
          return ctx.latest;
        },
      };
    }, 60_000);

    afterAll(async () => {
      await rt?.stop();
      if (home) rmSync(home, { recursive: true, force: true });
    });

    for (const { block, commands } of RUN_BLOCKS) {
      it(`${block.file}:${block.line}`, async (test) => {
        const needs = commands.flatMap((c) =>
          c.rule && 'needs' in c.rule && c.rule.needs ? [c.rule.needs] : [],
        );
        for (const program of new Set(needs))
          if (spawnSync(program, ['--version'], { env: shellEnv(home, rt) }).error)
            test.skip(`${program} is not installed (not an npm dependency)`);
        await runBlock(commands, ctx, home);
      }, 120_000);
    }
  });
});

/** A fresh user's shell in the clone: no AWS settings or config, the runtime's data dir. */
function shellEnv(home: string, rt: TestRuntime): NodeJS.ProcessEnv {
  // npm test puts node_modules/.bin first; a user's shell does not have it.
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.endsWith(join('node_modules', '.bin')))
    .join(delimiter);
  return {
    PATH: path,
    HOME: home,
    // The runtime's data dir, as `npm start` in the same folder would have made it.
    SIGNOFF_DATA_DIR: rt.dataDir,
    npm_config_update_notifier: 'false',
  };
}

const MARK = '\u0001doc-command ';

/** Run a block's runnable commands in one shell (exports carry over), each checked on its own output. */
async function runBlock(commands: Classified[], ctx: DocsContext, home: string): Promise<void> {
  const script = ['set -eo pipefail'];
  const checks: Array<{ index: number; command: ShellCommand; rule: Exclude<Rule, { excluded: string }> }> =
    [];
  for (const [index, { command, rule }] of commands.entries()) {
    if (!rule || 'excluded' in rule) continue;
    await rule.before?.(ctx);
    let source = command.source;
    for (const [placeholder, value] of Object.entries(rule.given ?? {}))
      source = source.split(placeholder).join(await value(ctx));
    source = source.replace(/\b(127\.0\.0\.1|localhost):(\d{4})\b/g, (whole, _host, port: string) => {
      const url = DEFAULT_PORTS[port]?.(ctx.rt);
      return url ? url.replace(/^http:\/\//, '') : whole;
    });
    script.push(`printf '\\n${MARK}%d\\n' ${index}`, `printf '\\n${MARK}%d\\n' ${index} >&2`, source);
    checks.push({ index, command, rule });
  }
  const ran = await bash(script.join('\n'), shellEnv(home, ctx.rt));
  const outputs = split(ran.out);
  const errors = split(ran.err);
  const last = checks.filter((c) => outputs.has(c.index)).at(-1);
  expect(
    ran.code,
    `exit ${ran.code} at ${last?.command.normalized}\nstdout: ${outputs.get(last?.index ?? -1) ?? ''}\nstderr: ${errors.get(last?.index ?? -1) ?? ran.err}`,
  ).toBe(0);
  for (const { index, command, rule } of checks) {
    const out = outputs.get(index) ?? '';
    const err = errors.get(index) ?? '';
    // What a `console` block shows under the command is what it prints (lines with … stand for values).
    for (const shown of command.shownOutput ?? [])
      if (shown.trim() && !shown.includes('…'))
        expect(out.split(/\r?\n/), `${command.normalized} printed:\n${out}`).toContain(shown);
    await rule.expect?.({ code: ran.code, out, err }, ctx);
  }
}

function split(text: string): Map<number, string> {
  const parts = new Map<number, string>();
  for (const part of text.split(`\n${MARK}`).slice(1)) {
    const newline = part.indexOf('\n');
    parts.set(Number(part.slice(0, newline)), part.slice(newline + 1).replace(/\n$/, ''));
  }
  return parts;
}

function bash(script: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, out, err }));
  });
}
