import { z } from 'zod';
import type { Actor, Exclusion } from '../core/approvals/types.ts';
import { type Config, excludesCommitAuthors, policyFor, userFor, userForEmail } from '../core/config.ts';
import { type CommitInfo, MergeRequestChangedError } from '../integrations/gitlab.ts';
import { MergeRequestInput, type MergeRequestRef } from '../workflows/merge-request.ts';
import type { Task } from './deps.ts';

export const PrepareMergeRequestInput = z.object({
  executionArn: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
type PrepareMergeRequestInput = z.infer<typeof PrepareMergeRequestInput>;

/** How many commit authors the card names; the rest are counted. */
const MAX_LISTED_AUTHORS = 100;

const BECAUSE_AUTHOR = 'opened this merge request';
const BECAUSE_COMMITS = 'added commits to this merge request';

/**
 * Four-eyes on the people who wrote the change, before the approval is asked for. Reads the
 * merge request's author from GitLab (the webhook names only the actor) and makes them the
 * requester; unless the policy turns `excludeCommitAuthors` off, lists every commit and
 * excludes each configured user who authored or committed one (matched by `users.<key>.email`),
 * or pushed the head (matched by `users.<key>.gitlab`). Returns the workflow input with these
 * filled in; the state's output replaces its input.
 *
 * Fails closed: if the commits cannot be read (GitLabUnavailableError is retried by the ASL;
 * anything else, or retries running out, fails the execution) no approval is asked for, so an
 * exclusion is never dropped silently. A commit list without the head commit is for another
 * head (a force-push): MergeRequestChangedError, nothing asked.
 */
export const prepareMergeRequest: Task<PrepareMergeRequestInput, MergeRequestInput> = {
  name: 'prepare-merge-request',
  input: PrepareMergeRequestInput,
  async run({ executionArn, input: raw }, deps) {
    const input = MergeRequestInput.parse(raw);
    const mr = input.mergeRequest;
    const policy = policyFor(deps.config, 'merge-request', input.approval.scope);

    const details = await deps.gitlab.getMergeRequest(mr.projectId, mr.iid);
    const author = { username: details.author, name: details.authorName || details.author };
    const authorUser = userFor(deps.config, 'gitlab', author.username);
    const requester: Actor = {
      platform: 'gitlab',
      id: author.username,
      name: author.name,
      ...(authorUser ? { user: authorUser } : {}),
    };

    const excluded = new Exclusions(deps.config);
    if (authorUser && !policy.allowSelfApproval) excluded.add(authorUser, BECAUSE_AUTHOR);

    let commitAuthors: Pick<MergeRequestRef, 'commitAuthors' | 'moreCommitAuthors'> = {};
    if (excludesCommitAuthors(policy)) {
      const commits = await deps.gitlab.listMergeRequestCommits(mr.projectId, mr.iid);
      if (!commits.some((c) => c.sha === mr.sha)) {
        throw new MergeRequestChangedError(
          `merge request !${mr.iid}'s commits do not include ${mr.sha.slice(0, 8)}: its head was rewritten`,
        );
      }
      for (const commit of commits) {
        // Both are claims git lets anyone write; excluding either is the safe side.
        for (const email of [commit.authorEmail, commit.committerEmail]) {
          const user = userForEmail(deps.config, email);
          if (user) excluded.add(user, BECAUSE_COMMITS);
        }
      }
      // The pusher is known from GitLab itself, whatever the commits claim.
      const pusher = mr.pushedBy && userFor(deps.config, 'gitlab', mr.pushedBy.username);
      if (pusher) excluded.add(pusher, BECAUSE_COMMITS);
      commitAuthors = listAuthors(deps.config, commits);
    }

    deps.log('merge request prepared', {
      executionArn,
      author: author.username,
      excluded: excluded.list.map((e) => e.user),
    });
    const { excluded: _previous, ...approval } = input.approval;
    return {
      ...(raw as MergeRequestInput),
      requester,
      approval: { ...approval, ...(excluded.list.length > 0 ? { excluded: excluded.list } : {}) },
      mergeRequest: { ...mr, author, authorId: details.authorId, ...commitAuthors },
    };
  },
};

/** One entry per user, with the first reason found (author before commits). */
class Exclusions {
  readonly list: Exclusion[] = [];
  constructor(private readonly config: Config) {}
  add(user: string, because: string): void {
    if (this.list.some((e) => e.user === user)) return;
    this.list.push({ user, name: this.config.users[user]?.name ?? user, because });
  }
}

/** Distinct git authors, in commit order, each with the user their email maps to. */
function listAuthors(
  config: Config,
  commits: CommitInfo[],
): Pick<MergeRequestRef, 'commitAuthors' | 'moreCommitAuthors'> {
  const seen = new Map<string, { name: string; user?: string }>();
  for (const commit of commits) {
    const user = userForEmail(config, commit.authorEmail);
    const key = user ? `user:${user}` : commit.authorEmail.toLowerCase() || `name:${commit.authorName}`;
    if (seen.has(key)) continue;
    const name = (user && config.users[user]?.name) || commit.authorName || commit.authorEmail || 'unknown';
    seen.set(key, { name: name.slice(0, 256), ...(user ? { user } : {}) });
  }
  const all = [...seen.values()];
  const more = all.length - MAX_LISTED_AUTHORS;
  return {
    commitAuthors: all.slice(0, MAX_LISTED_AUTHORS),
    ...(more > 0 ? { moreCommitAuthors: more } : {}),
  };
}
