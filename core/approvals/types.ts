import type { Language } from '../commands.ts';
import type { Platform, Policy, WorkflowKind } from '../config.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';
export type Decision = 'approve' | 'reject';

/**
 * Someone acting on a platform. `user` is the configured user key when the identity is known.
 *
 * @example { platform: 'console', id: 'bob', name: 'Bob', user: 'bob' }
 */
export interface Actor {
  platform: Platform;
  id: string;
  name: string;
  user?: string;
  /**
   * How the person proved who they are, kept in the audit: `session` (signed in with the
   * identity provider), `token` (a bearer token), `demo` (the demo console's picker), `cli`.
   */
  via?: string;
  /** The AWS IAM principal (ARN) that ran the CLI on AWS, kept in the audit as who really acted. */
  principal?: string;
  /**
   * When the identity provider last authenticated this person (its ID token's `auth_time`, ISO),
   * for a console session: a signed-in confirmation must be recent (`confirmWithin`).
   */
  authenticatedAt?: string;
}

export interface Vote {
  /** Who voted (the configured user key): each person votes once on an approval. */
  user: string;
  actor: Actor;
  decision: Decision;
  comment?: string;
  at: string;
  /**
   * The approver whose seat this vote fills when the voter decided in their place (a delegation,
   * docs/delegation.md); absent: the voter's own seat.
   */
  onBehalfOf?: { user: string; name: string };
}

/**
 * What a card shows, platform-neutral. Renderers turn it into Lark, LINE, … JSON.
 *
 * @example { title: 'Merge !42 in grp/app', fields: [{ label: 'Author', value: 'alice' }], links: [] }
 */
export interface CardContent {
  title: string;
  summary?: string;
  fields: Array<{ label: string; value: string }>;
  links: Array<{ label: string; url: string }>;
}

/**
 * Someone who may not approve one request, and why (four-eyes beyond the requester).
 *
 * @example { user: 'bob', name: 'Bob', because: 'added commits to this merge request' }
 */
export interface Exclusion {
  /** The configured user key. */
  user: string;
  name: string;
  /** Completes "you …", in words a person can check: `added commits to this merge request`. */
  because: string;
}

/** Where a card was sent, so it can be updated in place. */
export interface MessageRef {
  platform: Platform;
  id: string;
  /** Where the platform delivered it, in the adapter's own terms (used by its update). */
  to?: string;
  /** Who the card was for (`user:<id>` or `chat:<id>`), so a retried send skips them. */
  recipient?: string;
  /** The language the card was sent in: its updates stay in it. */
  language?: Language;
}

/** An approval as the rest of the app sees it: never the task token. */
export interface Approval {
  approvalId: string;
  executionArn: string;
  kind: WorkflowKind;
  /** Environment or project the policy was chosen for. */
  scope?: string;
  /** What the request is about, e.g. `gitlab:12:7` for merge request !7 of project 12. */
  subject?: string;
  requester: Actor;
  policy: Policy;
  /** People besides the requester who may not approve (e.g. a merge request's commit authors). */
  excluded?: Exclusion[];
  /** What the card shows, in the configuration's `language`. */
  card: CardContent;
  /** What the card shows in each language, written by the workflow when the approval was requested. */
  translations?: Partial<Record<Language, CardContent>>;
  status: ApprovalStatus;
  votes: Vote[];
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
  /** The reject comment, or why it was cancelled. */
  reason?: string;
  /** Who made the change that ended it (the completing voter, whoever cancelled, Signoff for an expiry). */
  decidedBy?: Actor;
  cards: MessageRef[];
  /** When the requester last nudged the approvers (`nudge <id>`); at most once per 15 minutes. */
  lastNudgedAt?: string;
  /** When the policy's `escalate` added its groups to the approvers. */
  escalatedAt?: string;
  /**
   * Approvers whose cards went to their delegate when the approval was asked (or escalated): who
   * was away, and who got the card. Decisions follow the delegations active when they are made.
   */
  delegated?: Array<{ user: string; name: string; to: string }>;
  version: number;
}

/** What the waiting execution receives through SendTaskSuccess. */
export interface ApprovalOutcome {
  approvalId: string;
  decision: Decision | 'cancelled';
  approvers: Array<{ user: string; name: string; platform: Platform }>;
  comment?: string;
  decidedAt: string;
}
