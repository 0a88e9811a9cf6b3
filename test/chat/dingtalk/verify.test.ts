import { describe, expect, it } from 'vitest';
import { CARD_CALLBACK_REFUSED, dingtalkSign, verifyDingTalkRequest } from '../../../chat/dingtalk/verify.ts';
import type { RawRequest } from '../../../core/chat.ts';
import { InvalidInputError, UnauthenticatedError } from '../../../core/errors.ts';

const SECRET = 'gJmOGxqS0bLl2wEd3zVqQ0JkZl8QDZy3r2x5Yb6nTzE';
const NOW = new Date('2026-12-01T09:00:00Z');

function request(body: string, headers: Record<string, string>): RawRequest {
  return { body, header: (name) => headers[name.toLowerCase()], now: NOW };
}

function signed(body = '{"msgId":"m1"}', at = NOW.getTime()): RawRequest {
  const timestamp = String(at);
  return request(body, { timestamp, sign: dingtalkSign(timestamp, SECRET) });
}

describe('dingtalkSign', () => {
  it('is base64 HMAC-SHA256 of "timestamp\\nsecret" keyed with the secret (checked with openssl)', () => {
    // Computed independently: printf '1577262236757\ntest' | openssl dgst -sha256 -hmac test -binary | base64
    expect(dingtalkSign('1577262236757', 'test')).toBe('mTaa3fkYDyl0pzjhahNwGLpzSWjC4TGZpc9P5mL+KXQ=');
  });
});

describe('verifyDingTalkRequest', () => {
  it('accepts a good signature and returns the body', () => {
    expect(verifyDingTalkRequest(signed(), SECRET).body).toEqual({ msgId: 'm1' });
  });

  it('accepts a timestamp just inside the hour, either way', () => {
    expect(() => verifyDingTalkRequest(signed(undefined, NOW.getTime() - 3_599_000), SECRET)).not.toThrow();
    expect(() => verifyDingTalkRequest(signed(undefined, NOW.getTime() + 3_599_000), SECRET)).not.toThrow();
  });

  it('rejects a timestamp more than one hour off, in the past or the future', () => {
    expect(() => verifyDingTalkRequest(signed(undefined, NOW.getTime() - 3_601_000), SECRET)).toThrow(
      /more than one hour/,
    );
    expect(() => verifyDingTalkRequest(signed(undefined, NOW.getTime() + 3_601_000), SECRET)).toThrow(
      UnauthenticatedError,
    );
  });

  it('rejects a sign made with another secret, a missing header, and malformed values', () => {
    const timestamp = String(NOW.getTime());
    const wrong = request('{}', { timestamp, sign: dingtalkSign(timestamp, 'other') });
    expect(() => verifyDingTalkRequest(wrong, SECRET)).toThrow(/does not match/);
    expect(() => verifyDingTalkRequest(request('{}', { timestamp }), SECRET)).toThrow(/not signed/);
    expect(() => verifyDingTalkRequest(request('{}', { timestamp: 'abc', sign: 'x' }), SECRET)).toThrow(
      UnauthenticatedError,
    );
    expect(() => verifyDingTalkRequest(request('{}', { timestamp, sign: 'short' }), SECRET)).toThrow(
      /not a base64/,
    );
  });

  it('refuses everything when no secret is configured', () => {
    expect(() => verifyDingTalkRequest(signed(), '')).toThrow(/not configured/);
  });

  it('answers a signed body that is not a JSON object with a 400', () => {
    expect(() => verifyDingTalkRequest(signed('[1]'), SECRET)).toThrow(InvalidInputError);
    expect(() => verifyDingTalkRequest(signed('{"a":'), SECRET)).toThrow(InvalidInputError);
  });

  it('says why HTTP card callbacks are refused', () => {
    expect(CARD_CALLBACK_REFUSED).toMatch(/does not document how they are authenticated/);
  });
});
