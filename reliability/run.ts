import { parseArgs } from 'node:util';
import { failed, formatTable, type Row } from './report.ts';
import { waitFor } from './runtime.ts';
import {
  lambdaAliasConflict,
  lambdaLostResponse,
  lambdaTransient,
  supportThrottling,
  supportThrottlingForever,
} from './suites/aws-faults.ts';
import { consoleBadInput, gitlabBadInput } from './suites/bad-input.ts';
import { larkBadInput, lineBadInput } from './suites/bad-input-chat.ts';
import { slackBadInput } from './suites/bad-input-slack.ts';
import { CHAT_FAULTS, chatFault, chatFaultsOn } from './suites/chat-faults.ts';
import { crashAt, KILL_POINTS } from './suites/crashes.ts';
import { diskFull } from './suites/disk.ts';
import { decisionDuringStart, duplicateClicks, duplicateTriggers, quorumRace } from './suites/duplicates.ts';
import {
  chatPermanentFailure,
  chatTransientFailure,
  dynamoThrottling,
  gitlabPermanentFailure,
  gitlabTransientFailure,
} from './suites/faults.ts';
import {
  crashBetweenDecisionAndResume,
  doubleTap,
  doubleTapSlackDingTalk,
  forgedResume,
  tokenLeaks,
} from './suites/gate.ts';
import { approvalLoad, type Memory, mb, memoryNote, saturationLoad } from './suites/load.ts';
import { startWorld } from './world.ts';

export interface ReliabilityOptions {
  /** Bad-input cases per route. */
  cases: number;
  duplicates: number;
  /** Paused executions and approvers clicking in the load scenario; 0 skips it. */
  loadPaused: number;
  loadApprovers: number;
  loadSeconds: number;
  /**
   * Rounds of the load scenario on one runtime. Memory is judged on the last round: the first
   * rounds take the process to its working size and high-water mark, a leak keeps growing after.
   */
  loadRounds: number;
  /** Approvals clicked back to back to measure capacity; 0 skips it. */
  saturation: number;
  crashes: boolean;
  faults: boolean;
  /** Run one scenario alone (for profiling it). */
  only?: 'load' | 'faults';
  /**
   * The tolerances the load targets are judged with (machines are noisy): the callback p99
   * target, how many rounds may miss it, and how much the anonymous memory at rest may grow.
   */
  tolerance: { p99Ms: number; p99MissedRounds: number; memoryGrowth: number; memoryGrowthLastRound: number };
  log?: (line: string) => void;
}

export const FULL: ReliabilityOptions = {
  cases: 10_000,
  duplicates: 10,
  loadPaused: 1000,
  loadApprovers: 50,
  loadSeconds: 60,
  loadRounds: 3,
  saturation: 500,
  crashes: true,
  faults: true,
  // p99 over 250 ms in two rounds of three fails; memory: the last round adds under 5%.
  tolerance: { p99Ms: 250, p99MissedRounds: 1, memoryGrowth: 0.1, memoryGrowthLastRound: 0.05 },
};

/** The configuration `npm test` runs: every scenario, fewer cases. */
export const QUICK: ReliabilityOptions = {
  cases: 150,
  duplicates: 2,
  loadPaused: 40,
  loadApprovers: 10,
  loadSeconds: 20,
  loadRounds: 1,
  saturation: 0,
  crashes: true,
  faults: true,
  // One short round of 40 executions, measured among other test files: p99 under twice the
  // full run's target, and memory at rest within 25% of where the round started.
  tolerance: { p99Ms: 500, p99MissedRounds: 0, memoryGrowth: 0.25, memoryGrowthLastRound: 0.25 },
};

export interface Target {
  text: string;
  met: boolean;
}

export interface ReliabilityReport {
  rows: Row[];
  /** The load targets, each with its figure and whether it was met. */
  targets: Target[];
  /** Load targets missed beyond their tolerance: each fails the run. */
  missed: string[];
}

/** Run the scenarios against the real server in a child process; one row per scenario. */
export async function runReliability(options: ReliabilityOptions): Promise<ReliabilityReport> {
  const log = options.log ?? (() => {});
  const rows: Row[] = [];
  const targets: Target[] = [];
  const missed: string[] = [];
  const world = await startWorld();
  let iid = 1;
  try {
    const base = await world.pendingMergeRequest(iid++);
    const decided = await world.pendingMergeRequest(iid++);
    await fetch(`${world.runtime.app}/console/api/approvals/${decided.approval.approvalId}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...world.auth('carol') },
      body: JSON.stringify({ decision: 'reject', actor: 'carol', comment: 'reliability baseline' }),
    });
    // Let the rejected one finish (it closes its MR) before counting effects.
    await waitFor(
      async () => (await world.executionStatus(decided.executionArn)) !== 'RUNNING',
      'the baseline to settle',
    );
    const record = (r: Row) => {
      rows.push(r);
      log(`${failed(r) ? 'FAIL' : 'ok  '} ${r.scenario}`);
    };
    // A scenario that throws (a wait that gave up, a runtime that did not come back) is a failed
    // row named after it, and the run goes on: the exit code and the table say which one.
    const push = async (name: string, scenario: () => Promise<Row | Row[]>) => {
      try {
        const result = await scenario();
        for (const r of Array.isArray(result) ? result : [result]) record(r);
      } catch (error) {
        record({
          scenario: `${name}: did not finish`,
          tried: 1,
          expected: 1,
          actual: 0,
          fiveXX: 0,
          lost: 1,
          duplicated: 0,
          note:
            String(error instanceof Error ? error.message : error)
              .split('\n')[0]
              ?.slice(0, 200) ?? '',
        });
      }
    };

    const runs = (group: 'faults' | 'load' | 'other') => !options.only || options.only === group;
    if (runs('other')) {
      await push('gitlabBadInput', () => gitlabBadInput(world, options.cases, base.hook));
      await push('larkBadInput', () => larkBadInput(world, options.cases, decided.approval.approvalId));
      await push('lineBadInput', () => lineBadInput(world, options.cases, decided.approval.approvalId));
      await push('slackBadInput', () => slackBadInput(options.cases));
      await push('dingtalkBadInput', async () =>
        (await import('./suites/bad-input-dingtalk.ts')).dingtalkBadInput(Math.min(options.cases, 500)),
      );
      await push('consoleBadInput', () =>
        consoleBadInput(world, Math.min(options.cases, 2000), base.approval.approvalId),
      );
      iid += 1;
      await push('duplicateTriggers', () => duplicateTriggers(world, options.duplicates, iid));
      iid += options.duplicates;
      await push('duplicateClicks', () => duplicateClicks(world, options.duplicates, iid));
      iid += options.duplicates;
      await push('decisionDuringStart', () => decisionDuringStart(world, iid++));
      await push('quorumRace', () => quorumRace(world, options.duplicates, 1));
      await push('forgedResume', () => forgedResume(world, options.duplicates, iid));
      iid += options.duplicates;
      await push('doubleTap', () => doubleTap(world, options.duplicates));
      await push('doubleTapSlackDingTalk', () => doubleTapSlackDingTalk(options.duplicates));
    }
    if (options.faults && runs('faults')) {
      await push('gitlabTransientFailure', () => gitlabTransientFailure(world, iid++));
      await push('gitlabTransientFailure', () =>
        gitlabTransientFailure(world, iid++, { label: '429 ×3', times: 3, failure: { status: 429 } }),
      );
      await push('gitlabTransientFailure', () =>
        gitlabTransientFailure(world, iid++, { label: 'times out once', times: 1, failure: 'timeout' }),
      );
      await push('gitlabPermanentFailure', () => gitlabPermanentFailure(world, iid++));
      await push('chatTransientFailure', () => chatTransientFailure(world, iid++));
      await push('chatPermanentFailure', () => chatPermanentFailure(world, iid++));
      for (const fault of CHAT_FAULTS.filter((f) => world.platforms.includes(f.platform)))
        await push(`chatFault ${fault.platform} ${fault.label}`, () => chatFault(world, fault, iid++));
      await push('chatFaultsOn Slack and DingTalk', () => chatFaultsOn(['slack', 'dingtalk']));
      await push('dynamoThrottling', () => dynamoThrottling(options.duplicates, 0.2));
      await push('lambdaAliasConflict', () => lambdaAliasConflict(world));
      await push('lambdaTransient', () => lambdaTransient(world));
      await push('lambdaLostResponse', () => lambdaLostResponse(world));
      await push('supportThrottling', () => supportThrottling(world));
      await push('supportThrottlingForever', () => supportThrottlingForever(world));
      await push('diskFull', () => diskFull());
    }
    if (runs('other')) {
      if (options.crashes) {
        for (const point of KILL_POINTS) await push(`crashAt ${point}`, () => crashAt(world, point, iid++));
        await push('crashBetweenDecisionAndResume', () => crashBetweenDecisionAndResume(world, iid++));
      }
      await push('tokenLeaks', () => tokenLeaks(world));
      const alive = (await fetch(`${world.runtime.app}/healthz`)).ok;
      record({
        scenario: 'process alive after all of the above',
        tried: 1,
        expected: 1,
        actual: alive ? 1 : 0,
        fiveXX: 0,
        lost: alive ? 0 : 1,
        duplicated: 0,
      });
    }
    if (options.loadPaused > 0 && runs('load')) {
      const rounds = [];
      for (let round = 1; round <= options.loadRounds; round++) {
        const load = await approvalLoad(
          world,
          options.loadPaused,
          options.loadApprovers,
          options.loadSeconds,
          100_000 * round,
        );
        rounds.push(load);
        const label = options.loadRounds > 1 ? ` (round ${round})` : '';
        record({ ...load.row, scenario: `${load.row.scenario}${label}` });
        const met = load.p99 < options.tolerance.p99Ms;
        targets.push({
          text: `callback p99${label} ${load.p99.toFixed(0)} ms (target < ${options.tolerance.p99Ms} ms): ${met ? 'met' : 'MISSED'}`,
          met,
        });
      }
      const missedRounds = rounds.filter((r) => r.p99 >= options.tolerance.p99Ms).length;
      if (missedRounds > options.tolerance.p99MissedRounds)
        missed.push(
          `callback p99 over ${options.tolerance.p99Ms} ms in ${missedRounds} of ${rounds.length} round(s) (tolerated: ${options.tolerance.p99MissedRounds})`,
        );
      const memory = memoryTarget(rounds, options.tolerance);
      targets.push(memory);
      if (!memory.met) missed.push(memory.text);
    }
    if (options.saturation > 0 && runs('load')) {
      const capacity = await saturationLoad(world, options.saturation, options.loadApprovers, 300_000);
      record(capacity.row);
    }
  } finally {
    await world.close();
  }
  return { rows, targets, missed };
}

/**
 * Memory flat. With one round (the short run): its end within 10% of its start. With more: the
 * last round's growth at rest within 5% (after the last round against after the one before).
 * Memory at rest is the process's high-water mark, not what it holds: after a burst the main
 * V8 heap shrinks from ~120 to ~65 MB while anonymous memory stays put (measured), so the first
 * rounds lift it to the size of the largest burst. That levels off; a leak grows every round.
 */
function memoryTarget(
  rounds: Array<{ memoryStart: Memory; memoryEnd: Memory }>,
  tolerance: ReliabilityOptions['tolerance'],
): Target {
  const first = rounds[0];
  const last = rounds.at(-1);
  if (!first || !last) return { text: 'memory: not measured', met: false };
  const previous = rounds.at(-2);
  const base = previous ? previous.memoryEnd : first.memoryStart;
  const allowed = previous ? tolerance.memoryGrowthLastRound : tolerance.memoryGrowth;
  const met = last.memoryEnd.anon <= base.anon * (1 + allowed);
  const growth = `${(((last.memoryEnd.anon - base.anon) / base.anon) * 100).toFixed(0)}%`;
  const limit = `${(allowed * 100).toFixed(0)}%`;
  if (!previous)
    return {
      text: `memory: ${memoryNote(first.memoryStart, first.memoryEnd)} (target: flat, anonymous memory within ${limit}; ${growth}): ${met ? 'met' : 'MISSED'}`,
      met,
    };
  const ends = rounds.map((r) => mb(r.memoryEnd.anon)).join(' → ');
  return {
    text: `memory at rest, anonymous: before round 1 ${mb(first.memoryStart.anon)}, after each round ${ends} (target: flat, the last round adds under ${limit}; ${growth}): ${met ? 'met' : 'MISSED'}`,
    met,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      cases: { type: 'string' },
      'load-paused': { type: 'string' },
      'load-rounds': { type: 'string' },
      only: { type: 'string' },
      saturation: { type: 'string' },
    },
  });
  const options = {
    ...(values.quick ? QUICK : FULL),
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  if (values.cases) options.cases = Number(values.cases);
  if (values['load-paused']) options.loadPaused = Number(values['load-paused']);
  if (values['load-rounds']) options.loadRounds = Number(values['load-rounds']);
  if (values.only === 'load' || values.only === 'faults') options.only = values.only;
  else if (values.only) throw new Error('--only takes load or faults');
  if (values.saturation) options.saturation = Number(values.saturation);
  const started = Date.now();
  const { rows, targets, missed } = await runReliability(options);
  process.stdout.write(
    `\nSignoff reliability — ${new Date().toISOString()}, ${values.quick ? 'quick' : 'full'} run, ${((Date.now() - started) / 1000).toFixed(0)} s\n\n`,
  );
  process.stdout.write(`${formatTable(rows)}\n`);
  if (targets.length > 0)
    process.stdout.write(`\nload targets:\n${targets.map((t) => `  ${t.text}`).join('\n')}\n`);
  const bad = rows.filter(failed);
  process.stdout.write(
    bad.length === 0 ? '\nno lost or duplicated effect, no 5xx\n' : `\n${bad.length} scenario(s) failed\n`,
  );
  for (const target of missed) process.stdout.write(`target missed: ${target}\n`);
  process.exit(bad.length === 0 && missed.length === 0 ? 0 : 1);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((error: unknown) => {
    process.stderr.write(`reliability run failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
