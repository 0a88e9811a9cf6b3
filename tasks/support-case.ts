import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { sentences, type Translate, translator } from '../core/messages/index.ts';
import {
  type SupportCaseDetails,
  type SupportCaseRecord,
  type SupportDeps,
  supportCenterUrl,
} from '../core/support-cases.ts';
import { ApprovalOutcomeSchema, SYSTEM_ACTOR } from '../core/workflow.ts';
import { SupportCaseInput } from '../workflows/support-case.ts';
import type { Task, TaskDeps } from './deps.ts';
import { causeMessage, tellRequester } from './notify.ts';

const Outcome = ApprovalOutcomeSchema;

export const CreatedCase = z.object({
  caseId: z.string().min(1),
  displayId: z.string().optional(),
  url: z.string().optional(),
  alreadyCreated: z.boolean(),
});
export type CreatedCase = z.infer<typeof CreatedCase>;

export const SUPPORT_CASE_EVENTS = ['created', 'rejected', 'cancelled', 'expired', 'failed'] as const;

export const SupportCaseTaskInput = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('create'),
    executionArn: z.string().min(1),
    input: SupportCaseInput.extend({ outcome: Outcome }),
  }),
  z.object({
    action: z.literal('notify'),
    event: z.enum(SUPPORT_CASE_EVENTS),
    executionArn: z.string().min(1),
    input: SupportCaseInput.extend({
      outcome: Outcome.optional(),
      result: z.object({ case: CreatedCase }).optional(),
      error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
    }),
  }),
]);
type SupportCaseTaskInput = z.infer<typeof SupportCaseTaskInput>;

export type SupportCaseTaskOutput = CreatedCase | { text: string; error: string };

/** How far before the first attempt a case found by content may have been created (clock skew). */
const SEARCH_MARGIN_MS = 5 * 60 * 1000;

/**
 * The support-case workflow's actions. `create` opens the approved case with CreateCase and
 * records it; `notify` tells the requester how their request ended (the case id and its
 * Support Center link when it was opened).
 */
export const supportCaseTask: Task<SupportCaseTaskInput, SupportCaseTaskOutput> = {
  name: 'support-case',
  input: SupportCaseTaskInput,
  async run(payload, deps) {
    if (payload.action === 'create') {
      // The gate: only a granted approval opens a case.
      await deps.signoff.assertGranted({
        executionArn: payload.executionArn,
        decision: 'approve',
        approvalId: payload.input.outcome.approvalId,
      });
      return createCase(payload.executionArn, payload.input, supportOf(deps), deps);
    }
    return notifyRequester(payload.event, payload.executionArn, payload.input, deps);
  },
};

function supportOf(deps: TaskDeps): SupportDeps {
  if (!deps.support)
    throw new ConfigError('AWS Support is not configured in this runtime (no support client)');
  return deps.support;
}

/** The execution name: the request's id, one case per request. */
function requestIdOf(executionArn: string): string {
  return executionArn.split(':').pop() ?? executionArn;
}

/**
 * CreateCase has no idempotency token, so a request is recorded (`creating`) before the call
 * and its case id after it. A repeat (retry, resume after a crash) that finds the case id
 * returns it; one that finds only `creating` may be repeating a call that did open a case,
 * so it looks for that case with DescribeCases (same subject, body, service, category and
 * severity, created since the first attempt) before calling CreateCase again.
 */
async function createCase(
  executionArn: string,
  input: z.infer<typeof SupportCaseInput>,
  support: SupportDeps,
  deps: TaskDeps,
): Promise<CreatedCase> {
  const requestId = requestIdOf(executionArn);
  const request = input.supportCase;
  const now = deps.now();
  const { record, created } = await support.cases.begin({
    requestId,
    executionArn,
    user: input.requester.user,
    requester: input.requester,
    subject: request.subject,
    serviceCode: request.serviceCode,
    categoryCode: request.categoryCode,
    severity: request.severity,
    status: 'creating',
    startedAt: now.toISOString(),
  });
  if (record.caseId) return createdCase(record.caseId, record.displayId, request.language, true);

  if (!created) {
    const found = await findOpenedCase(record, request.body, support);
    if (found) {
      deps.log('support case found after a repeat', { requestId, caseId: found.caseId });
      await support.cases.opened(requestId, found.caseId, found.displayId, deps.now());
      await auditCreated(deps, executionArn, input, found.caseId, found.displayId, true);
      return createdCase(found.caseId, found.displayId, request.language, true);
    }
  }

  const { caseId } = await support.api.createCase({
    subject: request.subject,
    body: request.body,
    serviceCode: request.serviceCode,
    categoryCode: request.categoryCode,
    severityCode: request.severity,
    issueType: request.issueType,
    language: request.language,
    ...(request.cc.length > 0 ? { ccEmailAddresses: request.cc } : {}),
  });
  // Record the id before anything else can fail: from here on a repeat finds it.
  await support.cases.opened(requestId, caseId, undefined, deps.now());
  let displayId: string | undefined;
  try {
    displayId = (await support.api.describeCases({ caseIds: [caseId], includeResolved: true }))[0]?.displayId;
    if (displayId) await support.cases.opened(requestId, caseId, displayId, deps.now());
  } catch (error) {
    // The case is open; only its display id (for the Support Center link) is missing.
    deps.log('support case display id unknown', { caseId, error: String(error) });
  }
  await auditCreated(deps, executionArn, input, caseId, displayId, false);
  return createdCase(caseId, displayId, request.language, false);
}

async function findOpenedCase(
  record: SupportCaseRecord,
  body: string,
  support: SupportDeps,
): Promise<SupportCaseDetails | undefined> {
  const since = new Date(new Date(record.startedAt).getTime() - SEARCH_MARGIN_MS).toISOString();
  const cases = await support.api.describeCases({
    afterTime: since,
    includeResolved: true,
    includeCommunications: true,
    limit: 500,
  });
  return cases.find(
    (c) =>
      c.subject === record.subject &&
      c.serviceCode === record.serviceCode &&
      c.categoryCode === record.categoryCode &&
      c.severityCode === record.severity &&
      // Recent communications hold the case body (unless five replies came since).
      (c.communications === undefined ||
        c.communications.length === 0 ||
        c.communications.some((text) => text.trim() === body.trim())),
  );
}

function createdCase(
  caseId: string,
  displayId: string | undefined,
  language: z.infer<typeof SupportCaseInput>['supportCase']['language'],
  alreadyCreated: boolean,
): CreatedCase {
  return {
    caseId,
    ...(displayId ? { displayId, url: supportCenterUrl(displayId, language) } : {}),
    alreadyCreated,
  };
}

async function auditCreated(
  deps: TaskDeps,
  executionArn: string,
  input: z.infer<typeof SupportCaseInput>,
  caseId: string,
  displayId: string | undefined,
  found: boolean,
): Promise<void> {
  await deps.audit.append({
    kind: 'support-case',
    executionArn,
    action: 'support-case.created',
    actor: SYSTEM_ACTOR,
    outcome: 'created',
    detail: {
      caseId,
      ...(displayId ? { displayId } : {}),
      severity: input.supportCase.severity,
      service: input.supportCase.serviceCode,
      category: input.supportCase.categoryCode,
      requester: input.requester.user,
      ...(found ? { foundAfterRepeat: true } : {}),
    },
  });
}

type NotifyPayload = Extract<SupportCaseTaskInput, { action: 'notify' }>;

async function notifyRequester(
  event: NotifyPayload['event'],
  executionArn: string,
  input: NotifyPayload['input'],
  deps: TaskDeps,
): Promise<{ text: string; error: string }> {
  const text = (t: Translate) => describe(event, input, t);
  const created = input.result?.case;
  const url = created?.url;
  await tellRequester(deps, {
    kind: 'support-case',
    executionArn,
    requester: input.requester,
    event,
    text,
    ...(created && url
      ? {
          links: (t: Translate) => [
            { label: t('caseLink', { id: created.displayId ?? created.caseId }), url },
          ],
        }
      : {}),
  });

  return { text: text(translator('en')), error: input.error?.Error ?? 'SupportCaseFailed' };
}

function describe(event: NotifyPayload['event'], input: NotifyPayload['input'], t: Translate): string {
  const what = t('subjectSupportCase', { subject: input.supportCase.subject });
  const by = input.outcome?.approvers.map((a) => a.name).join(', ') || t('nobody');
  const reason = input.outcome?.comment;
  switch (event) {
    case 'created': {
      const c = input.result?.case;
      if (!c) return t('caseOpened', { what, by });
      const shown = c.displayId
        ? t('caseIdShown', { display: c.displayId, id: c.caseId })
        : t('caseIdOnly', { id: c.caseId });
      return sentences(t.language, [
        t('caseOpenedAs', { what, by, case: shown }),
        c.url ? t('caseSupportCenter', { url: c.url }) : undefined,
      ]);
    }
    case 'rejected':
      return reason ? t('endRejectedReason', { what, by, reason }) : t('caseRejectedNoReason', { what, by });
    case 'cancelled':
      return reason ? t('endCancelledReason', { what, reason }) : t('endCancelled', { what });
    case 'expired':
      return t('caseExpired', { what });
    case 'failed': {
      const cause = causeMessage(input.error?.Cause);
      return cause ? t('caseNotOpenedBecause', { what, cause }) : t('caseNotOpened', { what });
    }
  }
}
