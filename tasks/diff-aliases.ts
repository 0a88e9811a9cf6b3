import { z } from 'zod';
import { SYSTEM_ACTOR } from '../core/workflow.ts';
import { type AliasMove, type AliasPlan, DeployInput } from '../workflows/deploy.ts';
import { lambdaOf, mapLimited } from './deploy-deps.ts';
import type { Task } from './deps.ts';

export const DiffAliasesInput = z.object({
  executionArn: z.string().min(1),
  input: DeployInput,
});

type Finding =
  | { kind: 'move'; move: AliasMove }
  | { kind: 'unchanged'; functionName: string }
  | { kind: 'skipped'; functionName: string; reason: string };

/**
 * Compare each selected function's source alias with its target alias. A function whose
 * versions differ becomes a move, carrying the target alias's RevisionId as read now: the
 * promotion passes it to UpdateAlias, so a change made after this read fails loudly.
 * Read-only, so safe to repeat.
 */
export const diffAliases: Task<z.infer<typeof DiffAliasesInput>, AliasPlan> = {
  name: 'diff-aliases',
  input: DiffAliasesInput,
  async run({ executionArn, input }, deps) {
    const lambda = lambdaOf(deps);
    const { source, environment } = input.deploy;
    const names = await lambda.listFunctions(deps.config.deploy.functions);
    const findings = await mapLimited(names, 4, async (functionName): Promise<Finding> => {
      const [from, to] = await Promise.all([
        lambda.getAlias(functionName, source),
        lambda.getAlias(functionName, environment),
      ]);
      if (!from) return { kind: 'skipped', functionName, reason: `no ${source} alias` };
      if (!to) return { kind: 'skipped', functionName, reason: `no ${environment} alias` };
      if (from.functionVersion === '$LATEST')
        return {
          kind: 'skipped',
          functionName,
          reason: `${source} points at $LATEST, not a published version`,
        };
      if (from.functionVersion === to.functionVersion) return { kind: 'unchanged', functionName };
      return {
        kind: 'move',
        move: {
          functionName,
          alias: environment,
          fromVersion: to.functionVersion,
          toVersion: from.functionVersion,
          revisionId: to.revisionId,
        },
      };
    });
    const moves = findings.flatMap((f) => (f.kind === 'move' ? [f.move] : []));
    const plan: AliasPlan = {
      moves,
      count: moves.length,
      skipped: findings.flatMap((f) =>
        f.kind === 'skipped' ? [{ functionName: f.functionName, reason: f.reason }] : [],
      ),
      unchanged: findings.flatMap((f) => (f.kind === 'unchanged' ? [f.functionName] : [])),
      checkedAt: deps.now().toISOString(),
    };
    await deps.audit.append({
      kind: 'deploy',
      executionArn,
      action: 'deploy.diffed',
      actor: SYSTEM_ACTOR,
      outcome: moves.length > 0 ? 'changes' : 'nothing-to-deploy',
      detail: {
        deployId: input.deploy.id,
        environment,
        functions: moves.map((m) => `${m.functionName} ${m.fromVersion}→${m.toVersion}`).join(', '),
      },
    });
    deps.log('aliases diffed', { environment, moves: moves.length, functions: names.length });
    return plan;
  },
};
