import type { Context, Hono } from 'hono';
import type { Signoff } from '../core/app.ts';
import type { ApprovalService } from '../core/approvals/service.ts';
import type { ApprovalStore } from '../core/approvals/store.ts';
import type { AuditLog } from '../core/audit.ts';
import type { ChatAdapter } from '../core/chat.ts';
import type { Config } from '../core/config.ts';
import type { EventDeduper } from '../core/dedupe.ts';
import type { DeploymentStore } from '../core/deployments.ts';
import type { EngineClient } from '../core/engine.ts';
import type { NotificationStore } from '../core/notifications.ts';
import type { PipelineStore } from '../core/pipelines.ts';
import type { SupportDeps } from '../core/support-cases.ts';

/** The local runtime's demo stand-ins, offered in the console (absent on AWS). */
export interface DemoHooks {
  /** Base URL of the demo GitLab stand-in, shown (and labelled) in the console. */
  gitlabUrl: string;
  /** The other demo stand-ins (Lambda, Support), labelled, for the console to list. */
  standIns?: Array<{ label: string; url: string }>;
  /** Create a merge request in the stand-in and post its signed "opened" webhook to /webhooks/gitlab. */
  simulateMergeRequest(options: {
    title?: string;
    author?: string;
  }): Promise<{ status: number; body: unknown }>;
}

/** Who may use the console, and how they prove it (console/auth.ts); built by the entry point. */
export interface ConsoleAccess {
  /**
   * Demo mode: the built-in demo configuration (no config file). The console keeps its loopback
   * "act as" picker and the API honours `actor`; with any other configuration people sign in.
   */
  demo: boolean;
  /** Signs and checks the session cookie (HS256); 32 random bytes or more, never logged. */
  sessionKey: Uint8Array;
  /** `SIGNOFF_OIDC_CLIENT_SECRET`: sign-in is offered when `console.oidc` is set and this is too. */
  oidcClientSecret?: string;
  /** Bearer tokens of non-browser clients (the CLI, scripts), each acting as a configured user. */
  tokens: Array<{ token: string; user: string }>;
}

export interface AppDeps {
  /** The use cases; the fields below are its ports, spelled out for the routes. */
  signoff: Signoff;
  config: Config;
  /** `X-Gitlab-Token` expected on /webhooks/gitlab; unset refuses every GitLab webhook. */
  gitlabWebhookToken?: string;
  /** GitLab signing token (`whsec_…`); when set, a `webhook-signature` header is verified. */
  gitlabSigningToken?: string;
  approvals: ApprovalService;
  store: ApprovalStore;
  audit: AuditLog;
  notifications: NotificationStore;
  engine: EngineClient;
  /** The chat platforms configured here; each gets `POST /webhooks/<platform>`. */
  chats: ChatAdapter[];
  dedupe: EventDeduper;
  /** AWS Support (client + case records), for the support-case commands; absent: they say it is not set up. */
  support?: SupportDeps;
  /** Deployment records, for the rollback list and last-deployers commands; absent: those commands say deploys are not set up. */
  deployments?: DeploymentStore;
  /** Pipeline id → task token: the Pipeline Hook resumes releases; absent: pipeline events are acknowledged and ignored. */
  pipelines?: PipelineStore;
  /** The client's address, when the server knows it (Node); undefined on Lambda. */
  remoteAddress(c: Context): string | undefined;
  /** Where to view an execution (AWS console on AWS, /console locally). */
  executionUrl(executionArn: string): string;
  demo?: DemoHooks;
  /** How the console authenticates people; absent: nobody can use it (every request 401). */
  consoleAccess?: ConsoleAccess;
  now(): Date;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

/** A surface of its own mounted on the app beside the webhooks (the console), on the same dependencies. */
export interface Surface {
  path: string;
  routes(deps: AppDeps): Hono;
}

/** What the HTTP surface needs besides the use cases and their ports. */
export type AppExtras = Pick<
  AppDeps,
  'chats' | 'remoteAddress' | 'gitlabWebhookToken' | 'gitlabSigningToken' | 'demo' | 'consoleAccess'
>;

/** The routes' dependencies over one `Signoff`: its use cases, its ports, and the HTTP extras. */
export function appDepsFor(signoff: Signoff, extras: AppExtras): AppDeps {
  const { ports } = signoff;
  const levels = {
    info: ports.logger.info,
    warn: ports.logger.warn,
    error: ports.logger.error,
  };
  return {
    signoff,
    config: ports.config,
    approvals: signoff.approvals,
    store: ports.store,
    audit: ports.audit,
    notifications: ports.notifications,
    engine: ports.engine,
    dedupe: ports.dedupe,
    ...(ports.support ? { support: ports.support } : {}),
    ...(ports.deployments ? { deployments: ports.deployments } : {}),
    ...(ports.pipelines ? { pipelines: ports.pipelines } : {}),
    executionUrl: ports.executionUrl,
    now: () => ports.clock.now(),
    log: (level, message, fields) => levels[level](message, fields),
    ...extras,
  };
}
