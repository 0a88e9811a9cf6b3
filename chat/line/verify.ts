/**
 * Authenticates a LINE webhook on its raw body: `x-line-signature` is
 * base64(HMAC-SHA256(channel secret, raw body bytes)) (platforms.md §2). Pure, node:crypto only.
 *
 * LINE sends no timestamp, so there is no replay window to check: a replayed (or redelivered)
 * event carries the same `webhookEventId`, which the route de-duplicates on.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RawRequest } from '../../core/chat.ts';
import { InvalidInputError, UnauthenticatedError } from '../../core/errors.ts';

export const LINE_SIGNATURE_HEADER = 'x-line-signature';

/** A SHA-256 digest in standard base64: 43 characters and one `=`. */
const SIGNATURE_FORMAT = /^[A-Za-z0-9+/]{43}=$/;

/** LINE's signature of a body: base64 HMAC-SHA256 over its UTF-8 bytes, keyed with the channel secret. */
export function lineSignature(body: string | Buffer, channelSecret: string): string {
  return createHmac('sha256', channelSecret).update(body).digest('base64');
}

/**
 * Verifies one webhook request and returns its parsed JSON body.
 * Throws UnauthenticatedError (401) for a missing or wrong signature, or when no channel secret
 * is configured, and InvalidInputError (400) for a signed body that is not a JSON object.
 */
export function verifyLineRequest(raw: RawRequest, channelSecret: string): unknown {
  if (!channelSecret) {
    throw new UnauthenticatedError('line: LINE_CHANNEL_SECRET is not configured; refusing every webhook');
  }
  const signature = raw.header(LINE_SIGNATURE_HEADER)?.trim();
  if (!signature) throw new UnauthenticatedError('line: the request is not signed (no X-Line-Signature)');
  if (!SIGNATURE_FORMAT.test(signature)) {
    throw new UnauthenticatedError('line: X-Line-Signature is not a base64 SHA-256 signature');
  }
  const expected = createHmac('sha256', channelSecret).update(raw.body, 'utf8').digest();
  if (!timingSafeEqual(Buffer.from(signature, 'base64'), expected)) {
    throw new UnauthenticatedError('line: X-Line-Signature does not match the body');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch {
    throw new InvalidInputError('line: the request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidInputError('line: the request body is not a JSON object');
  }
  return body;
}
