import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createLocalEngine, type LocalEngine, type LocalEngineOptions } from '../../../local/engine/index.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
const FIXTURES = join(import.meta.dirname, '../../fixtures/asl');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, `${name}.asl.json`), 'utf8');
}

export function machineArn(name: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
}

export const MACHINES = [
  { name: 'approval', definition: fixture('approval') },
  { name: 'heartbeat', definition: fixture('heartbeat') },
  { name: 'direct', definition: fixture('direct') },
];

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'signoff-engine-'));
}

export function sfnClient(endpoint: string): SFNClient {
  return new SFNClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

export interface Invocation {
  functionName: string;
  payload: Record<string, unknown>;
}

/** In-process functions for the fixtures; behaviour is driven by the execution input. */
export function fakeFunctions() {
  const invocations: Invocation[] = [];
  const failuresLeft = new Map<string, number>();
  const invokeFunction = async (functionName: string, payload: unknown): Promise<unknown> => {
    const body = (payload ?? {}) as Record<string, unknown>;
    invocations.push({ functionName, payload: body });
    const request = (body.request ?? {}) as Record<string, unknown>;
    if (functionName === 'execute-change') {
      const key = String(request.id);
      const left = failuresLeft.get(key) ?? Number(request.failTimes ?? 0);
      if (left > 0) {
        failuresLeft.set(key, left - 1);
        throw namedError('TransientError', 'try again');
      }
      if (request.permanent) throw namedError('PermanentError', 'cannot do it');
      if (request.plain) throw new Error('plain failure');
      return { done: true, id: request.id };
    }
    return { received: true };
  };
  const tokens = (functionName = 'request-approval'): string[] =>
    invocations
      .filter((call) => call.functionName === functionName)
      .map((call) => String(call.payload.taskToken));
  return { invocations, invokeFunction, tokens };
}

export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export interface TestEngine {
  engine: LocalEngine;
  client: SFNClient;
  url: string;
  dir: string;
  close(): Promise<void>;
}

export async function startEngine(
  overrides: Partial<LocalEngineOptions> & Pick<LocalEngineOptions, 'invokeFunction'>,
): Promise<TestEngine> {
  const dir = overrides.dataDir ?? tempDir();
  const engine = await createLocalEngine({ dataDir: dir, stateMachines: MACHINES, ...overrides });
  const url = await engine.listen(0);
  const client = sfnClient(url);
  return {
    engine,
    client,
    url,
    dir,
    async close() {
      client.destroy();
      await engine.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls until `check` returns a value (not undefined); for waits that are not idle() points. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The name of the error a call is refused with (`no error` when it succeeds). */
export async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).name;
  }
  return 'no error';
}
