import { z } from 'zod';
import type { Actor } from '../core/approvals/types.ts';
import type { Notice } from '../core/chat.ts';
import type { WorkflowKind } from '../core/config.ts';
import { type MessageKey, type Translate, translator } from '../core/messages/index.ts';
import { ApprovalOutcomeSchema, SYSTEM_ACTOR, WorkflowEnvelope } from '../core/workflow.ts';
import type { Task, TaskDeps } from './deps.ts';

export const NOTIFY_EVENTS = ['merged', 'rejected', 'cancelled', 'expired', 'failed'] as const;

const Outcome = ApprovalOutcomeSchema.optional();

export const NotifyInput = z.object({
  event: z.enum(NOTIFY_EVENTS),
  executionArn: z.string().min(1),
  input: WorkflowEnvelope.extend({
    outcome: Outcome,
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  }).passthrough(),
});
type NotifyInput = z.infer<typeof NotifyInput>;

/** Tell the requester how their workflow ended, and record the end in the audit log. */
export const notify: Task<NotifyInput, { text: string }> = {
  name: 'notify',
  input: NotifyInput,
  async run({ event, executionArn, input }, deps) {
    const text = (t: Translate) => describe(event, input, t);
    await tellRequester(deps, { kind: input.kind, executionArn, requester: input.requester, event, text });
    return { text: text(translator('en')) };
  },
};

function describe(event: NotifyInput['event'], input: NotifyInput['input'], t: Translate): string {
  const what = subjectOf(input, t);
  const by = input.outcome?.approvers.map((a) => a.name).join(', ') || t('nobody');
  const reason = input.outcome?.comment;
  switch (event) {
    case 'merged':
      return t('endMerged', { what, by });
    case 'rejected':
      return reason ? t('endRejectedReason', { what, by, reason }) : t('endRejected', { what, by });
    case 'cancelled':
      return reason ? t('endCancelledReason', { what, reason }) : t('endCancelled', { what });
    case 'expired':
      return t('endExpired', { what });
    case 'failed': {
      const cause = causeMessage(input.error?.Cause);
      const error = input.error?.Error ? ` (${input.error.Error})` : '';
      return cause ? t('endFailedBecause', { what, error, cause }) : t('endFailed', { what, error });
    }
  }
}

/** The workflow kinds as the requester's notices name them ("your deploy request"). */
const KIND_WORDS: Record<WorkflowKind, MessageKey> = {
  'merge-request': 'kindMergeRequest',
  deploy: 'kindDeploy',
  rollback: 'kindRollback',
  'support-case': 'kindSupportCase',
  release: 'kindRelease',
};

function subjectOf(input: NotifyInput['input'], t: Translate): string {
  const mr = (input as { mergeRequest?: { iid: number; projectPath: string } }).mergeRequest;
  return mr
    ? t('subjectMergeRequest', { iid: mr.iid, project: mr.projectPath })
    : t('subjectYourRequest', { kind: t(KIND_WORDS[input.kind]) });
}

/**
 * What a person should read of a caught task error's Cause: Lambda errors arrive as JSON
 * `{errorMessage, errorType, trace}`, so the message; a plain-text cause, its first line
 * (never a stack). Undefined when there is no cause.
 */
export function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // a plain-text cause
  }
  return cause.split('\n')[0]?.slice(0, 500) ?? '';
}

/**
 * How every workflow ends for its requester: a notification (console), a notice on each chat
 * channel where they have an identity, and a `workflow.<event>` audit record.
 */
export async function tellRequester(
  deps: TaskDeps,
  end: {
    kind: WorkflowKind;
    executionArn: string;
    requester: Actor;
    event: string;
    /** What to say, in the requester's language. */
    text: (t: Translate) => string;
    /** Links under it (labelled in the requester's language). */
    links?: (t: Translate) => Array<{ label: string; url: string }>;
    /** Buttons that send a command back (the result's Roll back); keyed, so a double tap acts once. */
    choices?: (t: Translate) => NonNullable<Notice['choices']>;
  },
): Promise<void> {
  const { kind, executionArn, requester, event } = end;
  if (requester.user) {
    const language = await deps.signoff.languageOf(requester.user);
    const t = translator(language);
    const text = end.text(t);
    const choices = end.choices?.(t) ?? [];
    await deps.notifications.add({ user: requester.user, kind, executionArn, text }, deps.now());
    await deps.signoff.tell(requester.user, {
      text,
      ...(choices.length ? { choices } : {}),
      links: [...(end.links?.(t) ?? []), { label: t('execution'), url: deps.executionUrl(executionArn) }],
      language,
    });
  }
  // The audit keeps one language: English.
  const text = end.text(translator('en'));
  await deps.audit.append({
    kind,
    executionArn,
    action: `workflow.${event}`,
    actor: SYSTEM_ACTOR,
    outcome: event,
    detail: {
      requester: requester.user ?? `${requester.platform}:${requester.id}`,
      text: text.slice(0, 1000),
    },
  });
  deps.log('requester notified', { kind, event });
}
