import type { Context } from 'hono';
import { z } from 'zod';
import { InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../core/errors.ts';

/** Read a JSON request's raw body (see readRawBody). */
export function readRawJsonBody(c: Context, maxBytes: number): Promise<string> {
  return readRawBody(c, maxBytes, ['application/json']);
}

/**
 * Read a request's raw body once, within `maxBytes`, as text (signatures are checked on it
 * before anything is parsed). Rejects other content types, oversized and non-UTF-8 bodies.
 */
export async function readRawBody(
  c: Context,
  maxBytes: number,
  contentTypes: string[] = ['application/json'],
): Promise<string> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!contentTypes.includes(type)) {
    throw new UnsupportedMediaTypeError(`expected content-type ${contentTypes.join(' or ')}`);
  }
  const length = c.req.header('content-length');
  const declared = Number(length ?? '0');
  if (declared > maxBytes) throw new PayloadTooLargeError(`body larger than ${maxBytes} bytes`);
  // With a declared length within the limit, HTTP framing caps the body: read it in one go
  // (the server's fast path). Without one (chunked), count while streaming.
  if (length !== undefined && /^\d+$/.test(length))
    return decodeUtf8(new Uint8Array(await c.req.arrayBuffer()));
  const body = c.req.raw.body;
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PayloadTooLargeError(`body larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return decodeUtf8(Buffer.concat(chunks));
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new InvalidInputError('body is not valid UTF-8');
  }
}

/** Parse JSON text, or a 400 that says so. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError('body is not valid JSON');
  }
}

/** A zod error's issues as `z.prettifyError` words them: each message, then the field it is at. */
export function describeIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string {
  return z.prettifyError({ issues });
}
