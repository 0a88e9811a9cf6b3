import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { createConsoleChannel } from '../chat/console/index.ts';
import { consoleActor } from '../console/actor.ts';
import { allAuditRecords, toCsv } from '../console/export.ts';
import { parseAuditFilter, parseExecutionFilter, parseKindFilter } from '../console/filters.ts';
import {
  approvalsFor,
  type ConsoleSources,
  executionDetails,
  listExecutions,
  waitingOn,
} from '../console/queries.ts';
import { formatDuration, timelineRows } from '../console/timeline.tsx';
import { redactHistory } from '../console/views.ts';
import { createSignoff, type Signoff } from '../core/app.ts';
import { refusalError } from '../core/approvals/refusal.ts';
import { createApprovalStore } from '../core/approvals/store.ts';
import type { Approval, ApprovalStatus } from '../core/approvals/types.ts';
import { type AuditFilter, createAuditLog } from '../core/audit.ts';
import { type Config, loadConfig, policyFor } from '../core/config.ts';
import { DYNAMODB_MAX_ATTEMPTS } from '../core/db.ts';
import { createEventDeduper } from '../core/dedupe.ts';
import { createEngineClient, findAccountId } from '../core/engine.ts';
import { InvalidInputError, NotFoundError, SignoffError } from '../core/errors.ts';
import { createNotificationStore } from '../core/notifications.ts';
import { workflows } from '../workflows/index.ts';

export const USAGE = `signoff — watch executions, decide approvals and audit, from a terminal

usage:
  signoff start <kind> --input <json | @file> [--as <user>] [--name <execution name>]
  signoff executions [--kind <kind>] [--status RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED]
                     [--since <date>] [--until <date>] [--requester <user>] [--limit <n>] [--cursor <c>]
  signoff history <execution arn | name> [--kind <kind>]
  signoff approvals [--status pending|approved|rejected|expired|cancelled] [--for <user>]
  signoff decide <approval id> approve|reject --as <user> [--comment <text>]
  signoff audit [--kind <kind>] [--actor <user>] [--action <action>] [--outcome <outcome>]
                [--since <date>] [--until <date>] [--execution <arn>] [--format table|csv|json]

  every command takes --format table|json (audit also csv); --help prints this.

where it connects (the standard AWS variables):
  AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL_DYNAMODB   the local runtime prints both; unset on AWS
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
  actor: { type: 'string' },
  action: { type: 'string' },
  outcome: { type: 'string' },
  execution: { type: 'string' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS = ['start', 'executions', 'history', 'approvals', 'decide', 'audit'];

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
  close(): void;
}

/** The same core clients the console uses, pointed where the standard AWS variables say. */
async function connect(env: Record<string, string | undefined>): Promise<Cli> {
  const config = loadConfig(env);
  const sfnEndpoint = env.AWS_ENDPOINT_URL_SFN || undefined;
  const dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB || undefined;
  const local = isLoopback(sfnEndpoint) || isLoopback(dynamoEndpoint);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (local ? 'us-east-1' : undefined);
  if (!region) throw new InvalidInputError('set AWS_REGION (or AWS_ENDPOINT_URL_SFN for the local runtime)');
  // The local runtime accepts any credentials; on AWS the default chain applies.
  const credentials = local && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE ? LOCAL_CREDENTIALS : undefined;
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
    dedupe: createEventDeduper(dynamo, table),
    engine,
    // Cards in chat are refreshed by the runtime's redelivery; the CLI shows its own answer.
    channels: [createConsoleChannel()],
    executionUrl: (arn) => arn,
    clock: { now: () => new Date() },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  return { signoff, config, sources: { engine, audit, store, config }, close: () => dynamo.destroy() };
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

async function run(command: string, args: string[], values: Values, cli: Cli, io: CliIo): Promise<void> {
  const { sources, config } = cli;
  const query = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);

  switch (command) {
    case 'start': {
      const kind = parseKindFilter(args[0]);
      if (!kind) throw new InvalidInputError('start needs a workflow kind: signoff start <kind> --input …');
      const workflow = workflows[kind];
      if (!workflow) throw new NotFoundError(`no "${kind}" workflow is deployed yet`);
      const who = query('as');
      if (!who) throw new InvalidInputError('start needs --as <user>: the requester');
      const requester = consoleActor(config, who);
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
        detail: { via: 'cli' },
      });
      if (!result.started) throw new InvalidInputError(`an execution named "${name}" already ran`);
      io.out(format(values, ['table', 'json']) === 'json' ? json(result) : `${result.executionArn}\n`);
      return;
    }

    case 'executions': {
      const fmt = format(values, ['table', 'json']);
      const filter = parseExecutionFilter(query, { kind: 'merge-request' });
      const page = await listExecutions(sources, filter);
      if (fmt === 'json') return io.out(json(page));
      io.out(
        table(
          ['NAME', 'STATUS', 'STARTED', 'STOPPED', 'ARN'],
          page.executions.map((e) => [
            e.name ?? '',
            e.status ?? '',
            iso(e.startDate),
            iso(e.stopDate),
            e.executionArn ?? '',
          ]),
        ),
      );
      if (page.cursor) io.out(`more: --cursor ${page.cursor}\n`);
      return;
    }

    case 'history': {
      const fmt = format(values, ['table', 'json']);
      const target = args[0];
      if (!target) throw new InvalidInputError('history needs an execution ARN or name');
      const kind = parseKindFilter(query('kind')) ?? 'merge-request';
      const arn = target.startsWith('arn:') ? target : sources.engine.executionArn(kind, target);
      const details = await executionDetails(sources, arn);
      if (fmt === 'json') {
        const { definition: _definition, ...rest } = details;
        return io.out(json({ ...rest, history: redactHistory(details.history) }));
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
      return;
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
      if (fmt === 'json') return io.out(json({ approvals }));
      io.out(
        table(['ID', 'KIND', 'STATUS', 'TITLE', 'REQUESTER', 'VOTES', 'SINCE'], approvalRows(approvals)),
      );
      return;
    }

    case 'decide': {
      const [approvalId, decision] = args;
      if (!approvalId || (decision !== 'approve' && decision !== 'reject'))
        throw new InvalidInputError('usage: signoff decide <approval id> approve|reject --as <user>');
      const who = query('as');
      if (!who) throw new InvalidInputError('decide needs --as <user>');
      const comment = query('comment');
      const result = await cli.signoff.approvals.decide({
        approvalId,
        actor: { ...consoleActor(config, who), via: 'cli' },
        decision,
        ...(comment ? { comment } : {}),
        now: new Date(),
      });
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
      return;
    }

    case 'audit': {
      const fmt = format(values, ['table', 'csv', 'json']);
      const filter: AuditFilter = parseAuditFilter(query);
      const records = await allAuditRecords(sources.audit, filter);
      if (fmt === 'csv') return io.out(toCsv(records));
      if (fmt === 'json') return io.out(json({ records }));
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
      return;
    }

    default:
      throw new InvalidInputError(`unknown command "${command.slice(0, 40)}"`);
  }
}

/**
 * Run one CLI command. Exit codes: 0 done, 2 bad input or a refused request (the message says
 * why), 1 anything else (the service could not be reached, …).
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
    await run(command, args, parsed.values, cli, io);
    return 0;
  } catch (error) {
    if (error instanceof SignoffError) {
      io.err(`signoff: ${error.message}\n`);
      return 2;
    }
    io.err(`signoff: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    return 1;
  } finally {
    cli?.close();
  }
}

/** The `signoff` command: run with the process's arguments and environment, set the exit code. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}

// `tsx bin/signoff.ts …` runs it directly; `bin/signoff.js` (the npm bin) calls main().
if (process.argv[1]?.endsWith('signoff.ts')) await main();
