import { z } from 'zod';
import { isFinalStatus, resumeWhenReady } from '../core/pipelines.ts';
import type { Task } from './deps.ts';
import { pipelinesOf } from './release-deps.ts';

export const ReconcilePipelinesInput = z.object({}).passthrough();

export interface ReconcileReport {
  checked: number;
  resumed: number;
  /** Still running: their waiting tasks got a heartbeat. */
  running: number;
  failed: number;
}

/**
 * For releases whose Pipeline Hook never came (GitLab disabled the hook, a delivery was lost):
 * ask GitLab (`GET /projects/:id/pipelines/:pid`) about every pipeline still waited for, resume
 * the ones that ended, and send a heartbeat for the ones still running. Locally the runtime's
 * timer runs it; on AWS a scheduled rule invokes its function.
 */
export const reconcilePipelines: Task<z.infer<typeof ReconcilePipelinesInput>, ReconcileReport> = {
  name: 'reconcile-pipelines',
  input: ReconcilePipelinesInput,
  async run(_input, deps) {
    const pipelines = pipelinesOf(deps);
    const engine = deps.signoff.ports.engine;
    const report: ReconcileReport = { checked: 0, resumed: 0, running: 0, failed: 0 };
    for (const run of await pipelines.waiting(100)) {
      report.checked++;
      try {
        let record = await pipelines.get(run.pipelineId);
        if (!record) continue;
        if (!record.result) {
          const now = await deps.gitlab.getPipeline(run.project, run.pipelineId);
          if (!isFinalStatus(now.status)) {
            report.running++;
            if (record.taskToken) await engine.heartbeat?.(record.taskToken);
            continue;
          }
          record = await pipelines.record(
            {
              pipelineId: run.pipelineId,
              status: now.status,
              duration: now.duration ?? null,
              finishedAt: now.finishedAt ?? null,
              webUrl: now.webUrl ?? run.webUrl ?? null,
              via: 'reconciler',
            },
            deps.now(),
          );
        }
        if ((await resumeWhenReady(pipelines, engine, record, deps.now())) === 'resumed') report.resumed++;
      } catch (error) {
        report.failed++;
        deps.log('pipeline reconcile failed', { pipelineId: run.pipelineId, error: String(error) });
      }
    }
    if (report.checked > 0) deps.log('pipelines reconciled', { ...report });
    return report;
  },
};
