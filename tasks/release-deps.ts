import type { Approval, CardContent } from '../core/approvals/types.ts';
import type { Language } from '../core/commands.ts';
import { ConfigError } from '../core/errors.ts';
import { type Translate, translator } from '../core/messages/index.ts';
import type { PipelineStore } from '../core/pipelines.ts';
import type { TaskDeps } from './deps.ts';

/** The pipeline store of a release task; a ConfigError when the entry point built none. */
export function pipelinesOf(deps: TaskDeps): PipelineStore {
  if (!deps.pipelines) throw new ConfigError('this runtime has no pipeline store: release tasks need one');
  return deps.pipelines;
}

/**
 * Show the pipeline's progress on every copy of the approval's card, each in its language: the
 * `Pipeline` field and link are replaced, the rest stays as it was approved. A card that cannot
 * be updated is logged by the approval service, never thrown: the release goes on.
 */
export async function showPipeline(
  deps: TaskDeps,
  approvalId: string,
  status: (t: Translate) => string,
  url?: string | null,
): Promise<void> {
  const approval = await deps.store.get(approvalId);
  if (!approval) return;
  const withPipeline = (content: CardContent, language: Language): CardContent => {
    const t = translator(language);
    const label = t('pipeline');
    return {
      ...content,
      fields: [...content.fields.filter((f) => f.label !== label), { label, value: status(t) }],
      links: [...content.links.filter((l) => l.label !== label), ...(url ? [{ label, url }] : [])],
    };
  };
  const translations = approval.translations
    ? (Object.fromEntries(
        Object.entries(approval.translations).map(([language, content]) => [
          language,
          withPipeline(content, language as Language),
        ]),
      ) as Approval['translations'])
    : undefined;
  const card = withPipeline(approval.card, deps.config.language);
  const written = await deps.store.setCard(approvalId, card, translations);
  await deps.approvals.refreshCards(written);
}

/** `1m 5s` from GitLab's duration in seconds. */
export function durationText(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}
