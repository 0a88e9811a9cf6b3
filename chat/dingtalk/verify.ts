/**
 * Authenticates a DingTalk enterprise robot delivery (HTTP "outgoing" mode): headers
 * `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key = app secret, timestamp + "\n" + app
 * secret)), refused when the timestamp is more than an hour off (platforms.md §4). Pure,
 * node:crypto only.
 *
 * The signature does not cover the body: it proves the caller knows the secret at that moment,
 * nothing about what it says. So the route de-duplicates on `msgId`, the adapter refuses a
 * signature it has already seen in this process (index.ts), and nothing a body says can decide
 * an approval (card decisions never come over this path, see docs/dingtalk.md).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RawRequest } from '../../core/chat.ts';
import { InvalidInputError, UnauthenticatedError } from '../../core/errors.ts';

/** DingTalk's window: a delivery whose timestamp is more than one hour off is refused. */
export const DINGTALK_TOLERANCE_MS = 3_600_000;

/** A SHA-256 digest in standard base64: 43 characters and one `=`. */
const SIGN_FORMAT = /^[A-Za-z0-9+/]{43}=$/;
const TIMESTAMP_FORMAT = /^\d{1,15}$/;

/** DingTalk's signature of a timestamp: base64 HMAC-SHA256 of `timestamp\nsecret`, keyed with the secret. */
export function dingtalkSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`, 'utf8').digest('base64');
}

/** The verified request: its parsed body and the signature it carried (for the replay guard). */
export interface VerifiedDingTalkRequest {
  body: Record<string, unknown>;
  sign: string;
  timestamp: number;
}

/**
 * Verifies one robot delivery and returns its parsed JSON body. Throws UnauthenticatedError
 * (401) for a missing, malformed, wrong or stale signature or a missing app secret, and
 * InvalidInputError (400) for a signed body that is not a JSON object.
 */
export function verifyDingTalkRequest(
  raw: RawRequest,
  appSecret: string,
  toleranceMs: number = DINGTALK_TOLERANCE_MS,
): VerifiedDingTalkRequest {
  if (!appSecret) {
    throw new UnauthenticatedError(
      'dingtalk: DINGTALK_APP_SECRET is not configured; refusing every delivery',
    );
  }
  const timestamp = raw.header('timestamp')?.trim();
  const sign = raw.header('sign')?.trim();
  if (!timestamp || !sign)
    throw new UnauthenticatedError('dingtalk: the request is not signed (timestamp, sign)');
  if (!TIMESTAMP_FORMAT.test(timestamp))
    throw new UnauthenticatedError('dingtalk: timestamp is not milliseconds');
  if (!SIGN_FORMAT.test(sign))
    throw new UnauthenticatedError('dingtalk: sign is not a base64 SHA-256 signature');
  const at = Number(timestamp);
  if (Math.abs(raw.now.getTime() - at) > toleranceMs) {
    throw new UnauthenticatedError('dingtalk: timestamp is more than one hour off (stale or replayed)');
  }
  const expected = createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`, 'utf8').digest();
  if (!timingSafeEqual(Buffer.from(sign, 'base64'), expected)) {
    throw new UnauthenticatedError('dingtalk: sign does not match');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch {
    throw new InvalidInputError('dingtalk: the request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidInputError('dingtalk: the request body is not a JSON object');
  }
  return { body: body as Record<string, unknown>, sign, timestamp: at };
}

/**
 * A card-callback body (`actionCallback`, or anything with an `outTrackId`) posted to the HTTP
 * route. DingTalk's documentation does not say how an HTTP card callback is authenticated (the
 * `apiSecret` registered with `/v1.0/card/callbacks/register` is never explained), so such a
 * request is refused whatever headers it has: card clicks arrive over Stream mode or the console.
 */
export function isCardCallbackBody(text: string): boolean {
  // A cheap look at the shape only, to refuse with the right reason; nothing here is acted on.
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const fields = body as Record<string, unknown>;
  return fields.type === 'actionCallback' || typeof fields.outTrackId === 'string';
}

/** Why an HTTP card callback is refused (the 401 message and the log line). */
export const CARD_CALLBACK_REFUSED =
  'dingtalk: card callbacks over HTTP are refused: DingTalk does not document how they are authenticated ' +
  '(apiSecret); decide on the card through Stream mode (local runtime) or in the console (docs/dingtalk.md)';
