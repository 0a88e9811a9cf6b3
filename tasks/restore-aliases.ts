import { z } from 'zod';
import { WORKFLOW_KINDS } from '../core/config.ts';
import { SYSTEM_ACTOR } from '../core/workflow.ts';
import { AliasChangedError } from '../integrations/lambda.ts';
import { AliasMove } from '../workflows/deploy.ts';
import { lambdaOf } from './deploy-deps.ts';
import type { Task } from './deps.ts';

export const RestoreAliasesInput = z.object({
  executionArn: z.string().min(1),
  kind: z.enum(WORKFLOW_KINDS),
  moves: z.array(AliasMove).max(200),
});

export interface RestoreAliasesOutput {
  /** Aliases moved back to the version they had before (`orders:test→3`). */
  restored: string[];
  /** Aliases never moved: still at the version they had. */
  untouched: string[];
  /** Aliases someone else has changed: left as they are (`orders:test at 5`). */
  leftAlone: string[];
}

/**
 * Undo a half-done promotion: each alias the moves put at its target version goes back to
 * the version it had (guarded by the RevisionId just read); aliases never moved, or changed
 * by someone else, are left as they are. Safe to repeat. Alias changes are reported, not thrown.
 */
export const restoreAliases: Task<z.infer<typeof RestoreAliasesInput>, RestoreAliasesOutput> = {
  name: 'restore-aliases',
  input: RestoreAliasesInput,
  async run({ executionArn, kind, moves }, deps) {
    const lambda = lambdaOf(deps);
    const out: RestoreAliasesOutput = { restored: [], untouched: [], leftAlone: [] };
    for (const move of moves) {
      const what = `${move.functionName}:${move.alias}`;
      const current = await lambda.getAlias(move.functionName, move.alias);
      if (!current) {
        out.leftAlone.push(`${what} (gone)`);
      } else if (current.functionVersion === move.fromVersion) {
        out.untouched.push(what);
      } else if (current.functionVersion !== move.toVersion) {
        out.leftAlone.push(`${what} at ${current.functionVersion}`);
      } else {
        try {
          await lambda.updateAlias(move.functionName, move.alias, move.fromVersion, current.revisionId);
          out.restored.push(`${what}→${move.fromVersion}`);
        } catch (error) {
          if (!(error instanceof AliasChangedError)) throw error;
          out.leftAlone.push(`${what} (changed while restoring)`);
        }
      }
    }
    await deps.audit.append({
      kind,
      executionArn,
      action: `${kind}.aliases-restored`,
      actor: SYSTEM_ACTOR,
      outcome: out.leftAlone.length > 0 ? 'partly' : 'restored',
      detail: { restored: out.restored.join(', '), leftAlone: out.leftAlone.join(', ') },
    });
    deps.log('aliases restored', { kind, restored: out.restored.length, leftAlone: out.leftAlone.length });
    return out;
  },
};
