import type { CardContent } from '../core/approvals/types.ts';
import { ConfigError } from '../core/errors.ts';
import type { PipelineStore } from '../core/pipelines.ts';
import type { TaskDeps } from './deps.ts';

/** The pipeline store of a release task; a ConfigError when the entry point built none. */
export function pipelinesOf(deps: TaskDeps): PipelineStore {
  if (!deps.pipelines) throw new ConfigError('this runtime has no pipeline store: release tasks need one');
  return deps.pipelines;
}

/**
 * Show the pipeline's progress on every copy of the approval's card: the `Pipeline` field and
 * link are replaced, the rest stays as it was approved. A card that cannot be updated is logged
 * by the approval service, never thrown: the release goes on.
 */
export async function showPipeline(
  deps: TaskDeps,
  approvalId: string,
  status: string,
  url?: string | null,
): Promise<void> {
  const approval = await deps.store.get(approvalId);
  if (!approval) return;
  const card: CardContent = {
    ...approval.card,
    fields: [
      ...approval.card.fields.filter((f) => f.label !== 'Pipeline'),
      { label: 'Pipeline', value: status },
    ],
    links: [
      ...approval.card.links.filter((l) => l.label !== 'Pipeline'),
      ...(url ? [{ label: 'Pipeline', url }] : []),
    ],
  };
  const written = await deps.store.setCard(approvalId, card);
  await deps.approvals.refreshCards(written);
}

/** `1m 5s` from GitLab's duration in seconds. */
export function durationText(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}
