import { z } from 'zod';
import { WORKFLOW_KINDS } from '../core/config.ts';
import { SYSTEM_ACTOR } from '../core/workflow.ts';
import { AliasChangedError } from '../integrations/lambda.ts';
import { AliasMove } from '../workflows/deploy.ts';
import { lambdaOf } from './deploy-deps.ts';
import type { Task } from './deps.ts';

export const PromoteAliasesInput = z.object({
  executionArn: z.string().min(1),
  kind: z.enum(WORKFLOW_KINDS),
  moves: z.array(AliasMove).max(200),
});

export interface PromoteAliasesOutput {
  /** Aliases this run moved, with the RevisionId each got. */
  moved: Array<{ functionName: string; alias: string; version: string; revisionId: string }>;
  /** Aliases already at their target version (a repeated run after a crash). */
  alreadyThere: string[];
}

/**
 * Point each alias at its move's target version with UpdateAlias, passing the RevisionId read
 * before the approval: if anyone changed the alias since, Lambda refuses and this fails with
 * AliasChangedError (the workflow then restores what was already moved). An alias already at
 * its target is left alone, so a re-run after a crash never moves anything twice.
 * Deploy promotes source versions; rollback uses the same task to point aliases back.
 */
export const promoteAliases: Task<z.infer<typeof PromoteAliasesInput>, PromoteAliasesOutput> = {
  name: 'promote-aliases',
  input: PromoteAliasesInput,
  async run({ executionArn, kind, moves }, deps) {
    // The gate: only an execution whose approval was granted moves anything.
    await deps.signoff.assertGranted({ executionArn, decision: 'approve' });
    const lambda = lambdaOf(deps);
    const out: PromoteAliasesOutput = { moved: [], alreadyThere: [] };
    // One at a time: on a refusal, as few aliases as possible have moved and need restoring.
    for (const move of moves) {
      const what = `${move.functionName}:${move.alias}`;
      const current = await lambda.getAlias(move.functionName, move.alias);
      if (!current) throw new AliasChangedError(`${changedPrefix(move)} no longer exists.${movedSoFar(out)}`);
      if (current.functionVersion === move.toVersion) {
        out.alreadyThere.push(what);
        continue;
      }
      try {
        const updated = await lambda.updateAlias(
          move.functionName,
          move.alias,
          move.toVersion,
          move.revisionId,
        );
        out.moved.push({
          functionName: move.functionName,
          alias: move.alias,
          version: move.toVersion,
          revisionId: updated.revisionId,
        });
      } catch (error) {
        if (!(error instanceof AliasChangedError)) throw error;
        // The SDK retries a call whose answer was lost; if the first try landed, the retry's
        // RevisionId is stale and Lambda refuses it. An alias now at the target was moved.
        const after = await lambda.getAlias(move.functionName, move.alias);
        if (after?.functionVersion === move.toVersion) {
          out.moved.push({
            functionName: move.functionName,
            alias: move.alias,
            version: move.toVersion,
            revisionId: after.revisionId,
          });
          continue;
        }
        throw new AliasChangedError(
          `${changedPrefix(move)} changed after it was read for the approval (it points at version ${after?.functionVersion ?? current.functionVersion}, expected ${move.fromVersion}); it was not overwritten.${movedSoFar(out)}`,
          { cause: error },
        );
      }
    }
    await deps.audit.append({
      kind,
      executionArn,
      action: `${kind}.aliases-moved`,
      actor: SYSTEM_ACTOR,
      outcome: 'moved',
      detail: {
        moved: out.moved.map((m) => `${m.functionName}:${m.alias}→${m.version}`).join(', '),
        alreadyThere: out.alreadyThere.join(', '),
      },
    });
    deps.log('aliases moved', { kind, moved: out.moved.length, alreadyThere: out.alreadyThere.length });
    return out;
  },
};

function changedPrefix(move: AliasMove): string {
  return `The ${move.alias} alias of ${move.functionName}`;
}

function movedSoFar(out: PromoteAliasesOutput): string {
  return out.moved.length > 0
    ? ` Already moved: ${out.moved.map((m) => `${m.functionName} to ${m.version}`).join(', ')}.`
    : '';
}
