import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../core/errors.ts';
import { signGitLabBody, verifyGitLabRequest } from '../../webhooks/verify-gitlab.ts';

const NOW = new Date('2026-11-23T10:00:00Z');
const TS = Math.floor(NOW.getTime() / 1000);
const SIGNING = `whsec_${Buffer.from('a signing secret of 32 bytes....').toString('base64')}`;
const BODY = '{"object_kind":"merge_request"}';

function headers(map: Record<string, string>) {
  return (name: string) => map[name.toLowerCase()];
}

describe('verifyGitLabRequest', () => {
  it('accepts the configured X-Gitlab-Token', () => {
    expect(() =>
      verifyGitLabRequest(BODY, headers({ 'x-gitlab-token': 's3cret' }), { webhookToken: 's3cret' }, NOW),
    ).not.toThrow();
  });

  it('refuses every webhook when no token is configured', () => {
    expect(() => verifyGitLabRequest(BODY, headers({ 'x-gitlab-token': '' }), {}, NOW)).toThrow(
      UnauthenticatedError,
    );
  });

  it('accepts a Standard Webhooks signature made with the signing token', () => {
    const signature = signGitLabBody(BODY, SIGNING, 'msg_1', TS);
    const h = headers({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(TS),
      'webhook-signature': `v1,bad ${signature}`,
    });
    expect(() => verifyGitLabRequest(BODY, h, { signingToken: SIGNING }, NOW)).not.toThrow();
  });

  it('refuses a delivery without a signature when a signing token is configured, even with the right X-Gitlab-Token', () => {
    const h = headers({ 'x-gitlab-token': 's3cret' });
    expect(() =>
      verifyGitLabRequest(BODY, h, { webhookToken: 's3cret', signingToken: SIGNING }, NOW),
    ).toThrow(/missing webhook-signature header: GITLAB_WEBHOOK_SIGNING_TOKEN is configured/);
  });

  it('refuses a bad signature even when X-Gitlab-Token is right', () => {
    const h = headers({
      'x-gitlab-token': 's3cret',
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(TS),
      'webhook-signature': 'v1,bm90LWEtc2lnbmF0dXJl',
    });
    expect(() =>
      verifyGitLabRequest(BODY, h, { webhookToken: 's3cret', signingToken: SIGNING }, NOW),
    ).toThrow(/does not match/);
  });

  it('rejects a signature over a different body', () => {
    const signature = signGitLabBody(`${BODY} `, SIGNING, 'msg_1', TS);
    const h = headers({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(TS),
      'webhook-signature': signature,
    });
    expect(() => verifyGitLabRequest(BODY, h, { signingToken: SIGNING }, NOW)).toThrow(/does not match/);
  });

  it('rejects a timestamp older than five minutes', () => {
    const old = TS - 301;
    const h = headers({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(old),
      'webhook-signature': signGitLabBody(BODY, SIGNING, 'msg_1', old),
    });
    expect(() => verifyGitLabRequest(BODY, h, { signingToken: SIGNING }, NOW)).toThrow(/5-minute window/);
  });

  it('rejects a signature replayed under another message id', () => {
    const h = headers({
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(TS),
      'webhook-signature': signGitLabBody(BODY, SIGNING, 'msg_1', TS),
    });
    expect(() => verifyGitLabRequest(BODY, h, { signingToken: SIGNING }, NOW)).toThrow(UnauthenticatedError);
  });
});
