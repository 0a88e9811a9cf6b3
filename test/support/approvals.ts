import { decide } from '../../core/approvals/decide.ts';
import type { ApprovalStore } from '../../core/approvals/store.ts';
import type { Actor, Approval } from '../../core/approvals/types.ts';
import { DEFAULT_CONFIG_INPUT, type Policy, parseConfig } from '../../core/config.ts';
import { approvalIdForToken, randomId } from '../../core/ids.ts';
import { type SupportCaseInput, supportCaseTrigger } from '../../workflows/support-case.ts';

/** A fixed clock: approvals are created at T0 and expire a day later. */
export const T0 = new Date('2030-01-01T00:00:00.000Z');
export const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

export const alice: Actor = { platform: 'console', id: 'alice', name: 'Alice', user: 'alice' };
export const bob: Actor = { platform: 'console', id: 'bob', name: 'Bob', user: 'bob' };
export const carol: Actor = { platform: 'lark', id: 'ou_carol', name: 'Carol', user: 'carol' };
export const mallory: Actor = { platform: 'slack', id: 'U_MALLORY', name: 'Mallory', user: 'mallory' };

/** `approver-0` … `approver-<n-1>`, each a distinct person. */
export function approvers(n: number): Actor[] {
  return Array.from({ length: n }, (_, i) => ({
    platform: 'console' as const,
    id: `approver-${i}`,
    name: `Approver ${i}`,
    user: `approver-${i}`,
  }));
}

export interface ApprovalFixture {
  approval: Approval;
  taskToken: string;
}

/** A pending approval requested by Alice, approvable by Bob and Carol, with its task token. */
export function newApproval(
  options: {
    policy?: Partial<Policy>;
    subject?: string;
    scope?: string;
    executionArn?: string;
    createdAt?: Date;
  } = {},
): ApprovalFixture {
  const taskToken = `token-${randomId()}`;
  const createdAt = options.createdAt ?? T0;
  const approval: Approval = {
    approvalId: approvalIdForToken(taskToken),
    executionArn:
      options.executionArn ?? `arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:${randomId()}`,
    kind: 'deploy',
    requester: alice,
    policy: {
      approvers: ['alice', 'bob', 'carol'],
      required: 1,
      allowSelfApproval: false,
      timeoutSeconds: 86_400,
      ...options.policy,
    },
    card: { title: 'Deploy api to prod', fields: [], links: [] },
    status: 'pending',
    votes: [],
    createdAt: createdAt.toISOString(),
    expiresAt: new Date(createdAt.getTime() + 86_400_000).toISOString(),
    cards: [],
    version: 0,
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.scope ? { scope: options.scope } : {}),
  };
  return { approval, taskToken };
}

/** The input of a support-case workflow Alice asked for (a throttled Lambda), from the default config. */
export function supportCaseInput(eventId: string): SupportCaseInput {
  return supportCaseTrigger(
    {
      subject: 'Throttled',
      body: 'Our function is throttled',
      severity: 'high',
      serviceCode: 'aws-lambda',
      serviceName: 'Lambda',
      categoryCode: 'performance',
      categoryName: 'Performance',
      cc: [],
    },
    { platform: 'console', id: 'alice', name: 'Alice', user: 'alice' },
    eventId,
    parseConfig(DEFAULT_CONFIG_INPUT),
  ).input;
}

/**
 * Store an approval for `executionArn` and have Bob approve it, as a decision in Signoff would:
 * the gate that every action task re-checks (tasks/grant.ts) then lets the action run.
 */
export async function grantApproval(
  store: ApprovalStore,
  executionArn: string,
  kind: Approval['kind'] = 'deploy',
): Promise<Approval> {
  const { approval, taskToken } = newApproval({ executionArn, createdAt: new Date() });
  await store.create({ ...approval, kind }, taskToken);
  const result = await decide(store, {
    approvalId: approval.approvalId,
    actor: bob,
    decision: 'approve',
    now: new Date(),
  });
  if (result.outcome !== 'completed') throw new Error(`could not grant the test approval: ${result.outcome}`);
  return result.approval;
}
