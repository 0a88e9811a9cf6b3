import { randomBytes } from 'node:crypto';
import { aslError } from './errors.ts';
import type { JsonObject } from './resources.ts';

/** 256 random bits, URL-safe. */
export function newToken(): string {
  return `sfo1.${randomBytes(32).toString('base64url')}`;
}

/** ASL error name and Lambda-shaped cause for an error thrown by a function. */
export function describeFailure(error: unknown): { error: string; cause: string } {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  return {
    error: name && name !== 'Error' ? name : 'States.TaskFailed',
    cause: JSON.stringify({ errorMessage: message, errorType: name || 'Error' }),
  };
}

/** A task's TimeoutSeconds/HeartbeatSeconds, fixed or read through its `…Path` (state input first, then task input). */
export function resolveSeconds(
  state: JsonObject,
  field: string,
  rawInput: unknown,
  input: unknown,
): number | undefined {
  const fixed = state[field];
  if (typeof fixed === 'number') return fixed;
  const path = state[`${field}Path`];
  if (typeof path !== 'string') return undefined;
  const value = readPath(rawInput, path) ?? readPath(input, path);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw aslError('States.Runtime', `${field}Path ${path} must point to a positive integer`);
  }
  return value;
}

/** Reads a simple JSONPath (`$.a.b[0]`) from a value. */
export function readPath(value: unknown, path: string): unknown {
  if (!path.startsWith('$')) return undefined;
  const parts = path.slice(1).match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]/g) ?? [];
  let node = value;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return undefined;
    const key = part.startsWith('.')
      ? part.slice(1)
      : part.startsWith("['")
        ? part.slice(2, -2)
        : Number(part.slice(1, -1));
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
