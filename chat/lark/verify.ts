/**
 * Authenticates a Lark/Feishu callback on its raw body, with node:crypto only. The SDK's own
 * checks are not used: they skip the signature when no Encrypt Key is set, never compare the
 * Verification Token, and sign `JSON.stringify(parsed)` instead of the bytes received
 * (platforms.md §1).
 *
 * The Encrypt Key is required. Without it Lark signs nothing, and the only check left would be
 * the Verification Token that every plain callback body carries in clear text: anyone who saw
 * one request (a proxy or access log) could forge card clicks.
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import type { RawRequest } from '../../core/chat.ts';
import { InvalidInputError, UnauthenticatedError } from '../../core/errors.ts';

export interface LarkSecrets {
  /** "Verification Token" from the app's Events & Callbacks page. */
  verificationToken?: string;
  /** "Encrypt Key" from the same page. Required: without it every callback is refused. */
  encryptKey: string;
}

export interface LarkVerifyOptions {
  /** How far the X-Lark-Request-Timestamp may be from `now`, either way. Default 300. */
  toleranceSeconds?: number;
}

export const LARK_TIMESTAMP_HEADER = 'x-lark-request-timestamp';
export const LARK_NONCE_HEADER = 'x-lark-request-nonce';
export const LARK_SIGNATURE_HEADER = 'x-lark-signature';

const DEFAULT_TOLERANCE_SECONDS = 300;

type Json = Record<string, unknown>;

interface SignatureHeaders {
  timestamp: string;
  nonce: string;
  signature: string;
}

/**
 * Verifies one callback and returns its JSON body, decrypted when it was encrypted.
 * Throws UnauthenticatedError (401) for a bad or missing signature, a timestamp outside the
 * window or a wrong token, and InvalidInputError (400) for a body that is not what Lark sends.
 */
export function verifyLarkRequest(
  raw: RawRequest,
  secrets: LarkSecrets,
  options: LarkVerifyOptions = {},
): unknown {
  const { verificationToken, encryptKey } = secrets;
  if (!encryptKey) {
    throw new UnauthenticatedError('lark: LARK_ENCRYPT_KEY is not configured; refusing every callback');
  }
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const outer = parseObject(raw.body, 'lark: the request body');
  const headers = signatureHeaders(raw);

  if ('encrypt' in outer) {
    if (typeof outer.encrypt !== 'string' || outer.encrypt === '') {
      throw new InvalidInputError('lark: "encrypt" must be a non-empty base64 string');
    }
    const blob = outer.encrypt;
    let failure: UnauthenticatedError;
    try {
      checkSignature(raw, headers, 'sha256', encryptKey, tolerance);
      const body = parseObject(decrypt(blob, encryptKey), 'lark: the decrypted body');
      // A decrypted legacy card callback carries the card's update token in `token`, not the
      // Verification Token; the signature over the Encrypt Key authenticates it.
      if (!isLegacyCardCallback(body)) checkToken(body, verificationToken);
      return body;
    } catch (error) {
      if (!(error instanceof UnauthenticatedError) || error.code === 'LarkTokenMismatch') throw error;
      failure = error;
    }
    // Lark does not sign url_verification, even when it encrypts it. Accept the challenge (and
    // nothing else) when it decrypts and carries the right token. Every failure on this path
    // answers with the signature error above, so an unsigned body cannot probe the padding.
    const challenge = unsignedChallenge(blob, encryptKey, verificationToken);
    if (challenge) return challenge;
    throw failure;
  }

  if (outer.type === 'url_verification') {
    // Lark encrypts the challenge once the app has an Encrypt Key. A plain one means the app in
    // the developer console has none, and its events would arrive unsigned: fail now, while
    // the URL is being saved, rather than on every event afterwards.
    throw new UnauthenticatedError(
      'lark: a plain url_verification: the Lark app has no Encrypt Key; set it to LARK_ENCRYPT_KEY',
    );
  }

  if (isLegacyCardCallback(outer)) {
    // Signed with the Verification Token as key. With the Encrypt Key set, every body that
    // carries that token is encrypted (a legacy callback's `token` is the card's update token),
    // so the token stays a shared secret.
    if (!verificationToken) {
      throw new UnauthenticatedError(
        'lark: a legacy card callback is signed with the verification token, which is not configured',
      );
    }
    checkSignature(raw, headers, 'sha1', verificationToken, tolerance);
    return outer;
  }

  // Lark encrypts everything once an Encrypt Key is set; a plain body must still carry a
  // valid signature (it is computed over whatever bytes were sent).
  checkSignature(raw, headers, 'sha256', encryptKey, tolerance);
  checkToken(outer, verificationToken);
  return outer;
}

/** Lark's signature: lowercase hex of sha256 (events) or sha1 (legacy card callbacks) over timestamp + nonce + key + body. */
export function larkSignature(
  algorithm: 'sha256' | 'sha1',
  timestamp: string,
  nonce: string,
  key: string,
  body: string,
): string {
  return createHash(algorithm)
    .update(timestamp + nonce + key + body, 'utf8')
    .digest('hex');
}

/** Decrypts Lark's `encrypt` field: AES-256-CBC, key sha256(Encrypt Key), IV the first 16 bytes. */
export function decryptLarkPayload(encrypted: string, encryptKey: string): string {
  return decrypt(encrypted, encryptKey);
}

function decrypt(encrypted: string, encryptKey: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted)) {
    throw new InvalidInputError('lark: "encrypt" is not valid base64');
  }
  const bytes = Buffer.from(encrypted, 'base64');
  if (bytes.length < 32 || bytes.length % 16 !== 0) {
    throw new InvalidInputError('lark: "encrypt" is not an IV followed by whole AES blocks');
  }
  const key = createHash('sha256').update(encryptKey, 'utf8').digest();
  const decipher = createDecipheriv('aes-256-cbc', key, bytes.subarray(0, 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(bytes.subarray(16)), decipher.final()]);
  } catch (cause) {
    throw new InvalidInputError('lark: "encrypt" does not decrypt with the configured encrypt key', {
      cause: cause instanceof Error ? new Error(cause.message) : undefined,
    });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    throw new InvalidInputError('lark: the decrypted body is not UTF-8');
  }
}

function unsignedChallenge(
  blob: string,
  encryptKey: string,
  verificationToken: string | undefined,
): Json | undefined {
  try {
    const body = parseObject(decrypt(blob, encryptKey), 'lark: the decrypted body');
    if (body.type !== 'url_verification' || typeof body.challenge !== 'string') return undefined;
    if (verificationToken !== undefined && !tokenMatches(body.token, verificationToken)) return undefined;
    return body;
  } catch {
    return undefined;
  }
}

function signatureHeaders(raw: RawRequest): Partial<SignatureHeaders> {
  return {
    timestamp: raw.header(LARK_TIMESTAMP_HEADER) || undefined,
    nonce: raw.header(LARK_NONCE_HEADER) || undefined,
    signature: raw.header(LARK_SIGNATURE_HEADER) || undefined,
  };
}

function checkSignature(
  raw: RawRequest,
  headers: Partial<SignatureHeaders>,
  algorithm: 'sha256' | 'sha1',
  key: string,
  toleranceSeconds: number,
): void {
  const { timestamp, nonce, signature } = headers;
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    const missing = [
      timestamp === undefined ? 'X-Lark-Request-Timestamp' : undefined,
      nonce === undefined ? 'X-Lark-Request-Nonce' : undefined,
      signature === undefined ? 'X-Lark-Signature' : undefined,
    ].filter(Boolean);
    throw new UnauthenticatedError(`lark: the request is not signed (missing ${missing.join(', ')})`);
  }
  const expected = larkSignature(algorithm, timestamp, nonce, key, raw.body);
  if (!constantTimeEqual(signature.toLowerCase(), expected)) {
    throw new UnauthenticatedError('lark: X-Lark-Signature does not match the body');
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new UnauthenticatedError('lark: X-Lark-Request-Timestamp is not a unix time in seconds');
  }
  const skew = Number(timestamp) - Math.floor(raw.now.getTime() / 1000);
  if (skew < -toleranceSeconds) {
    throw new UnauthenticatedError(`lark: the request is older than ${toleranceSeconds} seconds (replay?)`);
  }
  if (skew > toleranceSeconds) {
    throw new UnauthenticatedError(
      `lark: the request timestamp is more than ${toleranceSeconds} seconds ahead`,
    );
  }
}

/**
 * Compares the Verification Token: `header.token` in schema 2.0, `token` in v1 and url_verification.
 * Only ever after the Encrypt Key's signature authenticated the body: with no token configured,
 * that signature is the check.
 */
function checkToken(body: Json, verificationToken: string | undefined): void {
  if (verificationToken === undefined || verificationToken === '') return;
  const header = body.header;
  const token =
    body.schema === '2.0' && header !== null && typeof header === 'object' && 'token' in header
      ? header.token
      : body.token;
  if (token === undefined) {
    throw new UnauthenticatedError('lark: the body carries no verification token', {
      code: 'LarkTokenMismatch',
    });
  }
  if (!tokenMatches(token, verificationToken)) {
    throw new UnauthenticatedError('lark: the verification token does not match', {
      code: 'LarkTokenMismatch',
    });
  }
}

function tokenMatches(token: unknown, expected: string): boolean {
  return typeof token === 'string' && constantTimeEqual(token, expected);
}

/** Equal-length digests make timingSafeEqual usable on inputs of any length. */
function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** The flat pre-2.0 card callback: `{open_id, open_message_id, action, …}` with no schema or type. */
export function isLegacyCardCallback(body: Json): boolean {
  return (
    body.schema === undefined &&
    body.type === undefined &&
    typeof body.open_message_id === 'string' &&
    body.action !== null &&
    typeof body.action === 'object'
  );
}

function parseObject(text: string, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${what} is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(`${what} is not a JSON object`);
  }
  return value as Json;
}
