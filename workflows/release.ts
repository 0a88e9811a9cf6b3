import { z } from 'zod';
import type { Actor, CardContent } from '../core/approvals/types.ts';
import { type Config, policyFor, RELEASE_NAME } from '../core/config.ts';
import { executionName, shortHash } from '../core/ids.ts';
import { PipelineResult } from '../core/pipelines.ts';
import { WorkflowEnvelope, type WorkflowModule } from '../core/workflow.ts';

const Sha = z.string().regex(/^[0-9a-f]{7,64}$/);

/** What a release runs: the configured target, resolved at request time. */
export const ReleaseRequest = z.object({
  /** The execution name, derived from the triggering event or button. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  /** The release name (`releases.<name>` in the configuration). */
  name: z.string().regex(RELEASE_NAME),
  project: z.union([z.string().min(1).max(255), z.number().int().positive()]),
  ref: z.string().min(1).max(255),
  variables: z.record(z.string(), z.string()).default({}),
  /** How long the pipeline may run (the TriggerPipeline state's TimeoutSecondsPath). */
  timeoutSeconds: z.number().int().min(1),
  /** A rollback re-runs an earlier successful release at its sha. */
  rollbackOf: z.object({ pipelineId: z.number().int().positive(), sha: Sha }).optional(),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

/** Set by PrepareRelease: the commit the pipeline will build and what changed since the last successful release. */
export const PreparedRelease = z.object({
  sha: Sha,
  title: z.string().max(1024),
  commitUrl: z.string().max(2048).nullish(),
  /** The sha of the last successful release of this name, when there was one. */
  since: Sha.nullish(),
  commits: z
    .array(z.object({ sha: z.string(), title: z.string().max(1024), authorName: z.string().max(256) }))
    .max(50),
  /** How many commits the compare found (more than listed when over 50). */
  commitCount: z.number().int().min(0),
});
export type PreparedRelease = z.infer<typeof PreparedRelease>;

export const ReleaseInput = WorkflowEnvelope.extend({
  kind: z.literal('release'),
  release: ReleaseRequest,
  prepared: PreparedRelease.optional(),
  pipeline: PipelineResult.optional(),
});
export type ReleaseInput = z.infer<typeof ReleaseInput>;

export type ReleaseTrigger =
  | { action: 'start'; name: string; input: ReleaseInput }
  | { action: 'refuse'; releases: string[] };

/** The configured release names, sorted. */
export function releaseNames(config: Config): string[] {
  return Object.keys(config.releases).sort();
}

/**
 * A request to run release `name` as the workflow input; the execution name comes from the
 * triggering event only, so a redelivered command starts nothing new.
 */
export function releaseTrigger(
  config: Config,
  requester: Actor,
  name: string,
  eventId: string,
  rollbackOf?: { pipelineId: number; sha: string },
): ReleaseTrigger {
  const wanted = name.trim().toLowerCase();
  const key = releaseNames(config).find((n) => n.toLowerCase() === wanted);
  const target = key ? config.releases[key] : undefined;
  if (!key || !target) return { action: 'refuse', releases: releaseNames(config) };
  const prefix = rollbackOf ? 'release-rollback' : 'release';
  const execution = executionName(prefix, key, shortHash(`${prefix}:${key}:${eventId}`, 16));
  const policyKind = rollbackOf ? 'rollback' : 'release';
  const policy = policyFor(config, policyKind, key);
  return {
    action: 'start',
    name: execution,
    input: {
      kind: 'release',
      requester,
      approval: {
        scope: key,
        timeoutSeconds: policy.timeoutSeconds,
        ...(rollbackOf ? { policyKind } : {}),
      },
      release: {
        id: execution,
        name: key,
        project: target.project,
        ref: target.ref,
        variables: target.variables,
        timeoutSeconds: target.timeoutSeconds,
        ...(rollbackOf ? { rollbackOf } : {}),
      },
    },
  };
}

/** `abc1234` — the short sha GitLab shows. */
export function shortSha(sha: string): string {
  return sha.slice(0, 8);
}

export const releaseWorkflow: WorkflowModule<ReleaseInput> = {
  kind: 'release',
  input: ReleaseInput,
  card(input, t): CardContent {
    const { release, prepared } = input;
    const sha = prepared ? shortSha(prepared.sha) : '?';
    const fields = [
      { label: t('fieldProject'), value: String(release.project) },
      { label: t('fieldRef'), value: release.ref },
      { label: t('fieldCommit'), value: prepared ? `${sha} ${prepared.title}`.trim() : t('unknown') },
    ];
    if (release.rollbackOf)
      fields.push({
        label: t('fieldRollbackTo'),
        value: t('pipelineAt', { id: release.rollbackOf.pipelineId, sha }),
      });
    if (prepared?.since) {
      const lines = prepared.commits.map((c) => `${shortSha(c.sha)} ${c.title} (${c.authorName})`);
      const more =
        prepared.commitCount > lines.length
          ? `\n${t('moreLines', { n: prepared.commitCount - lines.length })}`
          : '';
      fields.push({
        label: t('fieldSinceSha', { sha: shortSha(prepared.since) }),
        value: lines.length ? `${lines.join('\n')}${more}` : t('noNewCommits'),
      });
    } else if (prepared && !release.rollbackOf) {
      fields.push({ label: t('fieldSince'), value: t('firstRelease') });
    }
    fields.push({ label: t('fieldReleaseId'), value: release.id });
    const where = `${release.project}@${release.ref} ${sha}`;
    return {
      title: t(release.rollbackOf ? 'releaseRollbackTitle' : 'releaseTitle', { name: release.name, where }),
      summary: t('releaseSummary', {
        who: input.requester.name,
        name: release.name,
        project: release.project,
        ref: release.ref,
        sha,
      }),
      fields,
      links: prepared?.commitUrl ? [{ label: t('fieldCommit'), url: prepared.commitUrl }] : [],
    };
  },
};
