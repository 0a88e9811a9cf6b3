import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 128 random bits, URL-safe: approval ids, audit ids. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** 72 random bits, URL-safe, 12 characters: the idempotency key of a notice's buttons (fits LINE's 300-character postback). */
export function intentKey(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * An intent key derived from what the button is about (`'rollback', deployId`), in the same
 * shape as intentKey(): the same button sent twice (a retried task) carries the same key, so
 * a tap on either copy starts the one execution.
 */
export function intentKeyOf(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 12);
}

/**
 * The approval id for a task token: `a` and 132 bits of its SHA-256, URL-safe. Deterministic,
 * so a retried `request-approval` finds the approval it already made; one-way, so the id on a
 * card reveals nothing of the token. The leading letter keeps ids from starting with `-`,
 * which command lines (the CLI, shells) would take for an option.
 */
export function approvalIdForToken(taskToken: string): string {
  return `a${createHash('sha256').update(taskToken).digest('base64url').slice(0, 22)}`;
}

/** Sortable time-first id: ISO time plus randomness, for audit records and notifications. */
export function timeId(at: Date): string {
  return `${at.toISOString()}#${randomBytes(6).toString('hex')}`;
}

/** Compare two secrets in constant time (lengths are hashed first, so they leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

const NAME_UNSAFE = /[^0-9A-Za-z_-]/g;

/**
 * A Step Functions execution name built from parts of the triggering event: only
 * `[0-9A-Za-z_-]` (CloudWatch-safe), at most 80 characters. Long names keep a hash suffix
 * so distinct events never collide after truncation.
 */
export function executionName(...parts: Array<string | number>): string {
  const name = parts.map((p) => String(p).replace(NAME_UNSAFE, '-')).join('-');
  if (name.length <= 80) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${name.slice(0, 63)}-${hash}`;
}

/** Short stable hash of a string, hex. */
export function shortHash(value: string, length = 12): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}
