import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../local/engine/engine.ts';
import { fixture, machineArn, tempDir } from './helpers.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** An Engine on a fresh data dir whose wait-for-token function hands the tokens to the test. */
function engineWithTokens(): { engine: Engine; tokens: string[] } {
  const dataDir = tempDir();
  const tokens: string[] = [];
  const engine = Engine.create({
    dataDir,
    accountId: '123456789012',
    region: 'us-east-1',
    stateMachines: [{ name: 'approval', definition: fixture('approval') }],
    invokeFunction: async (_name, payload) => {
      const token = (payload as { taskToken?: unknown }).taskToken;
      if (typeof token === 'string') tokens.push(token);
      return { received: true };
    },
    log: () => {},
  });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => engine.close());
  return { engine, tokens };
}

describe('Engine', () => {
  it('keeps only the summary of a closed execution in memory: no run, no history, no token entry', async () => {
    const { engine, tokens } = engineWithTokens();
    const machine = engine.machines.get(machineArn('approval'));
    if (!machine) throw new Error('approval machine missing');
    const exec = await engine.startExecution(
      machine,
      'closes',
      JSON.stringify({ id: 'closes', timeoutSeconds: 600 }),
    );
    await engine.idle();
    expect(exec.live).toBeDefined();
    const [token] = tokens;
    if (!token) throw new Error('no task token handed out');

    await engine.sendTaskSuccess(token, '{"approved":true}');
    await engine.idle();

    expect(exec).toMatchObject({ status: 'SUCCEEDED', events: [], live: undefined });
    expect(exec.output).toBeDefined();
    // The full history is read back from the archive, and the old token still gets a clear answer.
    expect(engine.history(exec).at(-1)?.type).toBe('ExecutionSucceeded');
    await expect(engine.sendTaskSuccess(token, '{}')).rejects.toMatchObject({ code: 'TaskDoesNotExist' });
  });
});
