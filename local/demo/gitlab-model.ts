/**
 * The GitLab demo stand-in's data: merge requests, commits, notes and users as it keeps them, and
 * their GitLab REST (v4) representations.
 */
import { randomBytes } from 'node:crypto';

export type FakeMergeRequestState = 'opened' | 'closed' | 'merged' | 'locked';

export interface FakeUser {
  id: number;
  username: string;
  name: string;
  /** The address their commits carry; `<username>@example.com` unless given. */
  email?: string;
}

/** A commit of a merge request's source branch, as git records it (author and committer are free text). */
export interface FakeCommit {
  id: string;
  message: string;
  authorName: string;
  authorEmail: string;
  committerName: string;
  committerEmail: string;
  /** ISO time. */
  createdAt: string;
  parentIds: string[];
}

export interface FakeNote {
  id: number;
  body: string;
  author: FakeUser;
  internal: boolean;
  createdAt: string;
}

export interface FakeMergeRequest {
  /** Instance-wide id (GitLab `id`), distinct from the project-scoped `iid`. */
  id: number;
  projectId: number;
  projectPath: string;
  iid: number;
  title: string;
  description: string;
  state: FakeMergeRequestState;
  /** Head of the source branch. */
  sha: string;
  lastCommitMessage: string;
  sourceBranch: string;
  targetBranch: string;
  author: FakeUser;
  draft: boolean;
  labels: string[];
  /** When true, merging answers 422 "Branch cannot be merged". */
  hasConflicts: boolean;
  mergeCommitSha: string | null;
  mergedAt: string | null;
  mergedBy: FakeUser | null;
  closedAt: string | null;
  closedBy: FakeUser | null;
  createdAt: string;
  updatedAt: string;
  approvedBy: FakeUser[];
  notes: FakeNote[];
  /** The merge request's commits, newest first; the first is the head (`sha`). */
  commits: FakeCommit[];
}

/** The user the stand-in's token belongs to; approvals, merges and notes are made as this user. */
export const BOT: FakeUser = { id: 2, username: 'signoff-bot', name: 'Signoff Bot' };

/** A random 40-hex commit id. */
export function randomSha(): string {
  return randomBytes(20).toString('hex');
}

/** The REST representation of a merge request (`GET /projects/:id/merge_requests/:iid`). */
export function mergeRequestJson(mr: FakeMergeRequest, baseUrl: string): Record<string, unknown> {
  const reference = `!${mr.iid}`;
  const detailedStatus =
    mr.state !== 'opened'
      ? 'not_open'
      : mr.draft
        ? 'draft_status'
        : mr.hasConflicts
          ? 'conflict'
          : 'mergeable';
  return {
    id: mr.id,
    iid: mr.iid,
    project_id: mr.projectId,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    created_at: mr.createdAt,
    updated_at: mr.updatedAt,
    merged_by: mr.mergedBy && userJson(mr.mergedBy, baseUrl),
    merge_user: mr.mergedBy && userJson(mr.mergedBy, baseUrl),
    merged_at: mr.mergedAt,
    closed_by: mr.closedBy && userJson(mr.closedBy, baseUrl),
    closed_at: mr.closedAt,
    target_branch: mr.targetBranch,
    source_branch: mr.sourceBranch,
    user_notes_count: mr.notes.length,
    upvotes: 0,
    downvotes: 0,
    author: userJson(mr.author, baseUrl),
    assignees: [],
    assignee: null,
    reviewers: [],
    source_project_id: mr.projectId,
    target_project_id: mr.projectId,
    labels: mr.labels,
    draft: mr.draft,
    work_in_progress: mr.draft,
    milestone: null,
    merge_when_pipeline_succeeds: false,
    merge_status: detailedStatus === 'mergeable' ? 'can_be_merged' : 'cannot_be_merged',
    detailed_merge_status: detailedStatus,
    sha: mr.sha,
    merge_commit_sha: mr.mergeCommitSha,
    squash_commit_sha: null,
    discussion_locked: null,
    should_remove_source_branch: null,
    force_remove_source_branch: true,
    prepared_at: mr.createdAt,
    reference,
    references: { short: reference, relative: reference, full: `${mr.projectPath}${reference}` },
    web_url: `${baseUrl}/${mr.projectPath}/-/merge_requests/${mr.iid}`,
    time_stats: {
      time_estimate: 0,
      total_time_spent: 0,
      human_time_estimate: null,
      human_total_time_spent: null,
    },
    squash: false,
    squash_on_merge: false,
    task_completion_status: { count: 0, completed_count: 0 },
    has_conflicts: mr.hasConflicts,
    blocking_discussions_resolved: true,
    approvals_before_merge: null,
    subscribed: false,
    changes_count: '1',
    latest_build_started_at: null,
    latest_build_finished_at: null,
    first_deployed_to_production_at: null,
    pipeline: null,
    head_pipeline: null,
    diff_refs: {
      base_sha: shaOf(`${mr.targetBranch}:${mr.id}`),
      head_sha: mr.sha,
      start_sha: shaOf(mr.targetBranch),
    },
    merge_error: null,
    first_contribution: false,
    user: { can_merge: true },
  };
}

export function approvalsJson(mr: FakeMergeRequest, baseUrl: string): Record<string, unknown> {
  return {
    id: mr.id,
    iid: mr.iid,
    project_id: mr.projectId,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    created_at: mr.createdAt,
    updated_at: mr.updatedAt,
    merge_status: mr.state === 'opened' && !mr.hasConflicts ? 'can_be_merged' : 'cannot_be_merged',
    approved: mr.approvedBy.length > 0,
    approvals_required: 0,
    approvals_left: 0,
    require_password_to_approve: false,
    approved_by: mr.approvedBy.map((u) => ({ user: userJson(u, baseUrl) })),
    suggested_approvers: [],
    approvers: [],
    approver_groups: [],
    user_has_approved: mr.approvedBy.some((u) => u.id === BOT.id),
    user_can_approve: mr.state === 'opened' && !mr.approvedBy.some((u) => u.id === BOT.id),
    approval_rules_left: [],
    has_approval_rules: false,
    merge_request_approvers_available: false,
    multiple_approval_rules_available: false,
    invalid_approvers_rules: [],
  };
}

/** Name and email as git records them for a user. */
export function authorOf(user: FakeUser): { name: string; email: string } {
  return { name: user.name, email: user.email ?? `${user.username}@example.com` };
}

export function commitOf(
  sha: string,
  message: string,
  author: { name: string; email: string },
  createdAt: string,
): FakeCommit {
  return {
    id: sha,
    message,
    authorName: author.name,
    authorEmail: author.email,
    committerName: author.name,
    committerEmail: author.email,
    createdAt,
    parentIds: [shaOf(`parent:${sha}`)],
  };
}

/** A commit as `GET /projects/:id/merge_requests/:iid/commits` lists it. */
export function commitJson(
  commit: FakeCommit,
  mr: FakeMergeRequest,
  baseUrl: string,
): Record<string, unknown> {
  const time = commit.createdAt.replace(/Z$/, '+00:00');
  return {
    id: commit.id,
    short_id: commit.id.slice(0, 8),
    created_at: time,
    parent_ids: commit.parentIds,
    title: commit.message.split('\n')[0] ?? '',
    message: commit.message,
    author_name: commit.authorName,
    author_email: commit.authorEmail,
    authored_date: time,
    committer_name: commit.committerName,
    committer_email: commit.committerEmail,
    committed_date: time,
    trailers: {},
    extended_trailers: {},
    web_url: `${baseUrl}/${mr.projectPath}/-/commit/${commit.id}`,
  };
}

export function noteJson(note: FakeNote, mr: FakeMergeRequest, baseUrl: string): Record<string, unknown> {
  return {
    id: note.id,
    type: null,
    body: note.body,
    author: userJson(note.author, baseUrl),
    created_at: note.createdAt,
    updated_at: note.createdAt,
    system: false,
    noteable_id: mr.id,
    noteable_type: 'MergeRequest',
    project_id: mr.projectId,
    resolvable: false,
    confidential: note.internal,
    internal: note.internal,
    imported: false,
    imported_from: 'none',
    noteable_iid: mr.iid,
    commands_changes: {},
  };
}

export function userJson(user: FakeUser, baseUrl: string): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: 'active',
    locked: false,
    avatar_url: avatarUrl(user.username),
    web_url: `${baseUrl}/${user.username}`,
  };
}

export function labelJson(title: string, index: number, mr: FakeMergeRequest): Record<string, unknown> {
  return {
    id: 200 + index,
    title,
    color: '#6699cc',
    project_id: mr.projectId,
    created_at: changeTime(mr.createdAt),
    updated_at: changeTime(mr.createdAt),
    template: false,
    description: null,
    type: 'ProjectLabel',
    group_id: null,
  };
}

export function avatarUrl(username: string): string {
  return `https://www.gravatar.com/avatar/${shaOf(username).slice(0, 32)}?s=80&d=identicon`;
}

/** A stable user id for a username, so the same actor gets the same id in every hook. */
export function userIdOf(username: string): number {
  let hash = 0;
  for (const ch of username) hash = (hash * 31 + ch.charCodeAt(0)) % 100_000;
  return 1000 + hash;
}

/** A deterministic 40-hex string (not a real commit id) for refs the fake does not track. */
export function shaOf(text: string): string {
  let out = '';
  let h = 0x811c9dc5;
  while (out.length < 40) {
    for (const ch of `${text}${out.length}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, 40);
}

export function isoNow(): string {
  return new Date().toISOString();
}

/** Hook object attributes use ISO 8601 without milliseconds (`2013-12-03T17:23:34Z`). */
export function hookTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Hook `changes` use Ruby's default time format (`2017-09-15 16:52:00 UTC`). */
export function changeTime(iso: string): string {
  return new Date(iso)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}
