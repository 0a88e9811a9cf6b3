import { z } from 'zod';
import type { DeploymentStore } from '../core/deployments.ts';
import { ConfigError } from '../core/errors.ts';
import { sentences, type Translate, translator } from '../core/messages/index.ts';
import type { LambdaClientLike } from '../integrations/lambda.ts';
import type { TaskDeps } from './deps.ts';
import { causeMessage } from './notify.ts';

/** The Lambda client of a deploy or rollback task; a ConfigError when the entry point built none. */
export function lambdaOf(deps: TaskDeps): LambdaClientLike {
  if (!deps.lambda)
    throw new ConfigError('this runtime has no Lambda client: deploy and rollback tasks need one');
  return deps.lambda;
}

/** The deployment records of a deploy or rollback task; a ConfigError when the entry point built none. */
export function deploymentsOf(deps: TaskDeps): DeploymentStore {
  if (!deps.deployments)
    throw new ConfigError('this runtime has no deployment store: deploy and rollback tasks need one');
  return deps.deployments;
}

/** Run `work` over `items` with at most `limit` at a time (Lambda's control-plane rate limits are low). */
export async function mapLimited<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await work(items[index] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

/** A caught task error as the ASL Catch stores it (`ResultPath: $.error`). */
export const CaughtError = z.object({ Error: z.string().optional(), Cause: z.string().optional() });
export type CaughtError = z.infer<typeof CaughtError>;

/** What RestoreAliases reported (`ResultPath: $.restore`). */
export const RestoreReport = z.object({
  restored: z.array(z.string()).default([]),
  untouched: z.array(z.string()).default([]),
  leftAlone: z.array(z.string()).default([]),
});
export type RestoreReport = z.infer<typeof RestoreReport>;

/** The message of a caught error: Lambda puts `{errorMessage, errorType}` JSON in the Cause. */
export function errorText(error: CaughtError | undefined): string {
  return causeMessage(error?.Cause) || error?.Error || 'unknown error';
}

/**
 * What became of the aliases after a failed deploy ("restored …; left as someone else set them:
 * …"), as sentences after the failure; empty when there was nothing to restore. English unless
 * a reader's `t` is given (the deployment record keeps English).
 */
export function restoreText(
  restore: RestoreReport | undefined,
  restoreError?: CaughtError,
  t: Translate = translator('en'),
): string {
  if (restoreError) return t('restoreFailedToo', { error: errorText(restoreError) });
  if (!restore) return '';
  const restored = restore.restored.join(', ');
  const left = restore.leftAlone.join(', ');
  if (!restored && !left) return t('restoreNothingMoved');
  const done =
    restored && left
      ? t('restoreRestoredLeftAlone', { restored, left })
      : restored
        ? t('restoreRestored', { restored })
        : t('restoreLeftAlone', { left });
  return sentences(t.language, [done, left ? undefined : t('restoreWhole')]);
}
