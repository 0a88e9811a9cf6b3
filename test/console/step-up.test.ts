import { describe, expect, it } from 'vitest';
import { renderDingTalkActionCard, renderDingTalkCardParams } from '../../chat/dingtalk/render.ts';
import { renderLarkCard } from '../../chat/lark/render.ts';
import { renderLineCard } from '../../chat/line/render.ts';
import { renderSlackCard } from '../../chat/slack/render.ts';
import { checkVote, type DecideRequest } from '../../core/approvals/decide.ts';
import { refusalError } from '../../core/approvals/refusal.ts';
import type { Actor } from '../../core/approvals/types.ts';
import { cardFor } from '../../core/cards.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig, policyFor } from '../../core/config.ts';
import { bob, carol, newApproval, T0 } from '../support/approvals.ts';

const PUBLIC_URL = 'https://signoff.example.com';

function request(actor: Actor, decision: 'approve' | 'reject' = 'approve'): DecideRequest {
  return { approvalId: 'x', actor, decision, now: T0 };
}

describe('checkVote with confirm: "signed-in" (step-up)', () => {
  const { approval } = newApproval({ policy: { confirm: 'signed-in' } });

  it('refuses a chat click, a bearer token, the demo picker and the CLI, with the reason confirm-signed-in', () => {
    for (const via of [undefined, 'token', 'demo', 'cli']) {
      const actor: Actor = { ...carol, ...(via ? { via } : {}) };
      const refused = checkVote(approval, request(actor));
      expect(refused).toMatchObject({ outcome: 'refused', reason: 'confirm-signed-in' });
      expect(refused?.message).toContain('signed-in confirmation');
    }
    // A reject needs the confirmation too: it ends the request.
    expect(checkVote(approval, request(carol, 'reject'))?.reason).toBe('confirm-signed-in');
  });

  const signedInAgo = (seconds: number): Actor => ({
    ...bob,
    via: 'session',
    authenticatedAt: new Date(T0.getTime() - seconds * 1000).toISOString(),
  });

  it('counts the vote of an approver signed in recently (via session, auth_time within 15 minutes)', () => {
    expect(checkVote(approval, request(signedInAgo(60)))).toBeUndefined();
    expect(checkVote(approval, request(signedInAgo(15 * 60)))).toBeUndefined();
  });

  it('asks a session signed in longer ago than confirmWithin, or without a sign-in time, to sign in again', () => {
    for (const actor of [signedInAgo(15 * 60 + 1), { ...bob, via: 'session' }, signedInAgo(-3600)]) {
      const refused = checkVote(approval, request(actor));
      expect(refused).toMatchObject({ outcome: 'refused', reason: 'sign-in-again' });
      if (refused) expect(refusalError(refused)).toMatchObject({ status: 403, code: 'SignInAgain' });
    }
    // The policy sets the window.
    const { approval: strict } = newApproval({ policy: { confirm: 'signed-in', confirmWithin: '30s' } });
    expect(checkVote(strict, request(signedInAgo(20)))).toBeUndefined();
    expect(checkVote(strict, request(signedInAgo(31)))?.reason).toBe('sign-in-again');
  });

  it('tells a non-approver the real reason before asking anyone to sign in', () => {
    const outsider: Actor = { platform: 'lark', id: 'ou_x', name: 'X', user: 'mallory' };
    expect(checkVote(approval, request(outsider))?.reason).toBe('not-an-approver');
  });

  it('leaves approvals without the option to chat clicks', () => {
    expect(checkVote(newApproval().approval, request(carol))).toBeUndefined();
  });

  it('answers the API with a 403 ConfirmSignedIn', () => {
    const refused = checkVote(approval, request({ ...bob, via: 'token' }));
    if (!refused) throw new Error('expected a refusal');
    expect(refusalError(refused)).toMatchObject({ status: 403, code: 'ConfirmSignedIn' });
  });
});

describe('the confirm policy option', () => {
  const withConsole = {
    ...structuredClone(DEFAULT_CONFIG_INPUT),
    console: { oidc: { issuer: 'https://gitlab.example.com', clientId: 'id' }, publicUrl: PUBLIC_URL },
  };

  it('applies per environment through overrides', () => {
    const input = structuredClone(withConsole) as typeof withConsole & {
      policies: { deploy: { overrides: Record<string, Record<string, unknown>> } };
    };
    (input.policies.deploy.overrides as Record<string, unknown>).prod = { required: 2, confirm: 'signed-in' };
    const config = parseConfig(input);
    expect(policyFor(config, 'deploy', 'prod').confirm).toBe('signed-in');
    expect(policyFor(config, 'deploy', 'test').confirm).toBeUndefined();
  });

  it('is refused without sign-in and a public URL to link to', () => {
    const input = structuredClone(DEFAULT_CONFIG_INPUT) as { policies: Record<string, object> };
    input.policies.rollback = { approvers: ['bob', 'carol'], confirm: 'signed-in' };
    expect(() => parseConfig(input)).toThrow(/policies\.rollback\.confirm.*console\.oidc/s);
  });
});

describe('cards of an approval that needs a signed-in confirmation', () => {
  const { approval } = newApproval({ policy: { confirm: 'signed-in' } });
  const card = cardFor(approval, { publicUrl: `${PUBLIC_URL}/` });
  const link = `${PUBLIC_URL}/console/approvals/${approval.approvalId}`;

  it('carry the confirmation link, and none once decided', () => {
    expect(card.confirmUrl).toBe(link);
    expect(cardFor(newApproval().approval, { publicUrl: PUBLIC_URL }).confirmUrl).toBeUndefined();
  });

  it('Lark: an open_url button and the note, no Approve/Reject callback', () => {
    const json = JSON.stringify(renderLarkCard(card));
    expect(json).toContain(`"default_url":"${link}"`);
    expect(json).toContain('Needs a signed-in confirmation');
    expect(json).not.toContain('"type":"callback"');
    // Decided: no button at all.
    const done = JSON.stringify(renderLarkCard({ ...card, state: { kind: 'approved', by: ['Bob'] } }));
    expect(done).not.toContain(link);
  });

  it('LINE: a uri button instead of the postbacks', () => {
    const json = JSON.stringify(renderLineCard(card));
    expect(json).toContain(`"uri":"${link}"`);
    expect(json).not.toContain('"type":"postback"');
    expect(json).toContain('Needs a signed-in confirmation');
  });

  it('Slack: a link button instead of Approve and Reject', () => {
    const json = JSON.stringify(renderSlackCard(card));
    expect(json).toContain(`"url":"${link}"`);
    expect(json).not.toContain('signoff_approve');
    expect(json).toContain('Needs a signed-in confirmation');
  });

  it('DingTalk: the template hides its callback buttons and links the page; the ActionCard opens it', () => {
    const params = renderDingTalkCardParams(card);
    expect(params.pending).toBe('false');
    expect(params.links).toContain(link);
    expect(params.statusText).toContain('Needs a signed-in confirmation');
    const action = renderDingTalkActionCard(card, PUBLIC_URL);
    expect(action.msgParam).toMatchObject({ singleURL: link });
    expect(JSON.stringify(action)).not.toContain('"Approve"');
  });
});
