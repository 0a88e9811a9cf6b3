import { createHash } from 'node:crypto';
import type { AuditLog, AuditRecord } from './audit.ts';
import { canonical } from './audit-chain.ts';
import { SYSTEM_ACTOR } from './workflow.ts';

export const CONFIG_EXECUTION = 'signoff:config';
export const CONFIG_CHANGED = 'config.changed';

/** The configuration's hash: sha256 of its JSON with keys sorted (formatting does not count). */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonical(config)).digest('hex');
}

/**
 * At start, audit the configuration when it differs from the last one audited (`config` chain):
 * its hash, where it was loaded from and which process saw the change. Compared and linked under
 * the chain head's condition, so several instances starting together record a change once.
 */
export function auditConfiguration(
  audit: AuditLog,
  config: unknown,
  where: { source: string; by: string },
): Promise<AuditRecord | undefined> {
  const hash = configHash(config);
  return audit.appendUnlessLast(
    {
      kind: 'config',
      executionArn: CONFIG_EXECUTION,
      action: CONFIG_CHANGED,
      actor: SYSTEM_ACTOR,
      outcome: 'changed',
      detail: { hash, source: where.source, by: where.by },
    },
    (last) => last?.detail?.hash === hash,
  );
}
