import { z } from 'zod';
import type { Notice } from '../core/chat.ts';
import { isWorkflowEnabled } from '../core/config.ts';
import { intentKeyOf } from '../core/ids.ts';
import { type MessageKey, phrases, type Translate, translator } from '../core/messages/index.ts';
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

/** A finished pipeline's status as its card and notice say it: `#12 passed`. */
const SHOWN: Record<PipelineResult['status'], MessageKey> = {
  success: 'pipelinePassed',
  failed: 'pipelineFailed',
  canceled: 'pipelineCanceled',
  skipped: 'pipelineSkipped',
};

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
    const target = `${input.release.project}@${input.release.ref}${input.prepared ? ` ${shortSha(input.prepared.sha)}` : ''}`;
    const what = (t: Translate) => t('subjectRelease', { name: input.release.name, target });
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
          await showPipeline(deps, approvalId, (t) => t('pipelineTimedOut', { id: pipelineId }));
      }
    }
    const text = (t: Translate) => describe(event, input, what(t), t);
    await tellRequester(deps, { kind: 'release', executionArn, requester: input.requester, event, text });
    return { text: text(translator('en')) };
  },
};

async function reportPipeline(
  deps: TaskDeps,
  executionArn: string,
  input: ReportReleaseInput['input'],
  reported: PipelineResult,
  what: (t: Translate) => string,
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
  const job = status === 'failed' ? result.failedJob : undefined;
  const shown = (t: Translate) =>
    phrases(t.language, [
      t(SHOWN[status], { id: result.pipelineId }),
      took ? t('pipelineTook', { took }) : undefined,
      job ? t('pipelineFailedJob', { job }) : undefined,
      unconfirmed ? t('pipelineUnconfirmed', { gitlab: confirmed.status, hook: reported.status }) : undefined,
    ]);
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
  const before =
    status === 'success' ? await runBefore(deps, input, result.pipelineId, record?.run?.sha) : undefined;
  const webUrl = result.webUrl;
  await tellRequester(deps, {
    kind: 'release',
    executionArn,
    requester: input.requester,
    event: `pipeline-${status}`,
    text: (t) => t('releasePipelineEnded', { what: what(t), status: shown(t) }),
    ...(webUrl ? { links: (t: Translate) => [{ label: t('pipeline'), url: webUrl }] } : {}),
    ...(before !== undefined
      ? { choices: rollbackChoice(input.release.name, result.pipelineId, before) }
      : {}),
  });
  return result;
}

/**
 * What a successful release's "Roll back" goes back to: the newest earlier successful run at
 * another commit (what was live before). None for the first release of a name (nothing to go
 * back to), for a rollback itself (going forward again is a new release), or while rollbacks
 * are not set up.
 */
async function runBefore(
  deps: TaskDeps,
  input: ReportReleaseInput['input'],
  pipelineId: number,
  runSha: string | undefined,
): Promise<number | undefined> {
  if (input.release.rollbackOf || !isWorkflowEnabled(deps.config, 'rollback')) return undefined;
  const sha = runSha ?? input.prepared?.sha;
  const runs = await pipelinesOf(deps).successes(input.release.name, 10);
  return runs.find((r) => r.pipelineId !== pipelineId && r.sha !== sha)?.pipelineId;
}

/** "Roll back" (in the reader's language): `rollback release <name> <pipeline>` under policies.rollback, keyed by the release's pipeline. */
function rollbackChoice(
  name: string,
  pipelineId: number,
  before: number,
): (t: Translate) => NonNullable<Notice['choices']> {
  return (t) => [
    {
      label: t('rollBack'),
      command: `rollback release ${name} ${before}`,
      key: intentKeyOf('rollback-release', String(pipelineId)),
    },
  ];
}

function describe(
  event: ReportReleaseInput['event'],
  input: ReportReleaseInput['input'],
  what: string,
  t: Translate,
): string {
  const by = input.outcome?.approvers.map((a) => a.name).join(', ') || t('nobody');
  const reason = input.outcome?.comment;
  switch (event) {
    case 'rejected':
      return reason ? t('endRejectedReason', { what, by, reason }) : t('endRejected', { what, by });
    case 'cancelled':
      return reason ? t('endCancelledReason', { what, reason }) : t('endCancelled', { what });
    case 'expired':
      return t('endExpired', { what });
    case 'timed-out':
      return t('releaseTimedOut', { what, seconds: input.release.timeoutSeconds });
    default:
      return t('endFailedBecause', { what, error: '', cause: errorText(input.error) });
  }
}
