import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Config,
  DEFAULT_CONFIG_INPUT,
  disabledWorkflows,
  enabledWorkflows,
  excludesCommitAuthors,
  isWorkflowEnabled,
  loadConfig,
  parseConfig,
  policyFor,
  readSecrets,
  userFor,
  userForEmail,
} from '../../core/config.ts';
import { ConfigError, WorkflowDisabledError } from '../../core/errors.ts';

/** A fresh, mutable copy of the default configuration input. */
function defaults() {
  return structuredClone(DEFAULT_CONFIG_INPUT);
}

function configError(input: unknown): ConfigError {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'signoff-config-'));

describe('parseConfig', () => {
  it('accepts the default configuration and fills in defaults', () => {
    const config = parseConfig(DEFAULT_CONFIG_INPUT);
    expect(Object.keys(config.users)).toEqual(['alice', 'bob', 'carol']);
    expect(config.policies.deploy).toMatchObject({
      approvers: ['bob', 'carol'],
      required: 1,
      allowSelfApproval: false,
      timeoutSeconds: 7 * 24 * 3600,
    });
    expect(config.console.allowRemote).toBe(false);
    expect(config.maxBodyBytes).toBe(1024 * 1024);
  });

  it('names an unknown approver and where it is configured', () => {
    const input = defaults();
    input.policies['support-case'].approvers = ['bob', 'mallory'];
    const error = configError(input);
    expect(error.message).toContain('policies.support-case.approvers: unknown user "mallory" (not in users)');
  });

  it('names an unknown approver in an override by the override path', () => {
    const input = defaults();
    (input.policies.deploy.overrides.prod as Record<string, unknown>).approvers = ['mallory'];
    expect(configError(input).message).toContain(
      'policies.deploy.overrides.prod.approvers: unknown user "mallory"',
    );
  });

  it('names every bad field at once', () => {
    const input = defaults() as Record<string, unknown> & ReturnType<typeof defaults>;
    input.policies['merge-request'].required = 0;
    input.policies.rollback.approvers = ['nobody'];
    input.demo.requester = 'zed';
    input.colour = 'blue';
    const message = configError(input).message;
    expect(message).toContain('policies.merge-request.required');
    expect(message).toContain('policies.rollback.approvers: unknown user "nobody"');
    expect(message).toContain('demo.requester: not in users');
    expect(message).toContain('colour');
  });

  it('refuses a user key with capitals and says what a key may contain', () => {
    const input = { ...defaults(), users: { ...defaults().users, Dave: { name: 'Dave' } } };
    expect(configError(input).message).toContain('a user key is lowercase letters, digits, . _ -');
  });

  it('prefixes the message with the source it came from', () => {
    expect(() => parseConfig({}, '/etc/signoff.json')).toThrow(/^\/etc\/signoff\.json is invalid:/);
  });
});

describe('loadConfig', () => {
  it('uses the default configuration when there is no file and no SIGNOFF_CONFIG', () => {
    expect(loadConfig({}, tempDir())).toEqual(parseConfig(DEFAULT_CONFIG_INPUT));
  });

  it('reads signoff.config.json from the working directory', () => {
    const dir = tempDir();
    const input = defaults();
    input.policies.deploy.required = 2;
    writeFileSync(join(dir, 'signoff.config.json'), JSON.stringify(input));
    expect(loadConfig({}, dir).policies.deploy?.required).toBe(2);
  });

  it('reads the file SIGNOFF_CONFIG points at, relative to the working directory', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'team.json'), JSON.stringify({ ...defaults(), maxBodyBytes: 4096 }));
    expect(loadConfig({ SIGNOFF_CONFIG: 'team.json' }, dir).maxBodyBytes).toBe(4096);
  });

  it('refuses a SIGNOFF_CONFIG that points at a missing file, naming the path', () => {
    const dir = tempDir();
    expect(() => loadConfig({ SIGNOFF_CONFIG: 'missing.json' }, dir)).toThrow(ConfigError);
    expect(() => loadConfig({ SIGNOFF_CONFIG: 'missing.json' }, dir)).toThrow(
      `SIGNOFF_CONFIG points at ${join(dir, 'missing.json')}, which does not exist`,
    );
  });

  it('refuses a file that is not JSON, naming the file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'signoff.config.json'), '{ "users": { ');
    expect(() => loadConfig({}, dir)).toThrow(ConfigError);
    expect(() => loadConfig({}, dir)).toThrow(`${join(dir, 'signoff.config.json')} is not valid JSON`);
  });

  it('refuses an invalid file, naming the file and the field', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'signoff.config.json'), JSON.stringify({ ...defaults(), maxBodyBytes: 10 }));
    expect(() => loadConfig({}, dir)).toThrow(/signoff\.config\.json is invalid:\n {2}maxBodyBytes:/);
  });
});

describe('policyFor', () => {
  const config = parseConfig(DEFAULT_CONFIG_INPUT);

  it('requires two approvals for prod deploys and rollbacks', () => {
    expect(policyFor(config, 'deploy', 'prod').required).toBe(2);
    expect(policyFor(config, 'rollback', 'prod').required).toBe(2);
  });

  it('uses the kind policy for other scopes and without a scope', () => {
    expect(policyFor(config, 'deploy', 'test').required).toBe(1);
    expect(policyFor(config, 'deploy').required).toBe(1);
    expect(policyFor(config, 'merge-request', 'grp/app')).toEqual({
      approvers: ['bob', 'carol'],
      required: 1,
      allowSelfApproval: false,
      timeoutSeconds: 7 * 24 * 3600,
    });
  });

  it('does not return the overrides themselves', () => {
    expect(policyFor(config, 'deploy', 'prod')).not.toHaveProperty('overrides');
  });

  it('keeps the kind settings an override does not mention', () => {
    const input = defaults();
    input.policies.deploy = {
      approvers: ['bob', 'carol'],
      required: 1,
      allowSelfApproval: true,
      timeoutSeconds: 3600,
      overrides: { prod: { required: 2 } },
    } as typeof input.policies.deploy;
    const prod = policyFor(parseConfig(input), 'deploy', 'prod');
    expect(prod).toEqual({
      approvers: ['bob', 'carol'],
      required: 2,
      allowSelfApproval: true,
      timeoutSeconds: 3600,
    });
  });

  it('replaces the approvers when an override names them', () => {
    const input = defaults();
    (input.policies.deploy.overrides.prod as Record<string, unknown>).approvers = ['carol'];
    expect(policyFor(parseConfig(input), 'deploy', 'prod')).toMatchObject({
      approvers: ['carol'],
      required: 2,
    });
  });
});

describe('excludeCommitAuthors', () => {
  it('is on for merge requests unless set to false, per project too', () => {
    const input = defaults() as { policies: Record<string, Record<string, unknown>> };
    input.policies['merge-request'] = {
      approvers: ['bob', 'carol'],
      overrides: { 'lab/sandbox': { excludeCommitAuthors: false } },
    };
    const config = parseConfig(input);
    expect(excludesCommitAuthors(policyFor(config, 'merge-request', 'platform/app'))).toBe(true);
    expect(excludesCommitAuthors(policyFor(config, 'merge-request', 'lab/sandbox'))).toBe(false);
  });

  it('is refused on kinds that have no commit authors, naming the field', () => {
    const input = defaults() as { policies: Record<string, Record<string, unknown>> };
    input.policies.deploy = { ...input.policies.deploy, excludeCommitAuthors: true };
    (input.policies.rollback as { overrides: Record<string, Record<string, unknown>> }).overrides.prod = {
      excludeCommitAuthors: false,
    };
    const message = configError(input).message;
    expect(message).toContain(
      'policies.deploy.excludeCommitAuthors: only merge-request policies have commit authors',
    );
    expect(message).toContain('policies.rollback.overrides.prod.excludeCommitAuthors');
  });
});

describe('userForEmail', () => {
  const input = defaults() as { users: Record<string, Record<string, unknown>> };
  input.users.bob = { name: 'Bob', gitlab: 'bob', email: 'bob@example.com' };
  const config = parseConfig(input);

  it('finds a user by email, whatever its case', () => {
    expect(userForEmail(config, 'Bob@Example.COM')).toBe('bob');
  });

  it('finds nobody for an unknown or empty address', () => {
    expect(userForEmail(config, 'eve@example.com')).toBeUndefined();
    expect(userForEmail(config, '')).toBeUndefined();
  });
});

describe('userFor', () => {
  const input = defaults();
  (input.users.carol as Record<string, string>).console = 'carol.c';
  (input.users.carol as Record<string, string>).lark = 'ou_carol';
  const config: Config = parseConfig(input);

  it('finds a user by platform identity', () => {
    expect(userFor(config, 'gitlab', 'bob')).toBe('bob');
    expect(userFor(config, 'lark', 'ou_carol')).toBe('carol');
  });

  it('uses the user key as the console identity unless one is configured', () => {
    expect(userFor(config, 'console', 'alice')).toBe('alice');
    expect(userFor(config, 'console', 'carol.c')).toBe('carol');
    expect(userFor(config, 'console', 'carol')).toBeUndefined();
  });

  it('returns undefined for an unknown identity or a platform the user is not on', () => {
    expect(userFor(config, 'gitlab', 'mallory')).toBeUndefined();
    expect(userFor(config, 'slack', 'bob')).toBeUndefined();
  });
});

describe('readSecrets', () => {
  it('reads the GitLab settings and treats empty values as unset', () => {
    expect(readSecrets({ GITLAB_WEBHOOK_TOKEN: 's3cret', GITLAB_URL: '', GITLAB_TOKEN: undefined })).toEqual({
      gitlabWebhookToken: 's3cret',
      gitlabUrl: undefined,
      gitlabToken: undefined,
    });
  });
});

describe('workflows without a policy', () => {
  /** The default configuration with only the named policies. */
  function only(...kinds: Array<keyof typeof DEFAULT_CONFIG_INPUT.policies>) {
    const input = defaults();
    input.policies = Object.fromEntries(
      kinds.map((kind) => [kind, input.policies[kind]]),
    ) as typeof input.policies;
    return parseConfig(input);
  }

  it('accepts a configuration with only a merge-request policy, and disables every other kind', () => {
    const config = only('merge-request');
    expect(enabledWorkflows(config)).toEqual(['merge-request']);
    expect(disabledWorkflows(config)).toEqual(['deploy', 'rollback', 'support-case', 'release']);
    expect(isWorkflowEnabled(config, 'deploy')).toBe(false);
  });

  it('says "the <kind> workflow is not set up here" when a disabled kind\'s policy is asked for', () => {
    const config = only('merge-request');
    expect(() => policyFor(config, 'support-case')).toThrow(WorkflowDisabledError);
    expect(() => policyFor(config, 'deploy', 'prod')).toThrow('the deploy workflow is not set up here');
    expect(policyFor(config, 'merge-request').approvers).toEqual(['bob', 'carol']);
  });

  it("enables releases with deploy's policy (without its overrides) when there is no release policy", () => {
    const config = only('deploy');
    expect(isWorkflowEnabled(config, 'release')).toBe(true);
    expect(policyFor(config, 'release', 'prod').required).toBe(1);
    expect(isWorkflowEnabled(only('merge-request'), 'release')).toBe(false);
  });

  it('still checks the approvers of the policies that are there', () => {
    const input = defaults();
    input.policies = { deploy: { approvers: ['dave'], required: 1, overrides: {} } } as never;
    expect(configError(input).message).toContain('policies.deploy.approvers: unknown user "dave"');
  });

  it('accepts a $schema key (for editors) and nothing else unknown', () => {
    expect(
      parseConfig({ ...defaults(), $schema: './docs/signoff.config.schema.json' }).users.bob,
    ).toBeDefined();
    expect(configError({ ...defaults(), schema: 'x' }).message).toContain('schema');
  });
});
