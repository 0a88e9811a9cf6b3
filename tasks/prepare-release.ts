import { z } from 'zod';
import { type PreparedRelease, ReleaseInput } from '../workflows/release.ts';
import type { Task } from './deps.ts';
import { pipelinesOf } from './release-deps.ts';

export const PrepareReleaseInput = z.object({ executionArn: z.string().min(1), input: ReleaseInput });

/** Most commits a card lists (the compare may find more: the count says how many). */
const LISTED = 20;

/**
 * What the card shows before anyone approves: the commit the ref points at now (or, for a
 * rollback, the earlier release's commit) and the commits since the last successful release of
 * this name (GitLab's compare API).
 */
export const prepareRelease: Task<z.infer<typeof PrepareReleaseInput>, PreparedRelease> = {
  name: 'prepare-release',
  input: PrepareReleaseInput,
  async run({ input }, deps) {
    const { release } = input;
    const commit = await deps.gitlab.getCommit(release.project, release.rollbackOf?.sha ?? release.ref);
    const last = release.rollbackOf ? undefined : (await pipelinesOf(deps).successes(release.name, 1))[0];
    let commits: PreparedRelease['commits'] = [];
    let commitCount = 0;
    if (last && last.sha !== commit.sha) {
      const all = await deps.gitlab.compare(release.project, last.sha, commit.sha);
      commitCount = all.length;
      // Newest first, as a person reads what is about to go out.
      commits = all.slice(-LISTED).reverse();
    }
    return {
      sha: commit.sha,
      title: commit.title.slice(0, 1024),
      commitUrl: commit.webUrl ?? null,
      since: last?.sha ?? null,
      commits,
      commitCount,
    };
  },
};
