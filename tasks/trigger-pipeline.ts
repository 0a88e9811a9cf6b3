import { z } from 'zod';
import { ConflictError } from '../core/errors.ts';
import { resumeWhenReady } from '../core/pipelines.ts';
import { ApprovalOutcomeSchema, SYSTEM_ACTOR } from '../core/workflow.ts';
import { PreparedRelease, ReleaseInput, shortSha } from '../workflows/release.ts';
import type { Task } from './deps.ts';
import { pipelinesOf, showPipeline } from './release-deps.ts';

export const TriggerPipelineInput = z.object({
  taskToken: z.string().min(1).max(2048),
  executionArn: z.string().min(1),
  input: ReleaseInput.extend({ prepared: PreparedRelease, outcome: ApprovalOutcomeSchema }),
});

/** The ref moved after the approval: the pipeline would build a commit nobody approved. */
export class ReleaseRefMovedError extends ConflictError {}

/**
 * Re-check the approval, create the pipeline (`POST /projects/:id/pipeline`, the approved sha
 * and the approval id as variables), store pipeline id → task token, and wait: the Pipeline Hook
 * or the reconciler resumes the execution with the final status. The token never leaves the
 * store (never a CI variable). A retry after a crash finds the pipeline it created and creates
 * no second one; a final hook that overtook this task is applied here.
 */
export const triggerPipeline: Task<z.infer<typeof TriggerPipelineInput>, { pipelineId: number }> = {
  name: 'trigger-pipeline',
  input: TriggerPipelineInput,
  async run({ taskToken, executionArn, input }, deps) {
    // The gate: only an execution whose approval was granted runs a pipeline.
    const approval = await deps.signoff.assertGranted({
      executionArn,
      decision: 'approve',
      approvalId: input.outcome.approvalId,
    });
    const pipelines = pipelinesOf(deps);
    const { release, prepared } = input;
    let pipelineId = await pipelines.runOf(executionArn);
    let webUrl: string | undefined;
    if (pipelineId === undefined) {
      if (!release.rollbackOf) {
        const head = await deps.gitlab.getCommit(release.project, release.ref);
        if (head.sha !== prepared.sha)
          throw new ReleaseRefMovedError(
            `${release.ref} moved from the approved ${shortSha(prepared.sha)} to ${shortSha(head.sha)} after the approval: no pipeline was created; ask again to release ${shortSha(head.sha)}`,
          );
      }
      const created = await deps.gitlab.createPipeline(release.project, release.ref, {
        ...release.variables,
        SIGNOFF_SHA: prepared.sha,
        SIGNOFF_APPROVAL_ID: approval.approvalId,
        SIGNOFF_RELEASE: release.name,
        ...(release.rollbackOf ? { SIGNOFF_ROLLBACK_OF: String(release.rollbackOf.pipelineId) } : {}),
      });
      pipelineId = created.id;
      webUrl = created.webUrl;
      await pipelines.rememberRun(executionArn, pipelineId);
      await deps.audit.append(
        {
          kind: 'release',
          executionArn,
          action: 'release.pipeline_created',
          actor: SYSTEM_ACTOR,
          outcome: 'running',
          detail: {
            approvalId: approval.approvalId,
            pipelineId,
            project: String(release.project),
            ref: release.ref,
            sha: prepared.sha,
          },
        },
        { once: `${executionArn}#pipeline_created` },
      );
    }
    const record = await pipelines.wait(
      {
        pipelineId,
        executionArn,
        approvalId: approval.approvalId,
        release: release.name,
        project: String(release.project),
        ref: release.ref,
        sha: prepared.sha,
        ...(webUrl ? { webUrl } : {}),
        createdAt: deps.now().toISOString(),
      },
      taskToken,
    );
    const url = webUrl ?? record.run?.webUrl;
    await showPipeline(deps, approval.approvalId, (t) => t('pipelineRunning', { id: pipelineId }), url);
    // A final Pipeline Hook that arrived before the id was stored is applied now.
    const resumed = await resumeWhenReady(pipelines, deps.signoff.ports.engine, record, deps.now());
    deps.log('pipeline created', { executionArn, pipelineId, resumed });
    return { pipelineId };
  },
};
