import { describe, expect, it } from 'vitest';
import { isSlackSslCheck, slackSignature, verifySlackRequest } from '../../../chat/slack/verify.ts';
import type { RawRequest } from '../../../core/chat.ts';
import { UnauthenticatedError } from '../../../core/errors.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = new Date(1_531_420_618_000);
// Slack's documented example ("Verifying requests from Slack"): a slash command body.
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOCUMENTED = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

function request(headers: Record<string, string>, body = BODY, now = NOW): RawRequest {
  return { body, now, header: (name) => headers[name.toLowerCase()] };
}

function signed(timestamp: number, body = BODY): RawRequest {
  return request(
    {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(body, timestamp, SECRET),
    },
    body,
  );
}

describe('slackSignature', () => {
  it('computes the signature of Slack’s documented example', () => {
    expect(slackSignature(BODY, 1_531_420_618, SECRET)).toBe(DOCUMENTED);
  });
});

describe('verifySlackRequest', () => {
  it('accepts the documented request at its own time', () => {
    expect(() =>
      verifySlackRequest(
        request({ 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': DOCUMENTED }),
        SECRET,
      ),
    ).not.toThrow();
  });

  it('accepts a timestamp exactly 300 s away either way', () => {
    expect(() => verifySlackRequest(signed(1_531_420_618 - 300), SECRET)).not.toThrow();
    expect(() => verifySlackRequest(signed(1_531_420_618 + 300), SECRET)).not.toThrow();
  });

  it('rejects a timestamp 301 s in the past or in the future (replay window both ways)', () => {
    expect(() => verifySlackRequest(signed(1_531_420_618 - 301), SECRET)).toThrow(/stale or replayed/);
    expect(() => verifySlackRequest(signed(1_531_420_618 + 301), SECRET)).toThrow(/stale or replayed/);
  });

  it('rejects a body changed after signing, a wrong secret, and missing or malformed headers', () => {
    const good = signed(1_531_420_618);
    const tampered: RawRequest = { ...good, body: BODY.replace('roadrunner', 'coyote') };
    expect(() => verifySlackRequest(tampered, SECRET)).toThrow(/does not match/);
    expect(() => verifySlackRequest(good, 'another-secret')).toThrow(UnauthenticatedError);
    expect(() => verifySlackRequest(request({}), SECRET)).toThrow(/not signed/);
    expect(() =>
      verifySlackRequest(
        request({ 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': 'v1=abc' }),
        SECRET,
      ),
    ).toThrow(/not a v0/);
    expect(() =>
      verifySlackRequest(
        request({ 'x-slack-request-timestamp': '1e9', 'x-slack-signature': DOCUMENTED }),
        SECRET,
      ),
    ).toThrow(/number of seconds/);
  });

  it('refuses everything when no signing secret is configured, and never trusts the body token', () => {
    expect(() => verifySlackRequest(signed(1_531_420_618), '')).toThrow(/not configured/);
    // The deprecated verification token in the body authenticates nothing.
    expect(() =>
      verifySlackRequest(request({ 'content-type': 'application/x-www-form-urlencoded' }), SECRET),
    ).toThrow(UnauthenticatedError);
  });
});

describe('isSlackSslCheck', () => {
  it('recognises ssl_check=1 form posts only', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(isSlackSslCheck(request(form, 'ssl_check=1&token=x'))).toBe(true);
    expect(isSlackSslCheck(request(form, 'ssl_check=0&token=x'))).toBe(false);
    expect(isSlackSslCheck(request({ 'content-type': 'application/json' }, 'ssl_check=1'))).toBe(false);
  });
});
