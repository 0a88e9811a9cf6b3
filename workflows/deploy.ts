import { z } from 'zod';
import type { Actor, CardContent } from '../core/approvals/types.ts';
import { type Config, policyFor } from '../core/config.ts';
import { executionName, shortHash } from '../core/ids.ts';
import { WorkflowEnvelope, type WorkflowModule } from '../core/workflow.ts';

const Environment = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const Version = z.string().regex(/^(\d{1,10}|\$LATEST)$/);

/**
 * One alias to move: from the version it had when read to the version it should get, guarded
 * by the RevisionId it had when read (UpdateAlias refuses when someone changed it since).
 */
export const AliasMove = z.object({
  functionName: z.string().min(1).max(170),
  alias: Environment,
  fromVersion: Version,
  toVersion: Version,
  revisionId: z.string().min(1).max(128),
});
export type AliasMove = z.infer<typeof AliasMove>;

/** What a deploy or rollback will do: the moves, and the functions left out (with why). */
export const AliasPlan = z.object({
  moves: z.array(AliasMove).max(200),
  /** How many moves (the Choice state's "anything to do?"). */
  count: z.number().int().min(0),
  skipped: z.array(z.object({ functionName: z.string(), reason: z.string() })).default([]),
  /** Functions already at the source version. */
  unchanged: z.array(z.string()).default([]),
  checkedAt: z.string(),
});
export type AliasPlan = z.infer<typeof AliasPlan>;

export const DeployRequest = z.object({
  /** The deploy id: the execution name, derived from the triggering event. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  /** The target environment (its alias is moved). */
  environment: Environment,
  /** The environment before it in the chain (its alias gives the versions). */
  source: Environment,
});
export type DeployRequest = z.infer<typeof DeployRequest>;

export const DeployInput = WorkflowEnvelope.extend({
  kind: z.literal('deploy'),
  deploy: DeployRequest,
  /** Set by DiffAliases, before the approval is requested. */
  diff: AliasPlan.optional(),
});
export type DeployInput = z.infer<typeof DeployInput>;

/** The deploy targets of a chain: every environment but the first, each with its source. */
export function deployTargets(config: Config): Array<{ environment: string; source: string }> {
  const chain = config.deploy.environments;
  return chain.slice(1).map((environment, i) => ({ environment, source: chain[i] as string }));
}

export type DeployTrigger =
  | { action: 'start'; name: string; input: DeployInput }
  | { action: 'refuse'; reason: 'unknown-environment' | 'source-environment'; environments: string[] };

/**
 * A request to deploy to `environment` as the workflow input. The execution name (and deploy
 * id) comes from the triggering event only, so a redelivered command starts nothing new.
 */
export function deployTrigger(
  config: Config,
  requester: Actor,
  environment: string,
  eventId: string,
): DeployTrigger {
  const targets = deployTargets(config);
  const target = targets.find((t) => t.environment.toLowerCase() === environment.trim().toLowerCase());
  const environments = targets.map((t) => t.environment);
  if (!target) {
    const known = config.deploy.environments.some(
      (e) => e.toLowerCase() === environment.trim().toLowerCase(),
    );
    const reason = known ? 'source-environment' : 'unknown-environment';
    return { action: 'refuse', reason, environments };
  }
  const name = executionName('deploy', target.environment, shortHash(`${target.environment}:${eventId}`, 16));
  const policy = policyFor(config, 'deploy', target.environment);
  return {
    action: 'start',
    name,
    input: {
      kind: 'deploy',
      requester,
      approval: { scope: target.environment, timeoutSeconds: policy.timeoutSeconds },
      deploy: { id: name, environment: target.environment, source: target.source },
    },
  };
}

/** `orders: 3 → 4` lines, one field per function. */
export function moveFields(moves: AliasMove[]): Array<{ label: string; value: string }> {
  return moves.map((m) => ({
    label: m.functionName,
    value: `${m.alias}: ${m.fromVersion} → ${m.toVersion}`,
  }));
}

export const deployWorkflow: WorkflowModule<DeployInput> = {
  kind: 'deploy',
  input: DeployInput,
  card(input, t): CardContent {
    const { deploy, diff } = input;
    const moves = diff?.moves ?? [];
    const one = moves.length === 1;
    const fields = [
      { label: t('fieldEnvironment'), value: `${deploy.source} → ${deploy.environment}` },
      ...moveFields(moves),
      { label: t('fieldDeployId'), value: deploy.id },
    ];
    if (diff?.unchanged.length) fields.push({ label: t('fieldUnchanged'), value: diff.unchanged.join(', ') });
    if (diff?.skipped.length) {
      fields.push({
        label: t('fieldSkipped'),
        value: diff.skipped.map((s) => `${s.functionName} (${s.reason})`).join('; '),
      });
    }
    const vars = {
      env: deploy.environment,
      source: deploy.source,
      n: moves.length,
      who: input.requester.name,
    };
    return {
      title: t(one ? 'deployTitleOne' : 'deployTitle', vars),
      summary: t(one ? 'deploySummaryOne' : 'deploySummary', vars),
      fields,
      links: [],
    };
  },
};
