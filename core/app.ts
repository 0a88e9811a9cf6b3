import { ApprovalNotGrantedError, grantRefusal } from './approvals/grant.ts';
import { NUDGE_INTERVAL_MS, type NudgeResult, pendingApprovers, waitingNotice } from './approvals/nudge.ts';
import { type ReminderStep, reminderSteps } from './approvals/reminders.ts';
import { cardRecipientNames, type Delegates, delegatedSeats } from './approvals/seats.ts';
import {
  type ApprovalChannel,
  type ApprovalService,
  type ApprovalServiceDeps,
  createApprovalService,
} from './approvals/service.ts';
import type { ApprovalStore } from './approvals/store.ts';
import type { Actor, Approval, Decision } from './approvals/types.ts';
import { type WithdrawResult, withdrawnReason } from './approvals/withdraw.ts';
import type { AuditLog, AuditRecord } from './audit.ts';
import { confirmUrlFor, contentIn } from './cards.ts';
import type { Notice } from './chat.ts';
import type { Language } from './commands.ts';
import type { Config, WorkflowKind } from './config.ts';
import type { EventDeduper } from './dedupe.ts';
import {
  checkDelegate,
  checkDelegator,
  checkUntil,
  type Delegation,
  type DelegationStore,
  isActive,
} from './delegations.ts';
import type { DeploymentStore } from './deployments.ts';
import type { EngineClient, StartResult } from './engine.ts';
import { ConflictError } from './errors.ts';
import { type LanguageOf, type LanguageStore, readerLanguage } from './languages.ts';
import { type Translate, translator } from './messages/index.ts';
import type { NotificationStore } from './notifications.ts';
import type { PipelineStore } from './pipelines.ts';
import type { SupportDeps } from './support-cases.ts';
import { SYSTEM_ACTOR } from './workflow.ts';

/** The audit action that records who asked for a workflow, and when (once per execution). */
export const EXECUTION_REQUESTED = 'execution.requested';

/** The audit records of a person's delegations: kind `delegation`, one "execution" per person. */
export function delegationRecordKey(user: string): string {
  return `signoff:delegation:${user}`;
}

/** Log levels every entry point maps onto its logger (Powertools on AWS, the console locally). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * What the use cases run on. Each entry point (local/start.ts, the Lambda handlers, the CLI)
 * builds these — real SDK clients against AWS or the embedded runtime — and nothing else.
 *
 * @example const signoff = createSignoff({ config, store, audit, …, clock: { now: () => new Date() }, logger });
 */
export interface Ports {
  config: Config;
  store: ApprovalStore;
  audit: AuditLog;
  notifications: NotificationStore;
  dedupe: EventDeduper;
  /** Who decides in an away approver's place, and until when (docs/delegation.md). */
  delegations: DelegationStore;
  /** The language each person last wrote a chat command in. */
  languages: LanguageStore;
  engine: EngineClient;
  /** Where approval cards are shown (the console, and each configured chat platform). */
  channels: ApprovalChannel[];
  deployments?: DeploymentStore;
  support?: SupportDeps;
  /** Pipeline id → task token, for releases (the trigger task, the Pipeline Hook, the reconciler). */
  pipelines?: PipelineStore;
  /** Where a person watches an execution: the AWS console on AWS, Signoff's console locally. */
  executionUrl(executionArn: string): string;
  clock: { now(): Date };
  logger: Logger;
}

/** A workflow to start: its kind, its idempotent execution name and input, who asked, and what the audit keeps. */
export interface StartRequest {
  kind: WorkflowKind;
  /** The execution name, derived from the triggering event or button: the idempotency key. */
  name: string;
  input: unknown;
  /** Who the audit record names (the requester, or whoever acted for them). */
  by: Actor;
  /** What the `execution.requested` record keeps besides who and when. */
  detail?: Record<string, string | number | boolean>;
}

/** An action about to run on what its approval granted. */
export interface GrantRequest {
  executionArn: string;
  /** What the action does: `approve` (merge, promote, create) or `reject` (close with the reason). */
  decision: Decision;
  /** The approval id the execution was resumed with (`$.outcome.approvalId`); never trusted alone. */
  approvalId?: string | undefined;
}

/** A delegation to set: the verified person, who decides in their place, and until when. */
export interface DelegateRequest {
  actor: Actor;
  /** The delegate as the person typed them: a user key or a configured name. */
  to: string;
  until: Date;
}

/** A person's delegations now: theirs (if active), and the approvers whose seats they hold. */
export interface DelegationView {
  mine?: Delegation;
  forOthers: Delegation[];
}

/** The use cases: the only place each is written, whatever surface or runtime calls it. */
export interface Signoff {
  readonly ports: Ports;
  /**
   * Start a workflow once per name and write its `execution.requested` record once: a
   * redelivered trigger maps to the same name, so the same execution and record.
   */
  startWorkflow(request: StartRequest): Promise<StartResult>;
  /** Decide, cancel, expire, redeliver and show approvals (core/approvals/service.ts). */
  readonly approvals: ApprovalService;
  /**
   * The gate every action re-checks before it acts: this execution's own approval, read from
   * the store (never from the resume's output), must grant the action under its policy.
   * Otherwise the approval is stopped, its cards and people are told, `approval.forged_resume`
   * is audited, and ApprovalNotGrantedError is thrown. Returns the granted approval.
   */
  assertGranted(request: GrantRequest): Promise<Approval>;
  /**
   * The requester asks again: every approver who has not voted is told on each of their
   * channels, pointing at the card. At most once per 15 minutes per approval (a conditional
   * write on `lastNudgedAt`), only by the requester, only while pending; audited as
   * `approval.nudged`.
   */
  nudge(request: { approvalId: string; actor: Actor }): Promise<NudgeResult>;
  /**
   * The requester withdraws their own pending request (`cancel <id>`): it is cancelled with
   * "withdrawn by <name>[: why]", its execution ends `Signoff.Cancelled`, every card shows it.
   * Only by the requester, only while pending.
   */
  withdraw(request: { approvalId: string; actor: Actor; why?: string }): Promise<WithdrawResult>;
  /**
   * Point everyone an approval still waits on at its card again (a nudge, a reminder);
   * returns who was told.
   */
  remindPending(approval: Approval, options: { why: (t: Translate) => string }): Promise<string[]>;
  /**
   * Start the approval's reminder machine (`signoff-reminders`, named by the approval id, so a
   * retried request starts it once) when its policy has `remind` or `escalate`.
   */
  startReminders(approval: Approval): Promise<void>;
  /**
   * One step of the reminder machine: remind the approvers who have not voted, or escalate
   * (add the policy's groups as approvers with a conditional write, send their cards, audit
   * `approval.escalated`, tell the requester). False when the approval is no longer pending.
   */
  runReminder(approvalId: string, step: ReminderStep): Promise<boolean>;
  /**
   * An approver away: until `until`, cards of new approvals for them go to `to`, who may decide
   * in their place within the same policy. Only an approver may delegate, to another configured
   * user, for at most 90 days (typed errors otherwise). A conditional write replaces any earlier
   * delegation; audited as `delegation.set`.
   */
  delegate(request: DelegateRequest): Promise<Delegation>;
  /** `delegate off`: end the person's active delegation now (audited as `delegation.cleared`); undefined when there was none. */
  endDelegation(actor: Actor): Promise<Delegation | undefined>;
  /** The person's active delegation, and whose seats they hold now. */
  delegationsOf(user: string): Promise<DelegationView>;
  /** The active delegations of these approvers now, as the seats' delegates. */
  delegatesOf(approvers: string[]): Promise<Delegates>;
  /** The seats a person holds now for approvers who delegated to them, as delegates. */
  delegatesTo(user: string): Promise<Delegates>;
  /**
   * Tell a configured user something on every channel they have (failures are logged, not
   * thrown). A notice built by a function is written in the user's language (`languageOf`).
   */
  tell(user: string, notice: Notice | ((t: Translate) => Notice)): Promise<void>;
  /**
   * The language a person reads: `users.<key>.language`, else the language of their last chat
   * command, else the configuration's `language` (also for unknown people).
   */
  languageOf: LanguageOf;
  /** Remember the language a person wrote a chat command in (for their cards and notices). */
  rememberLanguage(user: string, language: Language): Promise<void>;
  /** The `execution.requested` record of an execution (who asked, when, and its detail), if any. */
  requestOf(executionArn: string): Promise<AuditRecord | undefined>;
}

/** Build the use cases over the ports. */
export function createSignoff(ports: Ports): Signoff {
  const { store, audit, engine, logger } = ports;
  const nameOf = (user: string) => ports.config.users[user]?.name ?? user;

  /** Active delegations of `approvers` now, with each approver's name for cards and messages. */
  async function delegatesOf(approvers: string[]): Promise<Delegates> {
    const active = await ports.delegations.activeOf(approvers, ports.clock.now());
    return new Map([...active.values()].map((d) => [d.user, { to: d.to, name: nameOf(d.user) }]));
  }

  const serviceDeps: ApprovalServiceDeps = {
    store,
    engine,
    audit,
    channels: ports.channels,
    log: (message, fields) => logger.info(message, fields),
    delegatesOf,
  };
  const approvals = createApprovalService(serviceDeps);

  const languageOf = readerLanguage(ports.config, ports.languages);

  async function tell(user: string, notice: Notice | ((t: Translate) => Notice)): Promise<void> {
    const shown = typeof notice === 'function' ? await noticeFor(user, notice) : notice;
    for (const channel of ports.channels) {
      try {
        await channel.notify(user, shown);
      } catch (error) {
        logger.warn('notice not sent', { platform: channel.platform, error: String(error) });
      }
    }
  }

  /** A notice in the user's language, marked with it (renderers add their own words in it). */
  async function noticeFor(user: string, build: (t: Translate) => Notice): Promise<Notice> {
    const language = await languageOf(user);
    return { ...build(translator(language)), language };
  }

  /**
   * A pending approval whose task token the forged resume spent: nobody can decide it any more,
   * so it is cancelled (no outbox: there is nothing to resume) and every card says so.
   */
  async function stop(pending: Approval): Promise<void> {
    const reason = 'the workflow was resumed without this approval and stopped';
    let current: Approval | undefined = pending;
    while (current?.status === 'pending') {
      const now = ports.clock.now().toISOString();
      const written = await store.transition(
        {
          ...current,
          status: 'cancelled',
          reason,
          decidedAt: now,
          decidedBy: SYSTEM_ACTOR,
          version: current.version + 1,
        },
        current.version,
      );
      if (written) {
        await audit.append({
          kind: written.kind,
          executionArn: written.executionArn,
          action: 'approval.decided',
          actor: SYSTEM_ACTOR,
          outcome: 'cancelled',
          detail: { approvalId: written.approvalId, reason },
        });
        await Promise.all([approvals.refreshCards(written), approvals.stopReminders(written)]);
        return;
      }
      current = await store.get(pending.approvalId);
    }
  }

  async function remindPending(
    approval: Approval,
    options: { why: (t: Translate) => string },
  ): Promise<string[]> {
    const publicUrl = ports.config.console.publicUrl;
    const links = (t: Translate) => [
      ...(publicUrl ? [{ label: t('approval'), url: confirmUrlFor(publicUrl, approval.approvalId) }] : []),
      { label: t('execution'), url: ports.executionUrl(approval.executionArn) },
    ];
    // Whoever holds each waiting seat now: a reminder follows a delegation that began after the card.
    const waiting = pendingApprovers(approval, await delegatesOf(approval.policy.approvers));
    for (const user of waiting) {
      // In the approver's language; the console shows notices from the store, chat channels send them.
      const notice = await noticeFor(user, (t) =>
        waitingNotice(approval, t, { why: options.why(t), links: links(t) }),
      );
      await ports.notifications.add(
        { user, kind: approval.kind, executionArn: approval.executionArn, text: notice.text },
        ports.clock.now(),
      );
      await tell(user, notice);
    }
    return waiting;
  }

  async function withdraw({
    approvalId,
    actor,
    why,
  }: {
    approvalId: string;
    actor: Actor;
    why?: string;
  }): Promise<WithdrawResult> {
    const approval = await store.get(approvalId);
    if (!approval) return { outcome: 'refused', reason: 'not-found', message: 'no approval with that id' };
    if (!actor.user || approval.requester.user !== actor.user)
      return {
        outcome: 'refused',
        reason: 'not-yours',
        message: 'only the person who asked can cancel a request',
        approval,
      };
    const cancelled = await approvals.cancel(
      approvalId,
      withdrawnReason(actor.name, why),
      actor,
      ports.clock.now(),
    );
    if (cancelled) return { outcome: 'withdrawn', approval: cancelled };
    const now = (await store.get(approvalId)) ?? approval;
    return {
      outcome: 'refused',
      reason: 'not-pending',
      message: `it is no longer waiting: it is ${now.status}`,
      approval: now,
    };
  }

  async function nudge({ approvalId, actor }: { approvalId: string; actor: Actor }): Promise<NudgeResult> {
    const approval = await store.get(approvalId);
    if (!approval) return { outcome: 'refused', reason: 'not-found', message: 'no approval with that id' };
    if (!actor.user || approval.requester.user !== actor.user)
      return {
        outcome: 'refused',
        reason: 'not-yours',
        message: 'only the person who asked can nudge the approvers',
        approval,
      };
    if (approval.status !== 'pending')
      return { outcome: 'refused', reason: 'not-pending', message: `it is ${approval.status}`, approval };
    const now = ports.clock.now();
    const notAfter = new Date(now.getTime() - NUDGE_INTERVAL_MS).toISOString();
    const marked = await store.markNudged(approvalId, now.toISOString(), notAfter);
    if (!marked) {
      const current = (await store.get(approvalId)) ?? approval;
      if (current.status !== 'pending')
        return {
          outcome: 'refused',
          reason: 'not-pending',
          message: `it is ${current.status}`,
          approval: current,
        };
      const last = current.lastNudgedAt ? Date.parse(current.lastNudgedAt) : now.getTime();
      const retryAt = new Date(last + NUDGE_INTERVAL_MS).toISOString();
      return {
        outcome: 'refused',
        reason: 'too-soon',
        message: `the approvers were nudged at ${current.lastNudgedAt ?? 'just now'}; nudge again after ${retryAt}`,
        approval: current,
        retryAt,
      };
    }
    const who = actor.name;
    const notified = await remindPending(marked, { why: (t) => t('asksAgain', { who }) });
    await audit.append({
      kind: marked.kind,
      executionArn: marked.executionArn,
      action: 'approval.nudged',
      actor,
      outcome: 'sent',
      at: now.toISOString(),
      detail: { approvalId, notified: notified.join(',') },
    });
    logger.info('approvers nudged', { approvalId, notified: notified.length });
    return { outcome: 'nudged', approval: marked, notified };
  }

  async function escalate(start: Approval): Promise<void> {
    const groups = start.policy.escalate?.to ?? [];
    let current: Approval | undefined = start;
    let written: Approval | undefined;
    while (current?.status === 'pending' && !written) {
      const members = groups.flatMap((group) => ports.config.groups[group] ?? []);
      const approvers = [...new Set([...current.policy.approvers, ...members])];
      if (approvers.length === current.policy.approvers.length) return;
      // The backup approvers' cards go to their delegates while they are away.
      const added = approvers.filter((user) => !current?.policy.approvers.includes(user));
      const delegated = [
        ...(current.delegated ?? []),
        ...delegatedSeats(current, added, await delegatesOf(added)),
      ];
      written = await store.addApprovers(
        current.approvalId,
        approvers,
        current.version,
        ports.clock.now().toISOString(),
        delegated,
      );
      if (!written) current = await store.get(start.approvalId);
    }
    if (!written) return;
    const added = written.policy.approvers.filter((user) => !start.policy.approvers.includes(user));
    // Channels send only to whoever has no card yet: the backup approvers.
    for (const channel of ports.channels) {
      const { sent } = await channel.send(written);
      for (const ref of sent) await store.addCard(written.approvalId, ref);
    }
    await audit.append(
      {
        kind: written.kind,
        executionArn: written.executionArn,
        action: 'approval.escalated',
        actor: SYSTEM_ACTOR,
        outcome: 'escalated',
        detail: { approvalId: written.approvalId, groups: groups.join(','), added: added.join(',') },
      },
      { once: `${written.approvalId}#escalated` },
    );
    const requester = written.requester.user;
    if (requester) {
      const notice = await noticeFor(requester, (t) => ({
        title: t('escalatedTitle'),
        text: t('escalatedText', {
          title: contentIn(written, t.language).title,
          names: cardRecipientNames(written, added, nameOf, t.language).join(', '),
        }),
        links: [{ label: t('execution'), url: ports.executionUrl(written.executionArn) }],
      }));
      await ports.notifications.add(
        { user: requester, kind: written.kind, executionArn: written.executionArn, text: notice.text },
        ports.clock.now(),
      );
      await tell(requester, notice);
    }
    logger.info('approval escalated', { approvalId: written.approvalId, added: added.length });
  }

  async function delegate({ actor, to: typed, until }: DelegateRequest): Promise<Delegation> {
    const user = checkDelegator(ports.config, actor);
    const to = checkDelegate(ports.config, user, typed);
    const now = ports.clock.now();
    checkUntil(until, now);
    // A conditional write on the stored version: two changes at once, each sees what it replaced.
    for (let attempt = 0; attempt < 5; attempt++) {
      const previous = await ports.delegations.get(user);
      const delegation: Delegation = {
        user,
        to,
        until: until.toISOString(),
        since: now.toISOString(),
        by: actor,
        version: (previous?.version ?? 0) + 1,
      };
      if (!(await ports.delegations.put(delegation, previous?.version ?? 0))) continue;
      const replaced = isActive(previous, now) ? previous : undefined;
      await audit.append({
        kind: 'delegation',
        executionArn: delegationRecordKey(user),
        action: 'delegation.set',
        actor,
        outcome: 'set',
        at: delegation.since,
        detail: { user, to, until: delegation.until, ...(replaced ? { replaced: replaced.to } : {}) },
      });
      logger.info('delegation set', { user, to, until: delegation.until });
      // The delegate learns it from us, in their language, on every channel they have.
      const name = nameOf(user);
      await tell(to, (t) => ({
        title: t('delegateToldTitle'),
        text: t('delegateToldSet', { name, until: `${delegation.until.slice(0, 16).replace('T', ' ')} UTC` }),
      }));
      return delegation;
    }
    throw new ConflictError('the delegation changed while it was being set; try again', { code: 'Busy' });
  }

  async function endDelegation(actor: Actor): Promise<Delegation | undefined> {
    const user = actor.user;
    if (!user) return undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = ports.clock.now();
      const current = await ports.delegations.get(user);
      if (!isActive(current, now)) return undefined;
      const ended = await ports.delegations.end(user, now.toISOString(), current.version);
      if (!ended) continue;
      await audit.append({
        kind: 'delegation',
        executionArn: delegationRecordKey(user),
        action: 'delegation.cleared',
        actor,
        outcome: 'cleared',
        at: now.toISOString(),
        detail: { user, to: ended.to, until: ended.until },
      });
      logger.info('delegation ended', { user, to: ended.to });
      return ended;
    }
    throw new ConflictError('the delegation changed while it was being ended; try again', { code: 'Busy' });
  }

  return {
    ports,
    approvals,
    tell,
    languageOf,
    async rememberLanguage(user, language) {
      try {
        await ports.languages.remember(user, language);
      } catch (error) {
        // A command still runs when its language cannot be kept; the next one tries again.
        logger.warn('language not remembered', { user, error: String(error) });
      }
    },
    nudge,
    withdraw,
    remindPending,
    delegate,
    endDelegation,
    delegatesOf,

    async delegatesTo(user) {
      const lent = await ports.delegations.activeTo(user, ports.clock.now());
      return new Map(lent.map((d) => [d.user, { to: d.to, name: nameOf(d.user) }]));
    },

    async delegationsOf(user) {
      const now = ports.clock.now();
      const [mine, forOthers] = await Promise.all([
        ports.delegations.get(user),
        ports.delegations.activeTo(user, now),
      ]);
      return { ...(isActive(mine, now) ? { mine } : {}), forOthers };
    },

    async startReminders(approval) {
      const steps = reminderSteps(approval.policy);
      if (steps.length === 0 || approval.status !== 'pending') return;
      try {
        await engine.start('reminders', approval.approvalId, { approvalId: approval.approvalId, steps });
      } catch (error) {
        // Reminders must not keep the approval from being asked (e.g. a stack without the
        // signoff-reminders machine): the request goes out and this is logged as an error.
        logger.error('reminders not started', { approvalId: approval.approvalId, error: String(error) });
      }
    },

    async runReminder(approvalId, step) {
      const approval = await store.get(approvalId);
      if (approval?.status !== 'pending') return false;
      if (step.action === 'escalate') {
        await escalate(approval);
        return true;
      }
      const reminded = await remindPending(approval, { why: (t) => t('stillWaiting') });
      await audit.append(
        {
          kind: approval.kind,
          executionArn: approval.executionArn,
          action: 'approval.reminded',
          actor: SYSTEM_ACTOR,
          outcome: 'sent',
          detail: { approvalId, step: step.index, notified: reminded.join(',') },
        },
        { once: `${approvalId}#reminded#${step.index}` },
      );
      return true;
    },

    async requestOf(executionArn) {
      return (await audit.byExecution(executionArn)).find((r) => r.action === EXECUTION_REQUESTED);
    },

    async startWorkflow({ kind, name, input, by, detail }) {
      const result = await engine.start(kind, name, input);
      if (result.started) {
        await audit.append(
          {
            kind,
            executionArn: result.executionArn,
            action: EXECUTION_REQUESTED,
            actor: by,
            outcome: 'started',
            at: result.startDate.toISOString(),
            ...(detail ? { detail } : {}),
          },
          // A redelivered trigger maps to the same execution and start date: one record.
          { once: `${result.executionArn}#requested` },
        );
      }
      logger.info('workflow requested', { kind, executionArn: result.executionArn, started: result.started });
      return result;
    },

    async assertGranted({ executionArn, decision, approvalId }) {
      const claimed = approvalId ? await store.get(approvalId) : undefined;
      // The approval the resume names, when it is this execution's; else this execution's latest
      // (queried only then: a resume normally names its own approval).
      const approval =
        claimed?.executionArn === executionArn ? claimed : (await store.forExecution(executionArn))[0];
      const refusal = approval
        ? grantRefusal(approval, decision, executionArn)
        : 'this execution has no approval in Signoff';
      if (approval && !refusal) return approval;

      const because =
        claimed && claimed.executionArn !== executionArn
          ? `the resume named approval ${approvalId}, which belongs to another execution`
          : `approval ${approval?.approvalId ?? '(none)'}: ${refusal}`;
      const kind = approval?.kind ?? claimed?.kind;
      if (kind) {
        await audit.append(
          {
            kind,
            executionArn,
            action: 'approval.forged_resume',
            actor: SYSTEM_ACTOR,
            outcome: 'refused',
            detail: {
              decision,
              ...(approval ? { approvalId: approval.approvalId, status: approval.status } : {}),
              ...(approvalId ? { claimedApprovalId: approvalId } : {}),
              reason: because,
            },
          },
          { once: `${executionArn}#forged_resume` },
        );
      }
      if (approval?.status === 'pending') await stop(approval);
      if (approval) {
        const people = new Set([
          ...(approval.requester.user ? [approval.requester.user] : []),
          ...approval.policy.approvers,
        ]);
        for (const user of people) {
          await tell(user, (t) => ({
            title: t('forgedTitle'),
            text: t('forgedText', {
              title: contentIn(approval, t.language).title,
              decision: t(decision === 'approve' ? 'verbApprove' : 'verbReject'),
            }),
            links: [{ label: t('execution'), url: ports.executionUrl(executionArn) }],
          }));
        }
      }
      logger.warn('forged resume refused', { executionArn, decision, approvalId: approval?.approvalId });
      throw new ApprovalNotGrantedError(
        `resumed to ${decision} without a granted approval (${because}); nothing was done`,
      );
    },
  };
}
