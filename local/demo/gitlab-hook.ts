/** The body GitLab POSTs for a merge request event, as the demo stand-in and the tests build it. */
import {
  avatarUrl,
  changeTime,
  type FakeMergeRequest,
  type FakeMergeRequestState,
  hookTime,
  labelJson,
  userIdOf,
} from './gitlab-model.ts';

const STATE_ID: Record<FakeMergeRequestState, number> = { opened: 1, closed: 2, merged: 3, locked: 4 };

export type MergeRequestHookAction = 'open' | 'reopen' | 'update' | 'close' | 'merge' | 'approved';

export interface MergeRequestHookOptions {
  action: MergeRequestHookAction;
  /** Who did it; GitLab puts the actor, not the author, in `user`. */
  actor: { username: string; name?: string; id?: number };
  /** Previous head sha; GitLab sends it on `update` only when code was pushed. */
  oldrev?: string;
  /** The instance URL used in `web_url`, `url` and friends. */
  baseUrl: string;
}

/**
 * The body GitLab POSTs with `X-Gitlab-Event: Merge Request Hook`, modelled on the payload in GitLab's
 * webhook docs. `state` follows the action (open/reopen → opened, close → closed, merge → merged).
 */
export function buildMergeRequestHook(mr: FakeMergeRequest, options: MergeRequestHookOptions): object {
  const { action, actor, oldrev } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const state = stateAfter(action, mr.state);
  const projectUrl = `${baseUrl}/${mr.projectPath}`;
  const namespace = mr.projectPath.split('/').slice(0, -1).join('/');
  const name = mr.projectPath.split('/').at(-1) ?? mr.projectPath;
  const project = {
    id: mr.projectId,
    name,
    description: '',
    web_url: projectUrl,
    avatar_url: null,
    git_ssh_url: `git@${new URL(baseUrl).host}:${mr.projectPath}.git`,
    git_http_url: `${projectUrl}.git`,
    namespace,
    visibility_level: 0,
    path_with_namespace: mr.projectPath,
    default_branch: mr.targetBranch,
    ci_config_path: '',
    homepage: projectUrl,
    url: `${projectUrl}.git`,
    ssh_url: `git@${new URL(baseUrl).host}:${mr.projectPath}.git`,
    http_url: `${projectUrl}.git`,
  };
  const { id: _id, ci_config_path: _ci, ...projectRef } = project;
  const labels = mr.labels.map((title, index) => labelJson(title, index, mr));
  const user = {
    id: actor.id ?? userIdOf(actor.username),
    name: actor.name ?? actor.username,
    username: actor.username,
    avatar_url: avatarUrl(actor.username),
    email: '[REDACTED]',
  };
  const mergeable = state === 'opened' && !mr.draft && !mr.hasConflicts;

  const objectAttributes: Record<string, unknown> = {
    id: mr.id,
    iid: mr.iid,
    target_branch: mr.targetBranch,
    source_branch: mr.sourceBranch,
    source_project_id: mr.projectId,
    author_id: mr.author.id,
    assignee_ids: [],
    assignee_id: null,
    reviewer_ids: [],
    title: mr.title,
    created_at: hookTime(mr.createdAt),
    updated_at: hookTime(mr.updatedAt),
    last_edited_at: null,
    last_edited_by_id: null,
    milestone_id: null,
    state_id: STATE_ID[state],
    state,
    blocking_discussions_resolved: true,
    work_in_progress: mr.draft,
    draft: mr.draft,
    first_contribution: false,
    merge_status: mergeable ? 'can_be_merged' : 'cannot_be_merged',
    target_project_id: mr.projectId,
    description: mr.description,
    prepared_at: hookTime(mr.createdAt),
    total_time_spent: 0,
    time_change: 0,
    human_total_time_spent: null,
    human_time_change: null,
    human_time_estimate: null,
    url: `${projectUrl}/-/merge_requests/${mr.iid}`,
    source: projectRef,
    target: projectRef,
    last_commit: {
      id: mr.sha,
      message: mr.lastCommitMessage,
      title: mr.lastCommitMessage.split('\n')[0] ?? '',
      timestamp: hookTime(mr.updatedAt),
      url: `${projectUrl}/-/commit/${mr.sha}`,
      author: { name: mr.commits[0]?.authorName ?? mr.author.name, email: '[REDACTED]' },
    },
    labels,
    action,
    detailed_merge_status: state !== 'opened' ? 'not_open' : mergeable ? 'mergeable' : 'not_approved',
    head_pipeline_id: null,
    merge_commit_sha: state === 'merged' ? (mr.mergeCommitSha ?? null) : null,
    merge_error: null,
    merge_params: { force_remove_source_branch: '1' },
    merge_user_id: state === 'merged' ? (mr.mergedBy?.id ?? user.id) : null,
    merge_when_pipeline_succeeds: false,
    time_estimate: 0,
    updated_by_id: user.id,
  };
  if (oldrev !== undefined) objectAttributes.oldrev = oldrev;

  return {
    object_kind: 'merge_request',
    event_type: 'merge_request',
    user,
    project,
    repository: { name, url: `${projectUrl}.git`, description: '', homepage: projectUrl },
    object_attributes: objectAttributes,
    labels,
    changes: hookChanges(action, mr, state),
    assignees: [],
    reviewers: [],
  };
}

function stateAfter(action: MergeRequestHookAction, current: FakeMergeRequestState): FakeMergeRequestState {
  switch (action) {
    case 'open':
    case 'reopen':
      return 'opened';
    case 'close':
      return 'closed';
    case 'merge':
      return 'merged';
    default:
      return current;
  }
}

function hookChanges(
  action: MergeRequestHookAction,
  mr: FakeMergeRequest,
  state: FakeMergeRequestState,
): Record<string, { previous: unknown; current: unknown }> {
  const updated = { previous: changeTime(mr.createdAt), current: changeTime(mr.updatedAt) };
  switch (action) {
    case 'open':
      return {
        author_id: { previous: null, current: mr.author.id },
        created_at: { previous: null, current: changeTime(mr.createdAt) },
        description: { previous: null, current: mr.description },
        id: { previous: null, current: mr.id },
        iid: { previous: null, current: mr.iid },
        merge_params: { previous: {}, current: { force_remove_source_branch: '1' } },
        source_branch: { previous: null, current: mr.sourceBranch },
        source_project_id: { previous: null, current: mr.projectId },
        target_branch: { previous: null, current: mr.targetBranch },
        target_project_id: { previous: null, current: mr.projectId },
        title: { previous: null, current: mr.title },
        updated_at: { previous: null, current: changeTime(mr.updatedAt) },
      };
    case 'reopen':
      return { state_id: { previous: STATE_ID.closed, current: STATE_ID.opened }, updated_at: updated };
    case 'close':
    case 'merge':
      return { state_id: { previous: STATE_ID.opened, current: STATE_ID[state] }, updated_at: updated };
    case 'update':
      return { updated_at: updated };
    case 'approved':
      return {};
  }
}
