import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { createConsoleChannel } from '../chat/console/index.ts';
import {
  type CliDecider,
  cliDecider,
  consoleActor,
  mapsAwsPrincipals,
  userForAwsPrincipal,
} from '../console/actor.ts';
import { allAuditRecords, toCsv } from '../console/export.ts';
import { parseAuditFilter, parseExecutionFilter, parseKindFilter, parseTime } from '../console/filters.ts';
import {
  approvalsFor,
  type ConsoleSources,
  executionDetails,
  listAllExecutions,
  listExecutions,
  waitingOn,
} from '../console/queries.ts';
import { formatDuration, timelineRows } from '../console/timeline.tsx';
import { redactHistory } from '../console/views.ts';
import { createSignoff, type Signoff } from '../core/app.ts';
import { nudgeRefusalError } from '../core/approvals/nudge.ts';
import { refusalError } from '../core/approvals/refusal.ts';
import { createApprovalStore } from '../core/approvals/store.ts';
import type { Approval, ApprovalStatus } from '../core/approvals/types.ts';
import { withdrawRefusalError } from '../core/approvals/withdraw.ts';
import { AUDIT_CHAINS, type AuditFilter, type AuditKind, createAuditLog } from '../core/audit.ts';
import { type Config, isDemoConfig, loadConfig, policyFor, type WorkflowKind } from '../core/config.ts';
import { DYNAMODB_MAX_ATTEMPTS } from '../core/db.ts';
import { createEventDeduper } from '../core/dedupe.ts';
import { createDelegationStore, parseUntil } from '../core/delegations.ts';
import { createEngineClient, findAccountId } from '../core/engine.ts';
import { ForbiddenError, InvalidInputError, NotFoundError, SignoffError } from '../core/errors.ts';
import { createLanguageStore } from '../core/languages.ts';
import { createNotificationStore } from '../core/notifications.ts';
import { workflows } from '../workflows/index.ts';

export const USAGE = `signoff — watch executions, decide approvals and audit, from a terminal

usage:
  signoff start <kind> --input <json | @file> [--as <user>] [--name <execution name>]
  signoff executions [--kind <kind>] [--status RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED]
                     [--since <date>] [--until <date>] [--requester <user>] [--limit <n>] [--cursor <c>]
  signoff history <execution arn | name> [--kind <kind>]
  signoff watch <execution arn | name> [--kind <kind>] [--interval <seconds>]
  signoff approvals [--status pending|approved|rejected|expired|cancelled] [--for <user>]
  signoff decide <approval id> approve|reject [--comment <text>] [--as <user> [--override --reason <why>]]
  signoff nudge <approval id> [--as <user>]          remind the approvers who have not voted (requester; once per 15 min)
  signoff cancel <approval id> [--reason <why>] [--as <user>]   withdraw your own pending request
  signoff delegate [to <user> --until <date> | off] [--as <user>]
                     while you are away, your cards go to <user>, who decides in your place
                     (--until 2026-12-24: through that day, UTC; at most 90 days); alone: show it
  signoff audit [--kind <kind>] [--actor <user>] [--action <action>] [--outcome <outcome>]
                [--since <date>] [--until <date>] [--execution <arn>] [--format table|csv|json]
  signoff audit verify [--since <date>] [--kind <kind | config | delegation>]   recompute the hash chains; exit 1 names the first broken link

  every command takes --format table|json (audit also csv); --help prints this, --version the version.
  executions lists every kind unless --kind says one; watch follows an execution until it ends.
  --status also takes Signoff.Rejected, Signoff.Cancelled or Signoff.Expired: the FAILED runs that
  ended so (ERROR shows how each FAILED run ended).
  exit codes: 0 done (watch: the execution succeeded), 1 a failure at run time (not found, refused,
  unreachable; watch: it failed, timed out or was aborted), 2 a wrong command line.

where it connects:
  with no AWS endpoint set, the local runtime of <SIGNOFF_DATA_DIR, default .signoff>/runtime.json
  (npm start writes it: endpoints, region, table and configuration file);
  else the standard AWS variables:
  AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL_DYNAMODB   unset on AWS
  AWS_REGION, AWS credentials                       the default AWS chain (any value works locally)
  SIGNOFF_TABLE (default signoff), SIGNOFF_CONFIG, SIGNOFF_ACCOUNT_ID (else read from the state machines)
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const OPTIONS = {
  input: { type: 'string' },
  as: { type: 'string' },
  name: { type: 'string' },
  kind: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  requester: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  for: { type: 'string' },
  comment: { type: 'string' },
  override: { type: 'boolean' },
  reason: { type: 'string' },
  actor: { type: 'string' },
  action: { type: 'string' },
  outcome: { type: 'string' },
  execution: { type: 'string' },
  format: { type: 'string' },
  interval: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const COMMANDS = [
  'start',
  'executions',
  'history',
  'watch',
  'approvals',
  'decide',
  'nudge',
  'cancel',
  'delegate',
  'audit',
];

/** The version in package.json. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** What the local runtime writes to `<data dir>/runtime.json` (local/start.ts) that the CLI reads. */
interface RuntimeFile {
  sfn: string;
  dynamo: string;
  pid?: number;
  region?: string;
  accountId?: string;
  table?: string;
  config?: string;
  dynamoExternal?: boolean;
  /** The operator token's user: who the CLI decides as (the token itself is not read). */
  operator?: { user?: string };
}

function alive(pid: number | undefined): boolean {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: a process of another user holds that id, so it is running.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running local runtime's `runtime.json`, if there is one (a file left by a killed runtime is ignored). */
function localRuntime(env: Record<string, string | undefined>): { path: string; file?: RuntimeFile } {
  const path = resolve(env.SIGNOFF_DATA_DIR || '.signoff', 'runtime.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { path };
  }
  const file = JSON.parse(text) as RuntimeFile;
  if (typeof file.sfn !== 'string' || typeof file.dynamo !== 'string') return { path };
  return alive(file.pid) ? { path, file } : { path };
}

/**
 * Where the CLI connects: the standard AWS variables when an endpoint or AWS is named there;
 * else the running local runtime (its runtime.json), with the configuration file it loaded.
 */
export function connectionEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  if (env.AWS_ENDPOINT_URL_SFN || env.AWS_ENDPOINT_URL_DYNAMODB) return env;
  const { path, file } = localRuntime(env);
  if (!file) {
    if (env.AWS_REGION || env.AWS_DEFAULT_REGION) return env;
    throw new Error(
      `no local runtime is running (no ${path}; start one with npm start, or set SIGNOFF_DATA_DIR to its data dir), and no AWS_REGION for AWS`,
    );
  }
  const derived: Record<string, string | undefined> = {
    ...env,
    AWS_ENDPOINT_URL_SFN: file.sfn,
    AWS_ENDPOINT_URL_DYNAMODB: file.dynamo,
    AWS_REGION: file.region ?? 'us-east-1',
    SIGNOFF_ACCOUNT_ID: env.SIGNOFF_ACCOUNT_ID || file.accountId,
    SIGNOFF_TABLE: env.SIGNOFF_TABLE || file.table,
  };
  // The same configuration as the runtime, unless SIGNOFF_CONFIG says otherwise.
  if (!env.SIGNOFF_CONFIG && file.config) derived.SIGNOFF_CONFIG = file.config;
  return derived;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function isLoopback(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
  } catch {
    return false;
  }
}

interface Cli {
  /** The use cases, over the same ports the runtime and the Lambdas use. */
  signoff: Signoff;
  sources: ConsoleSources;
  config: Config;
  /** The built-in demo configuration is in use (no config file): `--as` anyone. */
  demo: boolean;
  /**
   * Who the CLI is: the operator of the local runtime it connected to, else (when users have
   * `aws` patterns) the user the caller's IAM principal maps to.
   */
  operator?: string;
  /** The IAM principal `operator` was mapped from, recorded with every action as who really ran it. */
  principal?: string;
  /** Why the CLI has no identity when STS could not say or the principal maps to nobody. */
  identityError?: Error;
  close(): void;
}

/** The same core clients the console uses, pointed where the standard AWS variables say. */
async function connect(given: Record<string, string | undefined>): Promise<Cli> {
  const env = connectionEnv(given);
  const config = loadConfig(env);
  const sfnEndpoint = env.AWS_ENDPOINT_URL_SFN || undefined;
  const dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB || undefined;
  const local = isLoopback(sfnEndpoint) || isLoopback(dynamoEndpoint);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (local ? 'us-east-1' : undefined);
  if (!region) throw new InvalidInputError('set AWS_REGION (or AWS_ENDPOINT_URL_SFN for the local runtime)');
  // The local runtime accepts any credentials; on AWS the default chain applies.
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : local && !env.AWS_PROFILE
        ? LOCAL_CREDENTIALS
        : undefined;
  const base = {
    region,
    ...(sfnEndpoint ? { endpoint: sfnEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  };
  const accountId = env.SIGNOFF_ACCOUNT_ID || (await findAccountId(base));
  if (!accountId)
    throw new NotFoundError(
      'no Signoff state machines found there (set SIGNOFF_ACCOUNT_ID or check the region)',
    );
  const engine = createEngineClient({ ...base, accountId });
  const dynamo = new DynamoDBClient({
    region,
    maxAttempts: DYNAMODB_MAX_ATTEMPTS,
    ...(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  const table = env.SIGNOFF_TABLE || 'signoff';
  const audit = createAuditLog(dynamo, table);
  const store = createApprovalStore(dynamo, table);
  const quiet = () => {};
  const signoff = createSignoff({
    config,
    store,
    audit,
    notifications: createNotificationStore(dynamo, table),
    delegations: createDelegationStore(dynamo, table),
    languages: createLanguageStore(dynamo, table),
    dedupe: createEventDeduper(dynamo, table),
    engine,
    // Cards in chat are refreshed by the runtime's redelivery; the CLI shows its own answer.
    channels: [createConsoleChannel()],
    executionUrl: (arn) => arn,
    clock: { now: () => new Date() },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  // The CLI's identity: the operator of the runtime whose endpoints it uses (runtime.json).
  const runtime = localRuntime(given).file;
  let operator =
    runtime && runtime.sfn === sfnEndpoint && runtime.dynamo === dynamoEndpoint
      ? runtime.operator?.user
      : undefined;
  // Else, on AWS: the caller's IAM principal (STS GetCallerIdentity needs no permission),
  // mapped to a user by `users.<key>.aws`.
  let principal: string | undefined;
  let identityError: Error | undefined;
  if (!operator && mapsAwsPrincipals(config)) {
    const sts = new STSClient({
      region,
      ...(env.AWS_ENDPOINT_URL_STS ? { endpoint: env.AWS_ENDPOINT_URL_STS } : {}),
      ...(credentials ? { credentials } : {}),
    });
    try {
      principal = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
      if (principal) operator = userForAwsPrincipal(config, principal);
    } catch (cause) {
      identityError =
        cause instanceof ForbiddenError
          ? cause
          : new ForbiddenError(`could not ask AWS STS who you are: ${(cause as Error).message}`, {
              code: 'NoCliIdentity',
              cause,
            });
    } finally {
      sts.destroy();
    }
  }
  return {
    signoff,
    config,
    demo: isDemoConfig(config),
    ...(operator ? { operator } : {}),
    ...(operator && principal ? { principal } : {}),
    ...(identityError ? { identityError } : {}),
    sources: { engine, audit, store, config },
    close: () => dynamo.destroy(),
  };
}

/** Columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

function iso(value: Date | string | undefined): string {
  if (!value) return '';
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function format(values: Record<string, unknown>, allowed: string[]): string {
  const value = typeof values.format === 'string' ? values.format : 'table';
  if (!allowed.includes(value)) throw new InvalidInputError(`--format must be ${allowed.join(', ')}`);
  return value;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function readInput(text: string | undefined): unknown {
  if (text === undefined) throw new InvalidInputError('--input is required (JSON, or @file)');
  const raw = text.startsWith('@') ? readFileSync(resolve(text.slice(1)), 'utf8') : text;
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidInputError('--input is not valid JSON');
  }
}

function approvalRows(approvals: Approval[]): string[][] {
  return approvals.map((a) => [
    a.approvalId,
    a.kind,
    a.status,
    a.card.title,
    a.requester.name,
    a.status === 'pending'
      ? `waiting on ${waitingOn(a).join(', ') || '—'}`
      : a.votes.map((v) => `${v.user}:${v.decision}`).join(' ') || '—',
    a.decidedAt ?? a.createdAt,
  ]);
}

type Values = Record<string, string | boolean | undefined>;

/** An execution named by its ARN, or by its name: in `--kind`, else in whichever kind has it. */
async function executionArnFor(sources: ConsoleSources, target: string, kindText?: string): Promise<string> {
  if (target.startsWith('arn:')) return target;
  const kind = parseKindFilter(kindText);
  if (kind) return sources.engine.executionArn(kind, target);
  for (const each of Object.keys(workflows) as WorkflowKind[]) {
    const arn = sources.engine.executionArn(each, target);
    if (await sources.engine.describe(arn)) return arn;
  }
  throw new NotFoundError(`no execution named "${target.slice(0, 80)}" (of any kind)`);
}

/** `audit verify`: every chain (or one) from `--since`; false (exit 1) when a link is broken. */
async function verifyAudit(
  sources: ConsoleSources,
  query: (name: string) => string | undefined,
  fmt: string,
  io: CliIo,
): Promise<boolean> {
  const kindText = query('kind');
  if (kindText !== undefined && !(AUDIT_CHAINS as readonly string[]).includes(kindText))
    throw new InvalidInputError(`unknown kind "${kindText.slice(0, 40)}" (${AUDIT_CHAINS.join(', ')})`);
  const since = parseTime('since', query('since'), 'since');
  const reports = await sources.audit.verify({
    ...(kindText ? { kind: kindText as AuditKind } : {}),
    ...(since ? { since } : {}),
  });
  const intact = reports.every((r) => !r.broken);
  if (fmt === 'json') {
    io.out(json({ intact, chains: reports }));
    return intact;
  }
  io.out(
    table(
      ['CHAIN', 'CHECKED', 'HEAD', 'HEAD HASH', 'RESULT'],
      reports.map((r) => [
        r.kind,
        String(r.checked),
        `#${r.head.seq}`,
        r.head.hash,
        r.broken ? 'BROKEN' : 'intact',
      ]),
    ),
  );
  for (const r of reports)
    if (r.broken)
      io.out(
        `broken: ${r.kind} #${r.broken.seq}${r.broken.id ? ` ${r.broken.id}` : ''}${
          r.broken.executionArn ? ` (${r.broken.executionArn})` : ''
        }: ${r.broken.problem}\n`,
      );
  return intact;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** `watch`: print each new history event until the execution ends; true when it succeeded. */
async function watch(sources: ConsoleSources, arn: string, intervalMs: number, fmt: string, io: CliIo) {
  let last = 0;
  let announced = false;
  for (;;) {
    const execution = await sources.engine.describe(arn);
    if (!execution) throw new NotFoundError(`no execution ${arn.slice(0, 200)}`);
    // The history after the status: an execution seen ended has all its events in it.
    const rows = timelineRows(await sources.engine.history(arn)).filter((r) => r.id > last);
    if (!announced && fmt === 'table') {
      io.out(`watching ${execution.name} (${execution.status}); Ctrl-C stops watching, not the execution\n`);
      announced = true;
    }
    for (const r of rows) {
      last = Math.max(last, r.id);
      if (fmt === 'json') io.out(`${JSON.stringify(r)}\n`);
      else
        io.out(
          `${String(r.id).padStart(4)}  ${r.type.padEnd(28)}  ${(r.state ?? '').padEnd(24)}  ${iso(r.at)}\n`,
        );
    }
    if (execution.status !== 'RUNNING') {
      if (fmt === 'table') {
        io.out(`${execution.name} ${execution.status} at ${iso(execution.stopDate)}\n`);
        if (execution.error) io.out(`error: ${execution.error}: ${execution.cause ?? ''}\n`);
      }
      return execution.status === 'SUCCEEDED';
    }
    await sleep(intervalMs);
  }
}

/** Who this run of the CLI acts as: its identity (cliDecider's rule), or why it has none. */
function actingAs(cli: Cli, options: { as?: string; override?: boolean; reason?: string }): CliDecider {
  if (!cli.demo && !cli.operator && cli.identityError) throw cli.identityError;
  return cliDecider(cli.config, {
    demo: cli.demo,
    ...(cli.operator ? { operator: cli.operator } : {}),
    ...(cli.principal ? { principal: cli.principal } : {}),
    ...options,
  });
}

/** Run one command; false when it ran but its answer is a failure (watch: the execution did not succeed). */
async function run(command: string, args: string[], values: Values, cli: Cli, io: CliIo): Promise<boolean> {
  const { sources, config } = cli;
  const query = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);

  switch (command) {
    case 'start': {
      const kind = parseKindFilter(args[0]);
      if (!kind) throw new InvalidInputError('start needs a workflow kind: signoff start <kind> --input …');
      const workflow = workflows[kind];
      if (!workflow) throw new NotFoundError(`no "${kind}" workflow is deployed yet`);
      // The requester is the CLI's identity (--as another: demo mode, or --override --reason).
      const as = query('as');
      const reason = query('reason');
      const { actor: requester, override } = actingAs(cli, {
        ...(as ? { as } : {}),
        override: values.override === true,
        ...(reason ? { reason } : {}),
      });
      const given = readInput(query('input'));
      if (!given || typeof given !== 'object' || Array.isArray(given))
        throw new InvalidInputError('--input must be a JSON object');
      const policy = policyFor(config, kind);
      const input = workflow.input.safeParse({
        ...given,
        kind,
        requester,
        approval: {
          timeoutSeconds: policy.timeoutSeconds,
          ...((given as { approval?: object }).approval ?? {}),
        },
      });
      if (!input.success)
        throw new InvalidInputError(
          `--input does not fit the ${kind} workflow: ${z.prettifyError(input.error)}`,
        );
      const name = query('name') ?? `cli-${Date.now()}-${randomBytes(4).toString('hex')}`;
      const result = await cli.signoff.startWorkflow({
        kind,
        name,
        input: input.data,
        by: requester,
        detail: {
          via: requester.via ?? 'cli',
          ...(override
            ? { overrideBy: override.by.user ?? override.by.id, overrideReason: override.reason }
            : {}),
        },
      });
      if (!result.started) throw new InvalidInputError(`an execution named "${name}" already ran`);
      io.out(format(values, ['table', 'json']) === 'json' ? json(result) : `${result.executionArn}\n`);
      return true;
    }

    case 'executions': {
      const fmt = format(values, ['table', 'json']);
      const filter = parseExecutionFilter(query, { kind: 'merge-request' });
      const kind = parseKindFilter(query('kind'));
      if (!kind && filter.cursor)
        throw new InvalidInputError('--cursor goes with the --kind it was printed for');
      const all = kind
        ? undefined
        : await listAllExecutions(sources, Object.keys(workflows) as WorkflowKind[], filter);
      const page = all ? { executions: all.executions } : await listExecutions(sources, filter);
      if (fmt === 'json') {
        io.out(json(all ?? page));
        return true;
      }
      io.out(
        table(
          ['NAME', 'STATUS', 'ERROR', 'STARTED', 'STOPPED', 'ARN'],
          page.executions.map((e) => [
            e.name ?? '',
            e.status ?? '',
            e.error ?? '',
            iso(e.startDate),
            iso(e.stopDate),
            e.executionArn ?? '',
          ]),
        ),
      );
      if ('cursor' in page && page.cursor) io.out(`more: --cursor ${page.cursor}\n`);
      for (const [more, cursor] of Object.entries(all?.cursors ?? {}))
        io.out(`more ${more}: --kind ${more} --cursor ${cursor}\n`);
      return true;
    }

    case 'history': {
      const fmt = format(values, ['table', 'json']);
      const target = args[0];
      if (!target) throw new InvalidInputError('history needs an execution ARN or name');
      const arn = await executionArnFor(sources, target, query('kind'));
      const details = await executionDetails(sources, arn);
      if (fmt === 'json') {
        const { definition: _definition, ...rest } = details;
        io.out(json({ ...rest, history: redactHistory(details.history) }));
        return true;
      }
      const e = details.execution;
      io.out(
        `${e.name}  ${e.status}  started ${iso(e.startDate)}${e.stopDate ? `  stopped ${iso(e.stopDate)}` : ''}\n`,
      );
      if (e.error) io.out(`error: ${e.error}: ${e.cause ?? ''}\n`);
      for (const a of details.approvals.filter((x) => x.status === 'pending'))
        io.out(
          `waiting on ${waitingOn(a).join(', ') || '—'} since ${a.createdAt} (approval ${a.approvalId})\n`,
        );
      const marks = Object.entries(details.states).filter(([, s]) => s !== 'not-reached');
      io.out(`states: ${marks.map(([n, s]) => `${n}=${s}`).join(' ')}\n\n`);
      io.out(
        table(
          ['#', 'EVENT', 'STATE', 'TIME', 'DURATION'],
          timelineRows(details.history).map((r) => [
            String(r.id),
            r.type,
            r.state ?? '',
            iso(r.at),
            r.durationMs !== undefined ? formatDuration(r.durationMs) : '',
          ]),
        ),
      );
      return true;
    }

    case 'watch': {
      const fmt = format(values, ['table', 'json']);
      const target = args[0];
      if (!target) throw new InvalidInputError('watch needs an execution ARN or name');
      const interval = Number(query('interval') ?? '1');
      if (!Number.isFinite(interval) || interval < 0.05 || interval > 3600)
        throw new InvalidInputError('--interval must be a number of seconds from 0.05 to 3600');
      return watch(sources, await executionArnFor(sources, target, query('kind')), interval * 1000, fmt, io);
    }

    case 'approvals': {
      const fmt = format(values, ['table', 'json']);
      const status = (query('status') ?? 'pending') as ApprovalStatus;
      if (!['pending', 'approved', 'rejected', 'expired', 'cancelled'].includes(status))
        throw new InvalidInputError(`unknown status "${status.slice(0, 20)}"`);
      let approvals = await sources.store.list(status);
      const forUser = query('for');
      if (forUser) {
        consoleActor(config, forUser);
        approvals = approvalsFor(forUser, approvals);
      }
      if (fmt === 'json') {
        io.out(json({ approvals }));
        return true;
      }
      io.out(
        table(['ID', 'KIND', 'STATUS', 'TITLE', 'REQUESTER', 'VOTES', 'SINCE'], approvalRows(approvals)),
      );
      return true;
    }

    case 'decide': {
      const [approvalId, decision] = args;
      if (!approvalId || (decision !== 'approve' && decision !== 'reject'))
        throw new InvalidInputError('usage: signoff decide <approval id> approve|reject [--as <user>]');
      const as = query('as');
      const reason = query('reason');
      // Who decides: the CLI's own identity; --as another only in demo mode or as an override.
      const { actor, override } = actingAs(cli, {
        ...(as ? { as } : {}),
        override: values.override === true,
        ...(reason ? { reason } : {}),
      });
      const comment = query('comment');
      const result = await cli.signoff.approvals.decide({
        approvalId,
        actor,
        decision,
        ...(comment ? { comment } : {}),
        now: new Date(),
      });
      if (override) {
        // The override is recorded by who really ran it, whatever the vote's outcome.
        const approval = result.approval ?? (await sources.store.get(approvalId));
        if (approval)
          await sources.audit.append({
            kind: approval.kind,
            executionArn: approval.executionArn,
            action: 'approval.override',
            actor: override.by,
            outcome: result.outcome === 'refused' ? 'refused' : decision,
            detail: { approvalId, as: actor.user ?? actor.id, reason: override.reason },
          });
      }
      if (result.outcome === 'refused') throw refusalError(result);
      const text =
        result.outcome === 'completed'
          ? `recorded: the request is ${result.approval.status}\n`
          : `recorded: ${result.remaining} more approval(s) needed\n`;
      io.out(
        format(values, ['table', 'json']) === 'json'
          ? json({ outcome: result.outcome, approval: result.approval })
          : text,
      );
      return true;
    }

    case 'nudge': {
      const [approvalId] = args;
      if (!approvalId) throw new InvalidInputError('usage: signoff nudge <approval id> [--as <user>]');
      const as = query('as');
      // The requester nudges: the CLI's own identity; --as another only in demo mode.
      const { actor } = actingAs(cli, as ? { as } : {});
      const result = await cli.signoff.nudge({ approvalId, actor });
      if (result.outcome === 'refused') throw nudgeRefusalError(result);
      io.out(
        format(values, ['table', 'json']) === 'json'
          ? json({ outcome: result.outcome, notified: result.notified })
          : `reminded: ${result.notified.join(', ') || 'nobody (everyone has voted)'}\n`,
      );
      return true;
    }

    case 'cancel': {
      const [approvalId] = args;
      if (!approvalId)
        throw new InvalidInputError('usage: signoff cancel <approval id> [--reason <why>] [--as <user>]');
      const as = query('as');
      const { actor } = actingAs(cli, as ? { as } : {});
      const why = query('reason');
      const result = await cli.signoff.withdraw({ approvalId, actor, ...(why ? { why } : {}) });
      if (result.outcome === 'refused') throw withdrawRefusalError(result);
      const cancelled = result.approval;
      io.out(
        format(values, ['table', 'json']) === 'json'
          ? json({ approval: cancelled })
          : `cancelled: ${cancelled.card.title}\n`,
      );
      return true;
    }

    case 'delegate': {
      const usage = 'usage: signoff delegate [to <user> --until <date> | off] [--as <user>]';
      const as = query('as');
      // Who delegates: the CLI's own identity; --as another only in demo mode.
      const { actor } = actingAs(cli, as ? { as } : {});
      const fmt = format(values, ['table', 'json']);
      const [verb, to, ...extra] = args;
      if (extra.length > 0 || (verb === 'off' && to) || (verb === undefined && query('until')))
        throw new InvalidInputError(usage);
      if (verb === 'off') {
        const ended = await cli.signoff.endDelegation(actor);
        io.out(
          fmt === 'json'
            ? json({ ended: ended ?? null })
            : ended
              ? `delegation to ${ended.to} ended: cards come to ${actor.user} again\n`
              : 'no delegation\n',
        );
        return true;
      }
      if (verb === 'to') {
        const until = query('until');
        if (!to || !until) throw new InvalidInputError(usage);
        const delegation = await cli.signoff.delegate({ actor, to, until: parseUntil(until) });
        io.out(
          fmt === 'json'
            ? json({ delegation })
            : `until ${delegation.until}, cards for ${delegation.user} go to ${delegation.to}, who may decide in their place\n`,
        );
        return true;
      }
      if (verb !== undefined) throw new InvalidInputError(usage);
      const { mine, forOthers } = await cli.signoff.delegationsOf(actor.user ?? '');
      if (fmt === 'json') {
        io.out(json({ delegation: mine ?? null, forOthers }));
        return true;
      }
      const rows = [...(mine ? [mine] : []), ...forOthers].map((d) => [d.user, d.to, d.until, d.since]);
      io.out(rows.length ? table(['APPROVER', 'DELEGATE', 'UNTIL', 'SINCE'], rows) : 'no delegation\n');
      return true;
    }

    case 'audit': {
      if (args[0] === 'verify') return verifyAudit(sources, query, format(values, ['table', 'json']), io);
      const fmt = format(values, ['table', 'csv', 'json']);
      const filter: AuditFilter = parseAuditFilter(query);
      const records = await allAuditRecords(sources.audit, filter);
      if (fmt === 'csv') {
        io.out(toCsv(records));
        return true;
      }
      if (fmt === 'json') {
        io.out(json({ records }));
        return true;
      }
      io.out(
        table(
          ['TIME', 'KIND', 'ACTION', 'ACTOR', 'OUTCOME', 'EXECUTION'],
          records.map((r) => [
            r.at,
            r.kind,
            r.action,
            `${r.actor.name} (${r.actor.platform}:${r.actor.id})`,
            r.outcome,
            r.executionArn.split(':').pop() ?? '',
          ]),
        ),
      );
      return true;
    }

    default:
      throw new InvalidInputError(`unknown command "${command.slice(0, 40)}"`);
  }
}

/**
 * Run one CLI command. Exit codes: 0 done, 2 a wrong command line (the message says why), 1 any
 * other failure (not found, refused, the service could not be reached; watch: the execution
 * did not succeed).
 */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    io.err(`signoff: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...args] = parsed.positionals;
  if (parsed.values.version) {
    io.out(`signoff ${cliVersion()}\n`);
    return 0;
  }
  if (parsed.values.help || !command || command === 'help') {
    io.out(USAGE);
    return command || parsed.values.help ? 0 : 2;
  }
  if (!COMMANDS.includes(command)) {
    io.err(`signoff: unknown command "${command.slice(0, 40)}"\n\n${USAGE}`);
    return 2;
  }
  let cli: Cli | undefined;
  try {
    cli = await connect(env);
    return (await run(command, args, parsed.values, cli, io)) ? 0 : 1;
  } catch (error) {
    // A wrong command line (a bad flag value, input that does not fit): 2. Anything the service
    // answered or could not (not found, refused, unreachable, no runtime): 1.
    if (error instanceof InvalidInputError) {
      io.err(`signoff: ${error.message}\n`);
      return 2;
    }
    const plain = error instanceof SignoffError || (error instanceof Error && error.name === 'Error');
    io.err(
      `signoff: ${error instanceof Error ? (plain ? error.message : `${error.name}: ${error.message}`) : String(error)}\n`,
    );
    return 1;
  } finally {
    cli?.close();
  }
}

/** The `signoff` command: run with the process's arguments and environment, set the exit code. */
export async function main(): Promise<void> {
  // `signoff … | head`: the reader left, so there is nobody to tell; stop quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await runCli(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}

// `tsx bin/signoff.ts …` runs it directly; `bin/signoff.js` (the npm bin) calls main().
if (process.argv[1]?.endsWith('signoff.ts')) await main();
