import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { LANGUAGES } from './commands.ts';
import { DurationText } from './durations.ts';
import { ConfigError, WorkflowDisabledError } from './errors.ts';

export const WORKFLOW_KINDS = ['merge-request', 'deploy', 'rollback', 'support-case', 'release'] as const;
export type WorkflowKind = (typeof WORKFLOW_KINDS)[number];

/** Where a person acts; `system` is Signoff itself (timeouts, cancellations it observed). */
export const PLATFORMS = ['console', 'gitlab', 'lark', 'line', 'slack', 'dingtalk', 'system'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The platforms a configured user has an identity on: all but `system`. */
export const USER_PLATFORMS = PLATFORMS.filter((p): p is Exclude<Platform, 'system'> => p !== 'system');
export type UserPlatform = (typeof USER_PLATFORMS)[number];

/** The chat platforms: cards go there, to each approver or to a policy's group chats. */
export const CHAT_PLATFORMS = USER_PLATFORMS.filter(
  (p): p is Exclude<UserPlatform, 'console' | 'gitlab'> => p !== 'console' && p !== 'gitlab',
);
export type ChatPlatform = (typeof CHAT_PLATFORMS)[number];

/** The same field for each of `platforms`: `{ lark: field, line: field, … }`. */
function perPlatform<P extends Platform, T extends z.ZodType>(
  platforms: readonly P[],
  field: T,
): Record<P, T> {
  return Object.fromEntries(platforms.map((platform) => [platform, field])) as Record<P, T>;
}

const userKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a user key is lowercase letters, digits, . _ -');

const UserSchema = z
  .object({
    name: z.string().min(1),
    email: z.email().optional(),
    /** Identity on each platform; the console identity defaults to the user key. */
    ...perPlatform(USER_PLATFORMS, z.string().min(1).optional()),
    /**
     * The language this person reads cards, buttons, notices and refusals in; absent: the
     * language of their last chat command, else the top-level `language`.
     */
    language: z.enum(LANGUAGES).optional(),
    /**
     * The AWS IAM principals that are this person when they run the `signoff` CLI against AWS:
     * ARNs as STS GetCallerIdentity returns them, `*` matching any run of characters, e.g.
     * `arn:aws:sts::123456789012:assumed-role/Deployer/bob@example.com` or
     * `arn:aws:iam::123456789012:user/bob*`.
     */
    aws: z
      .array(
        z
          .string()
          .max(2048)
          .regex(
            /^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):/,
            'an IAM or STS ARN (pattern), e.g. arn:aws:iam::123456789012:user/bob',
          ),
      )
      .min(1)
      .optional(),
  })
  .strict();

/** The policy settings without defaults, so an override can name only what it changes. */
const policyFields = {
  /** User keys (from `users`) allowed to approve. */
  approvers: z.array(userKey).min(1),
  /** How many distinct approvals complete the request. */
  required: z.number().int().min(1).max(10),
  /** Four-eyes: the requester may not approve their own request unless this is true. */
  allowSelfApproval: z.boolean(),
  /**
   * Merge requests only. Four-eyes on everyone who wrote the change: whoever authored, committed
   * or pushed a commit of the merge request may not approve it. Unset means on (like GitLab's
   * "prevent approvals by users who add commits"); `false` turns it off.
   */
  excludeCommitAuthors: z.boolean().optional(),
  /**
   * How a decision is made. Unset (or `chat`): a chat click decides. `signed-in`: the chat
   * button opens the console's confirmation page and only an approver signed in with the
   * identity provider (its MFA applies) decides there — for prod deploys, rollbacks, urgent
   * support cases. Needs `console.oidc` and `console.publicUrl`.
   */
  confirm: z.enum(['chat', 'signed-in']).optional(),
  /**
   * With `confirm: "signed-in"`: how recently the person must have signed in with the identity
   * provider (its `auth_time`) for the confirmation to count, e.g. `"15m"` (the default). Older
   * sessions are sent to the provider again (`max_age=0`: a fresh sign-in, with its MFA).
   */
  confirmWithin: DurationText.optional(),
  /** How long a request waits before it expires. */
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(365 * 24 * 3600),
  /**
   * Group chats that receive the cards instead of each approver directly, per platform
   * (e.g. `{ "lark": ["oc_…"] }`); anyone in `approvers` may click there.
   */
  chats: z
    .object(perPlatform(CHAT_PLATFORMS, z.array(z.string().min(1)).optional()))
    .strict()
    .optional(),
  /** Remind the approvers who have not voted this long after the request (`["30m", "2h"]`; docs/reminders.md). */
  remind: z.array(DurationText).min(1).max(10).optional(),
  /** This long after the request, add the members of these `groups` as approvers (their cards, the audit, the requester told). */
  escalate: z
    .object({ after: DurationText, to: z.array(z.string().min(1).max(64)).min(1).max(10) })
    .strict()
    .optional(),
};

const PolicySchema = z
  .object({
    ...policyFields,
    required: policyFields.required.default(1),
    allowSelfApproval: policyFields.allowSelfApproval.default(false),
    timeoutSeconds: policyFields.timeoutSeconds.default(7 * 24 * 3600),
  })
  .strict();

// No defaults here: zod 4 applies defaults inside optional fields, and a defaulted field in an
// override would silently replace the kind's own setting in policyFor().
const PolicyOverrideSchema = z.object(policyFields).partial().strict();

const KindPolicySchema = PolicySchema.extend({
  /** Per environment (deploy, rollback) or per GitLab project path (merge-request) overrides. */
  overrides: z.record(z.string(), PolicyOverrideSchema).default({}),
}).strict();

/** Which Lambda functions a deploy moves: listed names, plus every function matching prefix and tag. */
const DeployFunctionsSchema = z
  .object({
    names: z.array(z.string().min(1).max(140)).optional(),
    prefix: z.string().min(1).max(140).optional(),
    tag: z
      .object({ key: z.string().min(1).max(128), value: z.string().max(256) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((f) => f.names?.length || f.prefix || f.tag, 'name at least one of names, prefix or tag');

/**
 * Deploys promote Lambda aliases along a chain of environments (one alias per environment):
 * deploying to `test` moves each function's `test` alias to the version its `dev` alias points at.
 */
const DeploySchema = z
  .object({
    /** The chain, source first: every environment but the first is a deploy target. */
    environments: z
      .array(
        z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an environment is an alias name: letters, digits, _ -'),
      )
      .min(2)
      .refine((envs) => new Set(envs).size === envs.length, 'environments must be distinct'),
    functions: DeployFunctionsSchema,
  })
  .strict();

/**
 * A GitLab pipeline Signoff runs after approval (docs/release.md): the project, the ref it runs on,
 * and the CI variables it passes besides SIGNOFF_SHA and SIGNOFF_APPROVAL_ID.
 */
const ReleaseSchema = z
  .object({
    /** Project path (`group/app`) or numeric id. */
    project: z.union([
      z.string().regex(/^[\w.-]+(\/[\w.-]+)+$/, 'a project path: group/app'),
      z.number().int().positive(),
    ]),
    /** Branch or tag the pipeline runs on (GitLab's `ref`; a sha is not accepted there). */
    ref: z.string().min(1).max(255).default('main'),
    variables: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'a CI variable name'),
        z.string().max(10_000),
      )
      .default({})
      .refine(
        (v) => !Object.keys(v).some((k) => k.startsWith('SIGNOFF_')),
        'SIGNOFF_* variables are set by Signoff',
      ),
    /** How long the pipeline may run before the release fails (Signoff.PipelineTimeout). */
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(6 * 3600),
  })
  .strict();

/** A release name: what `release <name>` is typed with. */
export const RELEASE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const DEFAULT_DEPLOY = { environments: ['dev', 'test', 'prod'], functions: { prefix: 'demo-' } };

export const ConfigSchema = z
  .object({
    users: z.record(userKey, UserSchema),
    /**
     * The language of group chats' cards, and of people with no `users.<key>.language` who have
     * not written a chat command yet.
     */
    language: z.enum(LANGUAGES).default('en'),
    /** Where editors find this file's JSON Schema (docs/signoff.config.schema.json); not read by Signoff. */
    $schema: z.string().optional(),
    /**
     * One policy per workflow kind the team uses; a kind without one is disabled (nothing starts
     * it, and the command that would says so).
     */
    policies: z
      .object({
        'merge-request': KindPolicySchema.optional(),
        deploy: KindPolicySchema.optional(),
        rollback: KindPolicySchema.optional(),
        'support-case': KindPolicySchema.optional(),
        /** Releases (GitLab pipelines); absent: deploy's approvers, required count and timeout. */
        release: KindPolicySchema.optional(),
      })
      .strict(),
    /** Named groups of users (`"sre-oncall": ["dave", "erin"]`), for a policy's `escalate.to`. */
    groups: z.record(z.string().min(1).max(64), z.array(userKey).min(1).max(100)).default({}),
    /** GitLab pipelines released from chat, by name (docs/release.md). */
    releases: z
      .record(z.string().regex(RELEASE_NAME, 'a release name is letters, digits, _ -'), ReleaseSchema)
      .default({}),
    /** Deploy and rollback of Lambda aliases (docs/deploy.md). */
    deploy: DeploySchema.default(DEFAULT_DEPLOY),
    /** Who the console's demo actions (simulate a merge request) act as. */
    demo: z.object({ requester: userKey }).strict().default({ requester: 'alice' }),
    console: z
      .object({
        /** Serve /console to non-loopback clients (a real configuration: people sign in). */
        allowRemote: z.boolean().default(false),
        /**
         * Where people reach the console (`https://signoff.example.com`): its host joins the Host
         * allowlist beside the loopback names, and sign-in's redirect URI is built on it.
         */
        publicUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Addresses of the reverse proxies whose `X-Forwarded-*` headers are believed (none by default). */
        trustedProxies: z.array(z.string().min(1).max(64)).max(32).default([]),
        /** OpenID Connect sign-in (GitLab or any provider); the client secret is SIGNOFF_OIDC_CLIENT_SECRET. */
        oidc: z
          .object({
            issuer: z.url({ protocol: /^https?$/ }),
            clientId: z.string().min(1).max(512),
            scopes: z.string().min(1).max(512).default('openid profile email'),
          })
          .strict()
          .optional(),
        /** The user the local runtime's operator token (`<data dir>/runtime.json`) acts as. */
        operator: userKey.optional(),
      })
      .strict()
      .default({ allowRemote: false, trustedProxies: [] }),
    /** AWS Support cases (workflows/support-case.ts): the language cases are written in, their issue type. */
    support: z
      .object({
        language: z.enum(['en', 'zh', 'ja', 'ko']).default('en'),
        issueType: z.enum(['technical', 'customer-service']).default('technical'),
      })
      .strict()
      .default({ language: 'en', issueType: 'technical' }),
    /** How chats behave where their buttons cannot do everything (docs/line.md). */
    chat: z
      .object({
        /**
         * After Reject on LINE (whose buttons carry no typed text), how long the person's next
         * text that is not a command is taken as the reason (`5m`, `30s`; docs/line.md).
         */
        reasonWindow: DurationText.default('5m'),
      })
      .strict()
      .default({ reasonWindow: '5m' }),
    /** Largest webhook body accepted, in bytes. */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(1024 * 1024),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const [group, members] of Object.entries(config.groups))
      for (const member of members)
        if (!(member in config.users))
          ctx.addIssue({
            code: 'custom',
            path: ['groups', group],
            message: `unknown user "${member}" (not in users)`,
          });
    for (const [kind, policy] of definedPolicies(config))
      for (const [path, escalate] of [
        [['policies', kind, 'escalate', 'to'], policy.escalate],
        ...Object.entries(policy.overrides).map(
          ([scope, o]) => [['policies', kind, 'overrides', scope, 'escalate', 'to'], o.escalate] as const,
        ),
      ] as const)
        for (const group of escalate?.to ?? [])
          if (!(group in config.groups))
            ctx.addIssue({
              code: 'custom',
              path: [...path],
              message: `unknown group "${group}" (not in groups)`,
            });
    for (const [kind, policy] of definedPolicies(config)) {
      const all = [
        { path: ['policies', kind, 'approvers'], approvers: policy.approvers },
        ...Object.entries(policy.overrides).map(([scope, override]) => ({
          path: ['policies', kind, 'overrides', scope, 'approvers'],
          approvers: override.approvers ?? [],
        })),
      ];
      for (const { path, approvers } of all) {
        for (const approver of approvers) {
          if (!(approver in config.users)) {
            ctx.addIssue({ code: 'custom', path, message: `unknown user "${approver}" (not in users)` });
          }
        }
      }
    }
    // A signed-in confirmation needs somewhere to sign in, and an address a phone can open.
    const { oidc, publicUrl } = config.console;
    for (const [kind, policy] of definedPolicies(config)) {
      const scopes = [
        { path: ['policies', kind], confirm: policy.confirm },
        ...Object.entries(policy.overrides).map(([scope, override]) => ({
          path: ['policies', kind, 'overrides', scope],
          confirm: override.confirm,
        })),
      ];
      for (const { path, confirm } of scopes) {
        if (confirm !== 'signed-in' || (oidc && publicUrl)) continue;
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'confirm'],
          message:
            'confirm "signed-in" needs console.oidc (sign-in) and console.publicUrl (the confirmation link)',
        });
      }
    }
    // Only merge requests have commit authors: the option anywhere else is a mistake.
    for (const [kind, policy] of definedPolicies(config)) {
      if (kind === 'merge-request') continue;
      const scopes = [
        { path: ['policies', kind], set: policy.excludeCommitAuthors },
        ...Object.entries(policy.overrides).map(([scope, override]) => ({
          path: ['policies', kind, 'overrides', scope],
          set: override.excludeCommitAuthors,
        })),
      ];
      for (const { path, set } of scopes) {
        if (set === undefined) continue;
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'excludeCommitAuthors'],
          message: 'only merge-request policies have commit authors',
        });
      }
    }
    if (!(config.demo.requester in config.users)) {
      ctx.addIssue({ code: 'custom', path: ['demo', 'requester'], message: 'not in users' });
    }
    if (config.console.operator && !(config.console.operator in config.users)) {
      ctx.addIssue({ code: 'custom', path: ['console', 'operator'], message: 'not in users' });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ReleaseConfig = z.infer<typeof ReleaseSchema>;

type KindPolicy = z.infer<typeof KindPolicySchema>;

/** The policies the file names, by kind (a kind without one is disabled). */
function definedPolicies(config: {
  policies: Partial<Record<WorkflowKind, KindPolicy>>;
}): Array<[string, KindPolicy]> {
  return Object.entries(config.policies).filter(
    (entry): entry is [string, KindPolicy] => entry[1] !== undefined,
  );
}

/**
 * A kind's policy as configured. Releases without `policies.release` (a configuration written
 * before releases existed) use deploy's, without deploy's per-environment overrides (releases are
 * scoped by name).
 */
function kindPolicy(config: Config, kind: WorkflowKind): KindPolicy | undefined {
  const own = config.policies[kind];
  if (own || kind !== 'release' || !config.policies.deploy) return own;
  return { ...config.policies.deploy, overrides: {} };
}

/** Whether a workflow kind is set up here: it has a policy (releases: their own, or deploy's). */
export function isWorkflowEnabled(config: Config, kind: WorkflowKind): boolean {
  return kindPolicy(config, kind) !== undefined;
}

/** The workflow kinds set up here, in WORKFLOW_KINDS order. */
export function enabledWorkflows(config: Config): WorkflowKind[] {
  return WORKFLOW_KINDS.filter((kind) => isWorkflowEnabled(config, kind));
}

/** The workflow kinds without a policy: disabled. */
export function disabledWorkflows(config: Config): WorkflowKind[] {
  return WORKFLOW_KINDS.filter((kind) => !isWorkflowEnabled(config, kind));
}

export type Policy = z.infer<typeof PolicySchema>;
export type User = z.infer<typeof UserSchema>;
export type DeployConfig = z.infer<typeof DeploySchema>;
export type FunctionSelection = z.infer<typeof DeployFunctionsSchema>;

/** The default local configuration: alice requests, bob and carol approve (two for prod deploys). */
export const DEFAULT_CONFIG_INPUT = {
  users: {
    alice: { name: 'Alice', gitlab: 'alice' },
    bob: { name: 'Bob', gitlab: 'bob' },
    carol: { name: 'Carol', gitlab: 'carol' },
  },
  policies: {
    'merge-request': { approvers: ['bob', 'carol'], required: 1 },
    deploy: { approvers: ['bob', 'carol'], required: 1, overrides: { prod: { required: 2 } } },
    rollback: { approvers: ['bob', 'carol'], required: 1, overrides: { prod: { required: 2 } } },
    'support-case': { approvers: ['bob', 'carol'], required: 1 },
  },
  demo: { requester: 'alice' },
  /** The demo GitLab stand-in's project (local/demo/gitlab-pipelines.ts). */
  releases: { web: { project: 'demo/web', ref: 'main' } },
};

/** The configurations that are the built-in demo one (loadConfig found no file): see isDemoConfig. */
const BUILT_IN_DEMO = new WeakSet<Config>();

/**
 * The built-in demo configuration (alice, bob, carol). Only this object — never one read from a
 * file — puts the console in demo mode, with its loopback "act as" picker.
 */
export function demoConfig(): Config {
  const config = parseConfig(DEFAULT_CONFIG_INPUT, 'the built-in demo configuration');
  BUILT_IN_DEMO.add(config);
  return config;
}

/** Whether this configuration is the built-in demo one (no config file), not a team's own. */
export function isDemoConfig(config: Config): boolean {
  return BUILT_IN_DEMO.has(config);
}

/** Validate a configuration object; the error names every bad field. */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  const result = ConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    // A bad record key (a user key) carries the reason in its nested issues.
    const message =
      issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : issue.message;
    return `  ${path}: ${message}`;
  });
  throw new ConfigError(`${source} is invalid:\n${lines.join('\n')}`);
}

/**
 * Read the configuration once: `SIGNOFF_CONFIG` (a path) if set, else `./signoff.config.json`
 * if present, else the default local configuration.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Config {
  const explicit = env.SIGNOFF_CONFIG;
  const path = resolve(cwd, explicit ?? 'signoff.config.json');
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError(`SIGNOFF_CONFIG points at ${path}, which does not exist`);
    return demoConfig();
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(raw, path);
}

/** The policy for a kind, with the override for a scope (environment or project path) applied. */
export function policyFor(config: Config, kind: WorkflowKind, scope?: string): Policy {
  const policy = kindPolicy(config, kind);
  if (!policy) throw new WorkflowDisabledError(kind);
  const { overrides, ...base } = policy;
  const override = scope ? overrides[scope] : undefined;
  return { ...base, ...override };
}

/** Find the user key for an identity on a platform (the console identity defaults to the key). */
export function userFor(config: Config, platform: UserPlatform, platformId: string): string | undefined {
  for (const [key, user] of Object.entries(config.users)) {
    const id = platform === 'console' ? (user.console ?? key) : user[platform];
    if (id === platformId) return key;
  }
  return undefined;
}

/** Find the user key whose `email` is this address (case-insensitive), e.g. a commit's author. */
export function userForEmail(config: Config, email: string): string | undefined {
  const wanted = email.trim().toLowerCase();
  if (!wanted) return undefined;
  for (const [key, user] of Object.entries(config.users)) {
    if (user.email?.toLowerCase() === wanted) return key;
  }
  return undefined;
}

/** Whether a merge-request policy keeps commit authors from approving (on unless set to false). */
export function excludesCommitAuthors(policy: Policy): boolean {
  return policy.excludeCommitAuthors !== false;
}

/** Secrets and endpoints, read from the environment by entry points only. */
export interface Secrets {
  gitlabWebhookToken?: string;
  gitlabUrl?: string;
  gitlabToken?: string;
}

export function readSecrets(env: Record<string, string | undefined>): Secrets {
  return {
    gitlabWebhookToken: env.GITLAB_WEBHOOK_TOKEN || undefined,
    gitlabUrl: env.GITLAB_URL || undefined,
    gitlabToken: env.GITLAB_TOKEN || undefined,
  };
}

/**
 * The JSON Schema of a configuration file (what editors complete and check through `$schema`),
 * generated from ConfigSchema: fields with a default are optional, as in the file.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' }),
    title: 'Signoff configuration (signoff.config.json)',
  };
}
