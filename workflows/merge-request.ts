import { z } from 'zod';
import { becauseIn } from '../core/approvals/refusals.ts';
import type { CardContent } from '../core/approvals/types.ts';
import { type Config, policyFor, userFor } from '../core/config.ts';
import { executionName, shortHash } from '../core/ids.ts';
import type { Translate } from '../core/messages/index.ts';
import { WorkflowEnvelope, type WorkflowModule } from '../core/workflow.ts';

export const MergeRequestRef = z.object({
  projectId: z.number().int().positive(),
  projectPath: z.string().min(1).max(512),
  projectUrl: z.string().max(2048),
  iid: z.number().int().positive(),
  title: z.string().max(1024),
  /**
   * Who opened the merge request. The hook names only the actor, so the trigger writes the actor
   * here; PrepareMergeRequest replaces it with the author GitLab reports.
   */
  author: z.object({ username: z.string().max(256), name: z.string().max(256) }),
  /** The hook's `object_attributes.author_id`, when given. */
  authorId: z.number().int().positive().optional(),
  /** Who pushed the head commit, when the event is a push: they added commits (four-eyes). */
  pushedBy: z.object({ username: z.string().max(256), name: z.string().max(256) }).optional(),
  /** Who wrote the commits (git author names), with the user they map to; set by PrepareMergeRequest. */
  commitAuthors: z
    .array(z.object({ name: z.string().max(256), user: z.string().max(64).optional() }))
    .max(100)
    .optional(),
  /** Commit authors not listed in `commitAuthors` (it holds the first 100). */
  moreCommitAuthors: z.number().int().min(0).optional(),
  sourceBranch: z.string().max(512),
  targetBranch: z.string().max(512),
  /** The head commit the approval is for; the merge is made with `sha` set to it. */
  sha: z.string().regex(/^[0-9a-f]{7,64}$/),
  url: z.string().max(2048),
});
export type MergeRequestRef = z.infer<typeof MergeRequestRef>;

export const MergeRequestInput = WorkflowEnvelope.extend({
  kind: z.literal('merge-request'),
  mergeRequest: MergeRequestRef,
});
export type MergeRequestInput = z.infer<typeof MergeRequestInput>;

/** The subject every approval of one merge request shares (a push or close cancels by it). */
export function mergeRequestSubject(projectId: number, iid: number): string {
  return `gitlab:${projectId}:${iid}`;
}

/** The parts of a GitLab "Merge Request Hook" payload Signoff reads. */
export const MergeRequestHook = z.object({
  object_kind: z.literal('merge_request'),
  /** The actor: who opened, pushed, closed… (not necessarily the author). */
  user: z.object({
    id: z.number().int().optional(),
    username: z.string().min(1).max(256),
    name: z.string().max(256).optional(),
  }),
  project: z.object({
    id: z.number().int().positive(),
    path_with_namespace: z.string().min(1).max(512),
    web_url: z.string().max(2048),
  }),
  object_attributes: z.object({
    iid: z.number().int().positive(),
    title: z.string().max(1024),
    state: z.string().max(32),
    action: z.string().max(32).optional(),
    source_branch: z.string().max(512),
    target_branch: z.string().max(512),
    last_commit: z.object({ id: z.string().regex(/^[0-9a-f]{7,64}$/) }),
    url: z.string().max(2048),
    draft: z.boolean().optional(),
    work_in_progress: z.boolean().optional(),
    oldrev: z.string().optional(),
    updated_at: z.string().max(64).optional(),
    /** The merge request's author (a GitLab user id; the hook carries no username for it). */
    author_id: z.number().int().positive().optional(),
  }),
  changes: z
    .object({
      draft: z.object({ previous: z.boolean().nullish(), current: z.boolean().nullish() }).optional(),
    })
    .passthrough()
    .optional(),
});
export type MergeRequestHook = z.infer<typeof MergeRequestHook>;

/** What a merge request event asks Signoff to do. */
export type MergeRequestTrigger =
  | { action: 'start'; name: string; input: MergeRequestInput; cancelReason?: string }
  | { action: 'cancel'; subject: string; reason: string }
  | { action: 'ignore'; reason: string };

/**
 * Map a verified Merge Request Hook to an action. The execution name comes from the MR and
 * its head commit only, so a redelivered webhook maps to the same name and starts nothing new.
 */
export function mergeRequestTrigger(hook: MergeRequestHook, config: Config): MergeRequestTrigger {
  const mr = hook.object_attributes;
  const subject = mergeRequestSubject(hook.project.id, mr.iid);
  const action = mr.action ?? '';
  const draft = mr.draft ?? mr.work_in_progress ?? false;

  if (action === 'close')
    return { action: 'cancel', subject, reason: `merge request closed in GitLab by ${hook.user.username}` };
  if (action === 'merge')
    return { action: 'cancel', subject, reason: `merge request merged in GitLab by ${hook.user.username}` };

  const pushed = action === 'update' && Boolean(mr.oldrev);
  const markedReady =
    action === 'update' && hook.changes?.draft?.previous === true && hook.changes.draft.current === false;
  const opened = action === 'open' || action === 'reopen';
  if (!opened && !pushed && !markedReady)
    return { action: 'ignore', reason: `merge request action "${action}" needs no approval` };
  if (mr.state !== 'opened') return { action: 'ignore', reason: `merge request is ${mr.state}` };
  if (draft) {
    return pushed
      ? { action: 'cancel', subject, reason: 'new commits pushed to a draft merge request' }
      : { action: 'ignore', reason: 'draft merge requests are approved once marked ready' };
  }

  const policy = policyFor(config, 'merge-request', hook.project.path_with_namespace);
  // The requester is the merge request's author. The hook names only the actor (who opened, pushed
  // or marked it ready) and the author's id, so this is the actor for now; PrepareMergeRequest reads
  // the author from GitLab before the approval is stored.
  const actor = { username: hook.user.username, name: hook.user.name ?? hook.user.username };
  const user = userFor(config, 'gitlab', actor.username);
  const input: MergeRequestInput = {
    kind: 'merge-request',
    requester: {
      platform: 'gitlab',
      id: actor.username,
      name: actor.name,
      ...(user ? { user } : {}),
    },
    approval: { scope: hook.project.path_with_namespace, subject, timeoutSeconds: policy.timeoutSeconds },
    mergeRequest: {
      projectId: hook.project.id,
      projectPath: hook.project.path_with_namespace,
      projectUrl: hook.project.web_url,
      iid: mr.iid,
      title: mr.title,
      author: actor,
      ...(mr.author_id !== undefined ? { authorId: mr.author_id } : {}),
      ...(pushed ? { pushedBy: actor } : {}),
      sourceBranch: mr.source_branch,
      targetBranch: mr.target_branch,
      sha: mr.last_commit.id,
      url: mr.url,
    },
  };
  const parts: Array<string | number> = ['mr', hook.project.id, mr.iid, mr.last_commit.id.slice(0, 12)];
  // A reopen at the same head commit is a new request: tell it apart by when it happened.
  if (action === 'reopen') parts.push(`r${shortHash(mr.updated_at ?? 'reopen', 8)}`);
  return {
    action: 'start',
    name: executionName(...parts),
    input,
    ...(pushed ? { cancelReason: `new commits pushed (${mr.last_commit.id.slice(0, 8)})` } : {}),
  };
}

export const mergeRequestWorkflow: WorkflowModule<MergeRequestInput> = {
  kind: 'merge-request',
  input: MergeRequestInput,
  card(input, t): CardContent {
    const mr = input.mergeRequest;
    const fields = [
      { label: t('fieldProject'), value: mr.projectPath },
      { label: t('fieldTitle'), value: mr.title },
      { label: t('fieldAuthor'), value: `${mr.author.name} (@${mr.author.username})` },
      { label: t('fieldBranches'), value: `${mr.sourceBranch} → ${mr.targetBranch}` },
      { label: t('fieldHeadCommit'), value: mr.sha.slice(0, 12) },
    ];
    if (mr.commitAuthors)
      fields.push({ label: t('fieldCommitAuthors'), value: describeCommitAuthors(mr, t) });
    const excluded = input.approval.excluded ?? [];
    if (excluded.length > 0) {
      fields.push({
        label: t('fieldMayNotApprove'),
        value: excluded.map((e) => `${e.name} (${becauseIn(e.because, t.language)})`).join('; '),
      });
    }
    return {
      title: t('mergeCardTitle', { iid: mr.iid, title: mr.title }),
      summary: t('mergeCardSummary', {
        author: mr.author.name,
        source: mr.sourceBranch,
        target: mr.targetBranch,
        project: mr.projectPath,
      }),
      fields,
      links: [{ label: t('linkMergeRequest', { iid: mr.iid }), url: mr.url }],
    };
  },
};

/** Commit authors for the card; one that maps to no configured user is said so, not hidden. */
function describeCommitAuthors(mr: MergeRequestRef, t: Translate): string {
  const names = (mr.commitAuthors ?? []).map((a) =>
    a.user ? a.name : t('notASignoffUser', { name: a.name }),
  );
  const more = mr.moreCommitAuthors ? [t('andMore', { n: mr.moreCommitAuthors })] : [];
  return [...names, ...more].join(', ') || '—';
}
