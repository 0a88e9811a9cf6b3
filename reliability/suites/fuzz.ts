import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';

export interface Attempt {
  status: number;
  json: boolean;
}

export async function send(request: () => Promise<Response>): Promise<Attempt> {
  const response = await request();
  const text = await response.text();
  let json = false;
  try {
    json = typeof (JSON.parse(text) as { error?: { message?: unknown } }).error?.message === 'string';
  } catch {
    json = false;
  }
  return { status: response.status, json };
}

/** Tally of a fuzz run: 4xx with a JSON error is right; anything else is counted. */
export class Tally {
  tried = 0;
  rejected = 0;
  fiveXX = 0;
  accepted = 0;
  /** The first few requests that were not refused, to say what slipped through. */
  examples: string[] = [];
  /** Well-signed requests answered 200 on purpose (clicks on decided approvals, unknown events), by reason. */
  private readonly acknowledged = new Map<string, number>();
  /** A request that had to be refused: right when it is a 4xx with a JSON error. */
  add(attempt: Attempt, what?: unknown): void {
    this.tried++;
    if (attempt.status >= 500) this.fiveXX++;
    else if (attempt.status >= 400 && attempt.json) this.rejected++;
    else this.accepted++;
    if (attempt.status < 400 && what !== undefined)
      this.examples.push(`${attempt.status} for ${JSON.stringify(what).slice(0, 160)}`);
  }
  /** A request answered without effect on purpose; its effects are counted by the caller. */
  acknowledge(reason: string): void {
    this.tried++;
    this.acknowledged.set(reason, this.count(reason) + 1);
  }
  count(reason: string): number {
    return this.acknowledged.get(reason) ?? 0;
  }
  /** `; not refused: …` when something slipped through, else nothing. */
  slipped(): string {
    return this.examples.length ? `; not refused: ${this.examples.slice(0, 3).join(' | ')}` : '';
  }
}

/** JSON nested `depth` levels deep: `{"events":[[[…]]]}`. */
export function deepJson(depth: number): string {
  return `{"events":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

/** `text` as UTF-8 with one byte replaced by one that can never occur in UTF-8 (0xff). */
export function invalidUtf8(text: string, at: number): Buffer {
  const bytes = Buffer.from(text);
  bytes[Math.min(at, bytes.length - 1)] = 0xff;
  return bytes;
}

/** Lark's encryption (platforms.md §1) of raw bytes, which may not be UTF-8. */
export function larkEncryptBytes(bytes: Buffer, encryptKey: string): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(bytes), cipher.final()]).toString('base64');
}

export type Shape = 'string' | 'object' | 'array';

/** A value of the wrong type for a field of type `shape` (never a value of that type). */
export function wrongValue(shape: Shape) {
  return fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    ...(shape === 'string' ? [] : [fc.string({ maxLength: 20 })]),
    ...(shape === 'array' ? [] : [fc.array(fc.integer(), { maxLength: 3 })]),
  );
}

/** One field of a payload and a value of the wrong type for it. */
export function wrongField(fields: Record<string, Shape>) {
  return fc
    .constantFrom(...Object.keys(fields))
    .chain((field) => wrongValue(fields[field] as Shape).map((value) => ({ field, value })));
}
