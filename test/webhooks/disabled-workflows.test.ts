import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { type GitLabFake, startGitLabFake } from '../../local/demo/gitlab.ts';
import { runCommand } from '../../webhooks/commands/index.ts';
import type { AppDeps } from '../../webhooks/deps.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { openedMergeRequest } from '../support/runtime.ts';

/** A team that only wants support cases approved: no merge-request, deploy, rollback or release policy. */
const config = parseConfig({
  ...DEFAULT_CONFIG_INPUT,
  policies: { 'support-case': DEFAULT_CONFIG_INPUT.policies['support-case'] },
});

/** Languages remembered by the commands (every recognised command keeps its writer's language). */
const remembered: string[] = [];

/**
 * App deps with only the configuration (and remembering the writer's language): a command that
 * reached for anything else would throw.
 */
const configOnly = new Proxy({ config } as AppDeps, {
  get(target, key) {
    if (key === 'config') return target.config;
    if (key === 'signoff')
      return new Proxy(
        {},
        {
          get(_signoff, name) {
            if (name === 'rememberLanguage')
              return async (user: string, language: string) => void remembered.push(`${user}:${language}`);
            throw new Error(`the command used deps.signoff.${String(name)}`);
          },
        },
      );
    throw new Error(`the command used deps.${String(key)}`);
  },
});

const bob = { platform: 'console' as const, id: 'bob', name: 'Bob' };

describe('chat commands of a workflow without a policy', () => {
  it.each([
    ['deploy prod', 'deploy'],
    ['rollback', 'rollback'],
    ['release web', 'release'],
    ['rollback release web', 'release'],
    ['デプロイ prod', 'deploy'],
  ])('answers "%s" with "the %s workflow is not set up here"', async (text, kind) => {
    const notice = await runCommand(configOnly, { user: 'bob', chatUser: bob, text });
    expect(notice.text).toBe(`the ${kind} workflow is not set up here`);
    expect(remembered.at(-1)).toBe(text.startsWith('デプロイ') ? 'bob:ja' : 'bob:en');
  });

  it('still answers the commands of the workflows that are set up, and help', async () => {
    const help = await runCommand(configOnly, { user: 'bob', chatUser: bob, text: 'help' });
    expect(help.text).toContain('support case');
    await expect(
      runCommand(configOnly, { user: 'bob', chatUser: bob, text: 'support case\nsubject: disk' }),
    ).rejects.toThrow('the command used deps.');
  });
});

describe('POST /webhooks/gitlab without a merge-request policy', () => {
  let web: TestApp;
  let gitlab: GitLabFake;
  beforeAll(async () => {
    gitlab = await startGitLabFake();
    web = await startTestApp({ config });
  });
  afterAll(async () => {
    await web.close();
    await gitlab.close();
  });

  it('ignores a merge request event with 202 (not an error GitLab counts) and starts nothing', async () => {
    const response = await web.postGitLab(openedMergeRequest(gitlab, 1).hook);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ignored: 'the merge-request workflow is not set up here' });
    expect(web.started).toEqual([]);
  });
});
