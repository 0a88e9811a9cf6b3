import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../core/errors.ts';
import { safeEqual } from '../core/ids.ts';

export interface GitLabSecrets {
  webhookToken?: string;
  signingToken?: string;
}

/** How far a signed webhook's timestamp may be from now (Standard Webhooks' recommendation). */
const TOLERANCE_SECONDS = 5 * 60;

/**
 * Verify a GitLab webhook on its raw body. With a signing token configured, the Standard
 * Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`) is required: a
 * delivery without it is refused, never downgraded to the plain `X-Gitlab-Token` (which GitLab
 * sends in clear text with every delivery). Without one, the `X-Gitlab-Token` secret is
 * compared in constant time.
 */
export function verifyGitLabRequest(
  rawBody: string,
  headers: (name: string) => string | undefined,
  secrets: GitLabSecrets,
  now: Date,
): void {
  if (secrets.signingToken) {
    const signature = headers('webhook-signature');
    if (!signature) {
      throw new UnauthenticatedError(
        'missing webhook-signature header: GITLAB_WEBHOOK_SIGNING_TOKEN is configured, so deliveries must be signed',
      );
    }
    verifySignature(rawBody, headers, signature, secrets.signingToken, now);
    return;
  }
  if (!secrets.webhookToken) {
    throw new UnauthenticatedError('GitLab webhooks are refused: GITLAB_WEBHOOK_TOKEN is not configured');
  }
  const token = headers('x-gitlab-token');
  if (!token) throw new UnauthenticatedError('missing X-Gitlab-Token header');
  if (!safeEqual(token, secrets.webhookToken))
    throw new UnauthenticatedError('X-Gitlab-Token does not match');
}

function verifySignature(
  rawBody: string,
  headers: (name: string) => string | undefined,
  signature: string,
  signingToken: string,
  now: Date,
): void {
  const id = headers('webhook-id');
  const timestamp = headers('webhook-timestamp');
  if (!id || !timestamp || !/^\d{1,12}$/.test(timestamp)) {
    throw new UnauthenticatedError('webhook-id and webhook-timestamp are required with webhook-signature');
  }
  const skew = Math.abs(now.getTime() / 1000 - Number(timestamp));
  if (skew > TOLERANCE_SECONDS)
    throw new UnauthenticatedError('webhook-timestamp is outside the 5-minute window');
  const expected = hmacOf(signingToken, id, timestamp, rawBody);
  // The header may carry several space-separated `v1,<sig>` entries (key rotation). An HMAC's
  // length is public (32 bytes): compare the decoded bytes in constant time when it matches.
  const ok = signature.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new UnauthenticatedError('webhook-signature does not match');
}

/** The signing key of each token seen (decoded once, not per delivery). */
const signingKeys = new Map<string, Buffer>();

/** HMAC-SHA256 of `<id>.<timestamp>.<body>` under the signing token's key (Standard Webhooks). */
function hmacOf(signingToken: string, id: string, timestamp: string, rawBody: string): Buffer {
  let key = signingKeys.get(signingToken);
  if (!key) {
    key = Buffer.from(signingToken.replace(/^whsec_/, ''), 'base64');
    if (signingKeys.size >= 16) signingKeys.clear();
    signingKeys.set(signingToken, key);
  }
  return createHmac('sha256', key)
    .update(id)
    .update('.')
    .update(timestamp)
    .update('.')
    .update(rawBody)
    .digest();
}

/** Sign a body as GitLab does with a signing token (tests, the console's simulator). */
export function signGitLabBody(rawBody: string, signingToken: string, id: string, timestamp: number): string {
  return `v1,${hmacOf(signingToken, id, String(timestamp), rawBody).toString('base64')}`;
}
