/**
 * Authenticates a Slack request on its raw body, with node:crypto only (platforms.md §3):
 * `X-Slack-Signature` is `v0=` + hex(HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`)),
 * compared in constant time, and the timestamp must be within 300 s of `now` in either
 * direction (a replay window; python-slack-sdk checks both ways, Bolt only the past).
 *
 * The deprecated `token` field (a verification token in every body) is never used: anyone who
 * saw one request could copy it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RawRequest } from '../../core/chat.ts';
import { UnauthenticatedError } from '../../core/errors.ts';

export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
/** How far the request timestamp may be from now, either way (Slack's documented window). */
export const SLACK_TOLERANCE_SECONDS = 300;

/** `v0=` and a SHA-256 digest in lower-case hex. */
const SIGNATURE_FORMAT = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP_FORMAT = /^\d{1,12}$/;

/** Slack's signature of a body sent at `timestamp` (seconds): what `X-Slack-Signature` carries. */
export function slackSignature(body: string, timestamp: number | string, signingSecret: string): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`, 'utf8').digest('hex');
  return `v0=${digest}`;
}

/**
 * Whether the body is Slack's unsigned SSL check (`ssl_check=1`, a form post Slack sends when
 * the request URL is saved): it is answered 200 and acted on in no way.
 */
export function isSlackSslCheck(raw: RawRequest): boolean {
  const type = (raw.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return false;
  return new URLSearchParams(raw.body).get('ssl_check') === '1';
}

/**
 * Verifies one request's signature and timestamp. Throws UnauthenticatedError (401) when no
 * signing secret is configured, a header is missing or malformed, the timestamp is outside the
 * window, or the signature does not match the bytes received.
 */
export function verifySlackRequest(
  raw: RawRequest,
  signingSecret: string,
  toleranceSeconds = SLACK_TOLERANCE_SECONDS,
): void {
  if (!signingSecret) {
    throw new UnauthenticatedError('slack: SLACK_SIGNING_SECRET is not configured; refusing every request');
  }
  const timestamp = raw.header(SLACK_TIMESTAMP_HEADER)?.trim();
  const signature = raw.header(SLACK_SIGNATURE_HEADER)?.trim();
  if (!timestamp || !signature) {
    throw new UnauthenticatedError(
      'slack: the request is not signed (no X-Slack-Signature / X-Slack-Request-Timestamp)',
    );
  }
  if (!TIMESTAMP_FORMAT.test(timestamp)) {
    throw new UnauthenticatedError('slack: X-Slack-Request-Timestamp is not a number of seconds');
  }
  const skew = Math.abs(Math.floor(raw.now.getTime() / 1000) - Number(timestamp));
  if (skew > toleranceSeconds) {
    throw new UnauthenticatedError(
      `slack: X-Slack-Request-Timestamp is ${skew} s away from now (more than ${toleranceSeconds} s): stale or replayed`,
    );
  }
  if (!SIGNATURE_FORMAT.test(signature)) {
    throw new UnauthenticatedError('slack: X-Slack-Signature is not a v0 HMAC-SHA256 signature');
  }
  const expected = Buffer.from(slackSignature(raw.body, timestamp, signingSecret), 'utf8');
  if (!timingSafeEqual(Buffer.from(signature, 'utf8'), expected)) {
    throw new UnauthenticatedError('slack: X-Slack-Signature does not match the body');
  }
}
