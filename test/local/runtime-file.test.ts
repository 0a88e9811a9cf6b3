import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const started: TestRuntime[] = [];
afterAll(async () => {
  for (const rt of started) await rt.stop();
});

describe('runtime.json and the operator token', () => {
  it('writes runtime.json (0600) with an operator token that acts as console.operator on a real configuration', async () => {
    const config = parseConfig({ ...structuredClone(DEFAULT_CONFIG_INPUT), console: { operator: 'carol' } });
    const rt = await startTestRuntime(config, undefined, {}, { demo: false });
    started.push(rt);
    const path = join(rt.dataDir, 'runtime.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(rt.dataDir, 'session-key')).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, 'utf8')) as {
      app: string;
      operator: { token: string; user: string };
    };
    expect(file.app).toBe(rt.urls.app);
    expect(file.operator.user).toBe('carol');
    expect(file.operator.token.length).toBeGreaterThanOrEqual(43);
    const api = `${rt.urls.app}/console/api/notifications?user=bob`;
    expect((await fetch(api)).status).toBe(401);
    const withToken = await fetch(api, { headers: { authorization: `Bearer ${file.operator.token}` } });
    expect(withToken.status).toBe(200);
    // The token's user, not the one asked for, and no actor field makes a token someone else.
    const command = await fetch(`${rt.urls.app}/console/api/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${file.operator.token}` },
      body: JSON.stringify({ actor: 'bob', text: 'help' }),
    });
    expect(command.status).toBe(200);
    await rt.stop();
    started.pop();
    expect(() => statSync(path)).toThrow();
  });

  it('issues no operator token on a real configuration that names no operator', async () => {
    const rt = await startTestRuntime(parseConfig(DEFAULT_CONFIG_INPUT), undefined, {}, { demo: false });
    started.push(rt);
    const file = JSON.parse(readFileSync(join(rt.dataDir, 'runtime.json'), 'utf8')) as { operator?: unknown };
    expect(file.operator).toBeUndefined();
    expect(rt.operator).toBeUndefined();
    const response = await fetch(`${rt.urls.app}/console/api/approvals`, {
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(401);
  });
});
