import { z } from 'zod';
import type { Notice } from '../core/chat.ts';
import { isWorkflowEnabled } from '../core/config.ts';
import { intentKeyOf } from '../core/ids.ts';
import { translate } from '../core/messages/index.ts';
import { isFinalStatus, PipelineResult } from '../core/pipelines.ts';
import { ApprovalOutcomeSchema, SYSTEM_ACTOR } from '../core/workflow.ts';
import { PreparedRelease, ReleaseInput, shortSha } from '../workflows/release.ts';
import { CaughtError, errorText } from './deploy-deps.ts';
import type { Task, TaskDeps } from './deps.ts';
import { tellRequester } from './notify.ts';
import { durationText, pipelinesOf, showPipeline } from './release-deps.ts';

export const RELEASE_EVENTS = [
  'pipeline',
  'timed-out',
  'rejected',
  'cancelled',
  'expired',
  'failed',
] as const;

export const ReportReleaseInput = z.object({
  event: z.enum(RELEASE_EVENTS),
  executionArn: z.string().min(1),
  input: ReleaseInput.extend({
    prepared: PreparedRelease.optional(),
    outcome: ApprovalOutcomeSchema.optional(),
    pipeline: PipelineResult.optional(),
    error: CaughtError.optional(),
  }),
});
type ReportReleaseInput = z.infer<typeof ReportReleaseInput>;

const SHOWN = { success: 'passed', failed: 'failed', canceled: 'canceled', skipped: 'skipped' } as const;

/**
 * How a release ended, on every copy of its card (passed / failed / canceled, duration, link,
 * the failing job), for the requester, and in the audit. For `pipeline`, GitLab is asked for the
 * pipeline's status first: a hook that says "success" for a pipeline GitLab does not report as
 * finished does not make a release succeed.
 */
export const reportRelease: Task<ReportReleaseInput, PipelineResult | { text: string }> = {
  name: 'report-release',
  input: ReportReleaseInput,
  async run({ event, executionArn, input }, deps) {
    const what = `Release ${input.release.name} (${input.release.project}@${input.release.ref}${input.prepared ? ` ${shortSha(input.prepared.sha)}` : ''})`;
    const approvalId = input.outcome?.approvalId;
    if (event === 'pipeline' && input.pipeline)
      return reportPipeline(deps, executionArn, input, input.pipeline, what);
    if (event === 'timed-out') {
      const pipelineId = await pipelinesOf(deps).runOf(executionArn);
      if (pipelineId !== undefined) {
        await deps.gitlab
          .cancelPipeline(input.release.project, pipelineId)
          .catch((error: unknown) =>
            deps.log('pipeline cancel failed', { executionArn, pipelineId, error: String(error) }),
          );
        if (approvalId)
          await showPipeline(deps, approvalId, `#${pipelineId} timed out (canceled by Signoff)`);
      }
    }
    const text = describe(event, input, what);
    await tellRequester(deps, { kind: 'release', executionArn, requester: input.requester, event, text });
    return { text };
  },
};

async function reportPipeline(
  deps: TaskDeps,
  executionArn: string,
  input: ReportReleaseInput['input'],
  reported: PipelineResult,
  what: string,
): Promise<PipelineResult> {
  const pipelines = pipelinesOf(deps);
  const record = await pipelines.get(reported.pipelineId);
  // The hook is believed only as far as GitLab confirms it.
  const confirmed = await deps.gitlab.getPipeline(input.release.project, reported.pipelineId);
  const status = isFinalStatus(confirmed.status) ? confirmed.status : 'failed';
  const result: PipelineResult = {
    ...reported,
    status,
    duration: confirmed.duration ?? reported.duration ?? null,
    finishedAt: confirmed.finishedAt ?? reported.finishedAt ?? null,
    webUrl: confirmed.webUrl ?? reported.webUrl ?? record?.run?.webUrl ?? null,
  };
  const unconfirmed = status !== reported.status;
  const took = durationText(result.duration);
  const job = status === 'failed' && result.failedJob ? ` at job "${result.failedJob}"` : '';
  const shown = `#${result.pipelineId} ${SHOWN[status]}${took ? ` in ${took}` : ''}${job}${unconfirmed ? ` (GitLab reports ${confirmed.status}; the hook said ${reported.status})` : ''}`;
  const approvalId = input.outcome?.approvalId ?? record?.run?.approvalId;
  if (approvalId) await showPipeline(deps, approvalId, shown, result.webUrl);
  if (record?.run) await pipelines.finished(record.run, result);
  await deps.audit.append(
    {
      kind: 'release',
      executionArn,
      action: 'release.pipeline_finished',
      actor: SYSTEM_ACTOR,
      outcome: status,
      detail: {
        pipelineId: result.pipelineId,
        via: result.via,
        ...(took ? { duration: took } : {}),
        ...(result.failedJob ? { failedJob: result.failedJob } : {}),
        ...(unconfirmed ? { hookSaid: reported.status, gitlabSays: confirmed.status } : {}),
      },
    },
    { once: `${executionArn}#pipeline_finished` },
  );
  const choices =
    status === 'success' ? await rollbackChoices(deps, input, result.pipelineId, record?.run?.sha) : [];
  await tellRequester(deps, {
    kind: 'release',
    executionArn,
    requester: input.requester,
    event: `pipeline-${status}`,
    text: `${what}: pipeline ${shown}.`,
    ...(result.webUrl ? { links: [{ label: 'Pipeline', url: result.webUrl }] } : {}),
    ...(choices.length ? { choices } : {}),
  });
  return result;
}

/**
 * A successful release's result offers "Roll back": `rollback release <name> <pipeline>` for
 * the newest earlier successful run at another commit (what was live before), under
 * policies.rollback. None for the first release of a name (nothing to go back to), for a
 * rollback itself (going forward again is a new release), or while rollbacks are not set up.
 */
async function rollbackChoices(
  deps: TaskDeps,
  input: ReportReleaseInput['input'],
  pipelineId: number,
  runSha: string | undefined,
): Promise<NonNullable<Notice['choices']>> {
  if (input.release.rollbackOf || !isWorkflowEnabled(deps.config, 'rollback')) return [];
  const sha = runSha ?? input.prepared?.sha;
  const runs = await pipelinesOf(deps).successes(input.release.name, 10);
  const before = runs.find((r) => r.pipelineId !== pipelineId && r.sha !== sha);
  if (!before) return [];
  return [
    {
      label: translate('en', 'rollBack'),
      command: `rollback release ${input.release.name} ${before.pipelineId}`,
      key: intentKeyOf('rollback-release', String(pipelineId)),
    },
  ];
}

function describe(
  event: ReportReleaseInput['event'],
  input: ReportReleaseInput['input'],
  what: string,
): string {
  const by = input.outcome?.approvers.map((a) => a.name).join(', ') || 'nobody';
  const comment = input.outcome?.comment;
  switch (event) {
    case 'rejected':
      return `${what} was rejected by ${by}${comment ? `: ${comment}` : '.'}`;
    case 'cancelled':
      return `${what} no longer waits for approval${comment ? `: ${comment}` : '.'}`;
    case 'expired':
      return `${what} expired: nobody decided in time.`;
    case 'timed-out':
      return `${what}: the pipeline did not finish within ${input.release.timeoutSeconds} s; Signoff asked GitLab to cancel it.`;
    default:
      return `${what} failed: ${errorText(input.error)}`;
  }
}
