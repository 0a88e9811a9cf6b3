import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { startSignoff } from '../../local/start.ts';
import {
  decideAs,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  WEBHOOK_TOKEN,
} from '../support/runtime.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signoff-at-rest-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every path under `dir` (itself included) whose mode is not 0700 for a directory or 0600 for a file. */
function looseModes(dir: string): string[] {
  const loose: string[] = [];
  const walk = (path: string) => {
    const stat = statSync(path);
    const mode = stat.mode & 0o777;
    if (stat.isDirectory()) {
      if (mode !== 0o700) loose.push(`${path} ${mode.toString(8)}`);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if (mode !== 0o600) {
      loose.push(`${path} ${mode.toString(8)}`);
    }
  };
  walk(dir);
  return loose;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('data at rest', () => {
  it('keeps every directory 0700 and every file 0600, and tightens a data dir an older Signoff left 0755', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'notes.txt'), 'left by an older version');
    chmodSync(join(dir, 'notes.txt'), 0o644);

    const rt = await startTestRuntime(undefined, dir);
    let running = true;
    cleanups.push(() => (running ? rt.stop() : undefined));
    const { hook } = openedMergeRequest(rt.gitlab, 1);
    const started = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, started.executionArn);
    expect((await decideAs(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, started.executionArn)).toBe('SUCCEEDED');

    // Everything that holds a token or a decision was written: the journal, a closed
    // execution's history, DynamoDB's LevelDB files, the locks.
    const written = files(dir);
    for (const path of ['signoff.lock', 'engine/LOCK', 'engine/journal.ndjson', 'engine/history/1.json'])
      expect(written).toContain(path);
    expect(written.some((path) => path.startsWith('dynamodb/') && path.endsWith('.log'))).toBe(true);
    expect(looseModes(dir)).toEqual([]);

    running = false;
    await rt.stop();
    expect(looseModes(dir)).toEqual([]);
  });

  it('refuses to start on a journal with a corrupt line in the middle, naming the file and the line', async () => {
    const dir = tempDir();
    const rt = await startTestRuntime(undefined, dir);
    const { hook } = openedMergeRequest(rt.gitlab, 1);
    const started = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    await pendingFor(rt, started.executionArn);
    await rt.stop();
    const journal = join(dir, 'engine', 'journal.ndjson');
    const lines = readFileSync(journal, 'utf8').split('\n');
    expect(lines.length).toBeGreaterThan(3);
    lines[1] = '{"k":"e","x":1,"e":{"id":2,"type":"Pass';
    writeFileSync(journal, lines.join('\n'));

    await expect(startTestRuntime(undefined, dir)).rejects.toThrow(
      `${journal} line 2 is not a journal record, so the local engine cannot recover its executions. Move the file aside (mv ${journal} ${journal}.corrupt)`,
    );
    // Nothing was left holding the directory, and the journal is as it was.
    expect(existsSync(join(dir, 'signoff.lock'))).toBe(false);
    expect(existsSync(join(dir, 'engine', 'LOCK'))).toBe(false);
    expect(readFileSync(journal, 'utf8')).toBe(lines.join('\n'));
  });

  it('stops taking work, with the reason on every request, once the engine journal cannot be written', async () => {
    const dir = tempDir();
    let full = false;
    const errors: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const signoff = await startSignoff({
      dataDir: dir,
      host: '127.0.0.1',
      ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0 },
      env: { GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN },
      config: parseConfig(DEFAULT_CONFIG_INPUT),
      redeliverEveryMs: 0,
      journalWriteSync: (fd, buffer, offset) => {
        if (!full) return writeSync(fd, buffer, offset);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      log: (level, message, fields) => {
        if (level === 'error') errors.push({ message, fields });
      },
    });
    cleanups.push(() => signoff.close());
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: signoff.urls.sfn,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    cleanups.push(() => sfn.destroy());
    expect((await fetch(`${signoff.urls.app}/healthz`)).status).toBe(200);

    full = true;
    const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }))).rejects.toThrow(
      'the local engine stopped taking work',
    );
    const reason = `cannot write ${join(dir, 'engine', 'journal.ndjson')} (ENOSPC)`;
    expect(errors).toEqual([
      {
        message: 'signoff stopped taking work: the engine journal cannot be written',
        fields: { error: expect.stringContaining(reason) },
      },
    ]);
    for (const response of [
      await fetch(`${signoff.urls.app}/healthz`),
      await postGitLab(signoff.urls.app, { object_kind: 'merge_request' }),
    ]) {
      expect(response.status).toBe(503);
      const body = await json<{ error: { code: string; message: string } }>(response);
      expect(body.error.code).toBe('Unavailable');
      expect(body.error.message).toContain(reason);
    }
  });
});
