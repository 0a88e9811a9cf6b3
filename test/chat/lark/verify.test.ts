import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptLarkPayload, verifyLarkRequest } from '../../../chat/lark/verify.ts';
import { InvalidInputError, UnauthenticatedError } from '../../../core/errors.ts';
import {
  cardActionEvent,
  larkEncrypt,
  legacyCardCallback,
  messageEvent,
  rawLarkRequest,
  signedLarkRequest,
  urlVerification,
} from '../../fakes/lark.ts';

const NOW = new Date('2026-11-23T10:00:00Z');
const TS = Math.floor(NOW.getTime() / 1000);
const TOKEN = 'vt-0123456789abcdef0123456789abcd';
const KEY = 'ek-fedcba9876543210fedcba98765432';
const SECRETS = { verificationToken: TOKEN, encryptKey: KEY };

const click = cardActionEvent({
  token: TOKEN,
  openId: 'ou_bob',
  value: { approvalId: 'a1', decision: 'approve' },
});

function signed(
  body: object,
  options: { timestamp?: number; encryptKey?: string; verificationToken?: string } = {},
) {
  return rawLarkRequest(
    signedLarkRequest(body, { encryptKey: KEY, timestamp: TS, nonce: 'n0nce', ...options }),
    NOW,
  );
}

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('verifyLarkRequest', () => {
  it('accepts an encrypted, signed event and returns the decrypted body', () => {
    expect(verifyLarkRequest(signed(click), SECRETS)).toEqual(click);
  });

  it('accepts a signed event when only the Encrypt Key is configured', () => {
    expect(verifyLarkRequest(signed(click), { encryptKey: KEY })).toEqual(click);
  });

  it('rejects a signature made with another key', () => {
    const request = signed(click, { encryptKey: 'another-key' });
    const error = caught(() => verifyLarkRequest(request, SECRETS));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toMatch(/X-Lark-Signature does not match/);
  });

  it('rejects a body changed after signing', () => {
    const good = signedLarkRequest(click, { encryptKey: KEY, timestamp: TS, nonce: 'n0nce' });
    const other = JSON.stringify({ encrypt: larkEncrypt(JSON.stringify(click), KEY) });
    const error = caught(() =>
      verifyLarkRequest(rawLarkRequest({ body: other, headers: good.headers }, NOW), SECRETS),
    );
    expect(error).toBeInstanceOf(UnauthenticatedError);
  });

  it('rejects a timestamp older than five minutes', () => {
    const error = caught(() => verifyLarkRequest(signed(click, { timestamp: TS - 301 }), SECRETS));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toMatch(/older than 300 seconds/);
  });

  it('accepts a timestamp at the edge of the window', () => {
    expect(() => verifyLarkRequest(signed(click, { timestamp: TS - 300 }), SECRETS)).not.toThrow();
    expect(() => verifyLarkRequest(signed(click, { timestamp: TS + 300 }), SECRETS)).not.toThrow();
  });

  it('rejects a timestamp more than five minutes in the future', () => {
    const error = caught(() => verifyLarkRequest(signed(click, { timestamp: TS + 301 }), SECRETS));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toMatch(/ahead/);
  });

  it('honours a configured window', () => {
    const request = signed(click, { timestamp: TS - 61 });
    expect(() => verifyLarkRequest(request, SECRETS, { toleranceSeconds: 60 })).toThrow(/older than 60/);
  });

  it('rejects a signed event carrying the wrong verification token', () => {
    const forged = cardActionEvent({
      token: 'wrong',
      openId: 'ou_bob',
      value: { approvalId: 'a1', decision: 'approve' },
    });
    const error = caught(() => verifyLarkRequest(signed(forged), SECRETS));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toMatch(/verification token does not match/);
  });

  it('rejects an encrypted event without the signature headers', () => {
    const { body } = signedLarkRequest(click, { encryptKey: KEY, timestamp: TS });
    const error = caught(() => verifyLarkRequest(rawLarkRequest({ body }, NOW), SECRETS));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toMatch(/missing X-Lark-Request-Timestamp, X-Lark-Request-Nonce, X-Lark-Signature/);
  });

  it('names the one missing header', () => {
    const request = signedLarkRequest(click, { encryptKey: KEY, timestamp: TS });
    const { 'x-lark-request-nonce': _, ...headers } = request.headers;
    expect(() => verifyLarkRequest(rawLarkRequest({ body: request.body, headers }, NOW), SECRETS)).toThrow(
      /missing X-Lark-Request-Nonce\)/,
    );
  });

  it('answers an unsigned body that is not a challenge with the signature error, whatever it decrypts to', () => {
    // Garbage ciphertext and a valid non-challenge must look the same: no padding oracle.
    const garbage = JSON.stringify({ encrypt: Buffer.alloc(48, 7).toString('base64') });
    const valid = signedLarkRequest(click, { encryptKey: KEY }).body;
    for (const body of [garbage, valid]) {
      const error = caught(() => verifyLarkRequest(rawLarkRequest({ body }, NOW), SECRETS));
      expect(error).toBeInstanceOf(UnauthenticatedError);
      expect(error.message).toMatch(/not signed/);
    }
  });

  it('accepts an encrypted url_verification without a signature when its token matches', () => {
    const challenge = urlVerification({ token: TOKEN, challenge: 'c-123' });
    const body = JSON.stringify({ encrypt: larkEncrypt(JSON.stringify(challenge), KEY) });
    expect(verifyLarkRequest(rawLarkRequest({ body }, NOW), SECRETS)).toEqual(challenge);
  });

  it('rejects an encrypted url_verification with the wrong token', () => {
    const challenge = urlVerification({ token: 'wrong', challenge: 'c-123' });
    const body = JSON.stringify({ encrypt: larkEncrypt(JSON.stringify(challenge), KEY) });
    expect(() => verifyLarkRequest(rawLarkRequest({ body }, NOW), SECRETS)).toThrow(UnauthenticatedError);
  });

  it('refuses a plain url_verification, even with the right token: the Lark app has no Encrypt Key', () => {
    const challenge = urlVerification({ token: TOKEN, challenge: 'c-123' });
    const error = caught(() =>
      verifyLarkRequest(rawLarkRequest({ body: JSON.stringify(challenge) }, NOW), SECRETS),
    );
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toMatch(/has no Encrypt Key; set it to LARK_ENCRYPT_KEY/);
  });

  it('accepts a legacy card callback signed with sha1 over the verification token', () => {
    const legacy = legacyCardCallback({ openId: 'ou_bob', value: { approvalId: 'a1', decision: 'approve' } });
    const request = signed(legacy, { encryptKey: '', verificationToken: TOKEN });
    expect(verifyLarkRequest(request, SECRETS)).toEqual(legacy);
    expect(() => verifyLarkRequest(request, { encryptKey: KEY })).toThrow(
      /signed with the verification token, which is not configured/,
    );
  });

  it('rejects a legacy card callback with a bad or stale sha1 signature', () => {
    const legacy = legacyCardCallback({ openId: 'ou_bob', value: { approvalId: 'a1', decision: 'approve' } });
    const forged = signed(legacy, { encryptKey: '', verificationToken: 'not-the-token' });
    expect(() => verifyLarkRequest(forged, SECRETS)).toThrow(/X-Lark-Signature does not match/);
    const stale = signed(legacy, { encryptKey: '', verificationToken: TOKEN, timestamp: TS - 3600 });
    expect(() => verifyLarkRequest(stale, SECRETS)).toThrow(/older than/);
  });

  it('computes the legacy signature over the raw bytes, not re-serialised JSON', () => {
    const legacy = legacyCardCallback({ openId: 'ou_bob', value: { approvalId: 'a1', decision: 'approve' } });
    const body = JSON.stringify(legacy, null, 2);
    const signature = createHash('sha1').update(`${TS}n0nce${TOKEN}${body}`).digest('hex');
    const headers = {
      'x-lark-request-timestamp': String(TS),
      'x-lark-request-nonce': 'n0nce',
      'x-lark-signature': signature,
    };
    expect(verifyLarkRequest(rawLarkRequest({ body, headers }, NOW), SECRETS)).toEqual(legacy);
  });

  it('without an Encrypt Key, refuses a card click that carries the right verification token', () => {
    // The token is in every plain body Lark sends: on its own it proves nothing.
    const withToken = { verificationToken: TOKEN, encryptKey: '' };
    for (const body of [JSON.stringify(click), signedLarkRequest(click, { encryptKey: KEY }).body]) {
      const error = caught(() => verifyLarkRequest(rawLarkRequest({ body }, NOW), withToken));
      expect(error).toBeInstanceOf(UnauthenticatedError);
      expect(error.message).toMatch(/LARK_ENCRYPT_KEY is not configured; refusing every callback/);
    }
  });

  it('with an Encrypt Key, refuses a plain unsigned event even with the right token', () => {
    const body = JSON.stringify(
      messageEvent({ token: TOKEN, text: 'help', openId: 'ou_bob', chatType: 'p2p' }),
    );
    expect(() => verifyLarkRequest(rawLarkRequest({ body }, NOW), SECRETS)).toThrow(/not signed/);
  });

  it('refuses everything when no secret is configured', () => {
    const body = JSON.stringify(urlVerification({ token: TOKEN }));
    expect(() => verifyLarkRequest(rawLarkRequest({ body }, NOW), { encryptKey: '' })).toThrow(
      UnauthenticatedError,
    );
  });

  it('answers malformed JSON, base64 and padding with InvalidInputError', () => {
    expect(() => verifyLarkRequest(rawLarkRequest({ body: '{"encrypt":' }, NOW), SECRETS)).toThrow(
      InvalidInputError,
    );
    expect(() => verifyLarkRequest(rawLarkRequest({ body: '[1]' }, NOW), SECRETS)).toThrow(InvalidInputError);
    for (const encrypt of [
      '***not base64***',
      Buffer.alloc(40, 1).toString('base64'),
      Buffer.alloc(48, 1).toString('base64'),
    ]) {
      const body = JSON.stringify({ encrypt });
      const timestamp = String(TS);
      const signature = createHash('sha256').update(`${timestamp}n0nce${KEY}${body}`).digest('hex');
      const headers = {
        'x-lark-request-timestamp': timestamp,
        'x-lark-request-nonce': 'n0nce',
        'x-lark-signature': signature,
      };
      expect(() => verifyLarkRequest(rawLarkRequest({ body, headers }, NOW), SECRETS)).toThrow(
        InvalidInputError,
      );
    }
  });

  it('never puts a secret in an error message', () => {
    const attempts = [
      () => verifyLarkRequest(signed(click, { encryptKey: 'x' }), SECRETS),
      () => verifyLarkRequest(signed(cardActionEvent({ token: 'bad', openId: 'o', value: {} })), SECRETS),
      () => verifyLarkRequest(signed(click, { timestamp: 0 }), SECRETS),
      () =>
        verifyLarkRequest(
          rawLarkRequest({ body: JSON.stringify(urlVerification({ token: 'bad' })) }, NOW),
          SECRETS,
        ),
    ];
    for (const attempt of attempts) {
      const error = caught(attempt);
      expect(error.message).not.toContain(TOKEN);
      expect(error.message).not.toContain(KEY);
    }
  });
});

describe('decryptLarkPayload', () => {
  it('decrypts what Lark encrypts (AES-256-CBC, sha256 key, IV first)', () => {
    expect(decryptLarkPayload(larkEncrypt('{"hello":"世界"}', KEY), KEY)).toBe('{"hello":"世界"}');
  });
});
