import { z } from 'zod';
import { cardRecipientNames, delegatedSeats } from '../core/approvals/seats.ts';
import type { Approval, CardContent } from '../core/approvals/types.ts';
import { contentIn } from '../core/cards.ts';
import { policyFor } from '../core/config.ts';
import { InvalidInputError } from '../core/errors.ts';
import { approvalIdForToken } from '../core/ids.ts';
import { LANGUAGES, translator } from '../core/messages/index.ts';
import { SYSTEM_ACTOR, WorkflowEnvelope } from '../core/workflow.ts';
import { workflows } from '../workflows/index.ts';
import type { Task } from './deps.ts';

export const RequestApprovalInput = z.object({
  taskToken: z.string().min(1).max(2048),
  executionArn: z.string().min(1),
  input: z.unknown(),
});

/**
 * Store the approval (token server-side, keyed by an opaque id) and send its cards. Safe to
 * run twice for one token: the second run finds the approval and sends nothing new.
 */
export const requestApproval: Task<z.infer<typeof RequestApprovalInput>, { approvalId: string }> = {
  name: 'request-approval',
  input: RequestApprovalInput,
  async run({ taskToken, executionArn, input }, deps) {
    const envelope = WorkflowEnvelope.parse(input);
    const workflow = workflows[envelope.kind];
    if (!workflow) throw new InvalidInputError(`no workflow module for kind ${envelope.kind}`);
    const parsed = workflow.input.parse(input);
    // The card in every language, so each copy is in its reader's (and stays so when updated).
    const translations = Object.fromEntries(
      LANGUAGES.map((language) => {
        const t = translator(language);
        const content = workflow.card(parsed, t);
        content.links.push({ label: t('execution'), url: deps.executionUrl(executionArn) });
        return [language, content];
      }),
    ) as Record<(typeof LANGUAGES)[number], CardContent>;
    const card = translations[deps.config.language];

    const now = deps.now();
    const approval: Approval = {
      approvalId: approvalIdForToken(taskToken),
      executionArn,
      kind: envelope.kind,
      ...(envelope.approval.scope ? { scope: envelope.approval.scope } : {}),
      ...(envelope.approval.subject ? { subject: envelope.approval.subject } : {}),
      requester: envelope.requester,
      policy: policyFor(deps.config, envelope.approval.policyKind ?? envelope.kind, envelope.approval.scope),
      ...(envelope.approval.excluded?.length ? { excluded: envelope.approval.excluded } : {}),
      card,
      translations,
      status: 'pending',
      votes: [],
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + envelope.approval.timeoutSeconds * 1000).toISOString(),
      cards: [],
      version: 0,
    };
    // Approvers away (an active delegation): their cards go to their delegate. Approvals asked
    // before a delegation began keep their cards; decisions follow the delegation either way.
    const delegates = await deps.signoff.delegatesOf(approval.policy.approvers);
    const delegated = delegatedSeats(approval, approval.policy.approvers, delegates);
    if (delegated.length > 0) approval.delegated = delegated;
    const { approval: stored, created } = await deps.store.create(approval, taskToken);
    if (created) {
      await deps.audit.append({
        kind: stored.kind,
        executionArn,
        action: 'approval.requested',
        actor: stored.requester,
        outcome: 'pending',
        at: stored.createdAt,
        detail: {
          approvalId: stored.approvalId,
          approvers: stored.policy.approvers.join(','),
          required: stored.policy.required,
          ...(stored.excluded?.length ? { excluded: stored.excluded.map((e) => e.user).join(',') } : {}),
          ...(stored.delegated?.length
            ? { delegated: stored.delegated.map((d) => `${d.user}:${d.to}`).join(',') }
            : {}),
        },
      });
    }
    // Channels skip recipients that already have a card: a retry after a crash does not send twice.
    for (const channel of deps.channels) {
      const { sent, undelivered } = await channel.send(stored);
      let latest = stored;
      for (const ref of sent) latest = await deps.store.addCard(stored.approvalId, ref);
      // Someone voted while these cards were on their way: they show the state they were sent with.
      if (latest.version !== stored.version) await deps.approvals.catchUp(latest, sent);
      // A card that never arrived is reported where people look (the audit), not only in a log.
      if (undelivered.length > 0)
        await deps.audit.appendMany(
          undelivered.map(({ recipient, reason }) => ({
            kind: stored.kind,
            executionArn,
            action: 'approval.card_undelivered',
            actor: SYSTEM_ACTOR,
            outcome: 'failed',
            detail: { approvalId: stored.approvalId, platform: channel.platform, recipient, reason },
          })),
        );
    }
    // Reminders and escalation run on their own machine, named by the approval: once per approval.
    await deps.signoff.startReminders(stored);
    if (created && stored.requester.user) {
      const nameOf = (key: string) => deps.config.users[key]?.name ?? key;
      await deps.signoff.tell(stored.requester.user, (t) => ({
        text: t('requestSent', {
          title: contentIn(stored, t.language).title,
          approvers: cardRecipientNames(stored, stored.policy.approvers, nameOf, t.language).join(', '),
        }),
        links: [{ label: t('execution'), url: deps.executionUrl(executionArn) }],
      }));
    }
    deps.log('approval requested', { approvalId: stored.approvalId, kind: stored.kind, created });
    return { approvalId: stored.approvalId };
  },
};
