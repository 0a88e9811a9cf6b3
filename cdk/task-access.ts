import type { WorkflowKind } from '../core/config.ts';

/**
 * DynamoDB data actions Signoff's code uses: Gets, Puts, Updates and Queries, and the batch
 * reads and writes of the audit chain. test/cdk/iam.test.ts checks every call the code makes
 * against the grants built from these.
 */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:BatchWriteItem';

/**
 * What appending audit records takes (core/audit-chain.ts): the chain head is read (Get), the
 * `once` keys of the records read in one BatchGetItem, the head moved by a conditional Put, and
 * the records put with one BatchWriteItem. Every function that audits has these, and every
 * function with table access audits a configuration change at its first request.
 */
export const AUDIT_TABLE_ACTIONS: TableAction[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
];

/** Lambda actions on the functions a deploy moves (integrations/lambda.ts makes no other call on them). */
export type AliasAction = 'lambda:GetAlias' | 'lambda:UpdateAlias' | 'lambda:ListVersionsByFunction';

/** AWS Support actions (integrations/support.ts). Support has no resource-level permissions. */
export type SupportAction =
  | 'support:CreateCase'
  | 'support:DescribeCases'
  | 'support:DescribeServices'
  | 'support:DescribeSeverityLevels'
  | 'support:ResolveCase';

/** What one task's function may touch. Everything not listed here is denied. */
export interface TaskAccess {
  /** Item actions on the table; `dynamodb:Query` also covers the table's indexes. */
  table: TableAction[];
  /** Calls GitLab: reads GITLAB_URL and GITLAB_TOKEN from the credentials secret. */
  gitlab?: boolean;
  /** Sends or updates chat cards and notices: reads the chat keys (LARK_*, LINE_*) from the secret. */
  chat?: boolean;
  /** Lambda actions, only on the functions `deploy.functions` of the configuration selects. */
  aliases?: AliasAction[];
  /**
   * Finds the functions a prefix or tag selection names: `lambda:ListFunctions` (no
   * resource-level permissions: `*`), and `lambda:ListTags` when the selection has a tag.
   */
  selectsFunctions?: boolean;
  /** AWS Support actions (resource `*`: Support cannot be scoped further). */
  support?: SupportAction[];
  /**
   * Resumes a waiting task itself (`states:SendTaskSuccess`, and `states:SendTaskHeartbeat` for a
   * long wait): trigger-pipeline applies a Pipeline Hook that overtook it; the reconciler.
   */
  resumes?: boolean;
  /**
   * Starts the reminder machine of an approval it stores (request-approval, when a policy has
   * `remind` or `escalate`): `states:StartExecution` on the reminders state machine only.
   */
  startsReminders?: boolean;
  /**
   * Can end an approval (decide, cancel on a refused grant, expire), which stops its reminder
   * machine (core/approvals/service.ts `stopReminders`): `states:StopExecution` on the reminders
   * state machine's executions only.
   */
  endsApprovals?: boolean;
  /** Why, in one line: shown in docs/deploy-aws.md and the function's description. */
  why: string;
}

/** A function reads the credentials secret when it calls GitLab or a chat platform. */
export function readsSecret(access: Pick<TaskAccess, 'gitlab' | 'chat'>): boolean {
  return Boolean(access.gitlab || access.chat);
}

/** A function builds a Lambda client when it touches aliases or lists functions. */
export function callsLambda(access: TaskAccess): boolean {
  return Boolean(access.aliases?.length || access.selectsFunctions);
}

/**
 * Each task's needs, by its one name. A workflow whose placeholder names a task missing here
 * fails `cdk synth`, so a new task must say what it needs before it can be deployed.
 * Derived from the code paths: `store.create` is a conditional Put that Gets on a retry,
 * `addCard` is an Update, `audit.append` and `notifications.add` are Puts, `forExecution`
 * Queries gsi3, `approvals.expire` Gets and Updates; `deployments.record` Puts (and Gets on a
 * repeat), `markRolledBack` Updates (and Gets); `cases.begin` Puts (Gets on a repeat) and
 * `cases.opened` Updates. The tasks that send cards or notices (`deps.channels`) read the chat
 * keys from the secret. Step Functions: trigger-pipeline resumes (`resumes`: a hook that
 * overtook it; the reconciler in SCHEDULED_TASKS resumes too); request-approval starts the
 * approval's reminder machine (`startsReminders`) and the tasks that can end an approval stop it
 * (`endsApprovals`), both only when the reminders machine is deployed. The action tasks
 * (merge-request, promote-aliases, support-case, trigger-pipeline) re-check the approval first
 * (`assertGranted`): Get, Query gsi3; refused, they Update it to cancelled, update its cards and
 * tell the requester and approvers (chat). remind-approvers Gets the approval, Puts the
 * notifications and the audit record, and on escalation Updates the approvers and card references.
 */
export const TASK_ACCESS: Record<string, TaskAccess> = {
  'request-approval': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem'],
    chat: true,
    startsReminders: true,
    why: 'stores the approval, sends its cards, records card references, appends the audit record, starts its reminders',
  },
  'expire-approval': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem', 'dynamodb:Query'],
    chat: true,
    endsApprovals: true,
    why: "finds the execution's approvals (gsi3), marks them expired, updates their cards, appends the audit record",
  },
  'prepare-merge-request': {
    table: [],
    gitlab: true,
    why: "reads the merge request's author and commits from GitLab with GITLAB_URL/GITLAB_TOKEN from the secret",
  },
  'prepare-release': {
    table: ['dynamodb:Query'],
    gitlab: true,
    why: "reads the ref's commit and compares it with the last successful release (gsi2) in GitLab",
  },
  'trigger-pipeline': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem', 'dynamodb:Query'],
    gitlab: true,
    chat: true,
    resumes: true,
    endsApprovals: true,
    why: 're-checks the approval, creates the GitLab pipeline, stores the task token by pipeline id, shows it running on the cards; resumes when the hook came first',
  },
  'report-release': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem', 'dynamodb:Query'],
    gitlab: true,
    chat: true,
    why: 'confirms the pipeline status in GitLab (cancels one that timed out), shows the outcome on the cards, tells the requester (with a roll back to the last earlier release, gsi2), appends the audit record',
  },
  'merge-request': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem', 'dynamodb:Query'],
    gitlab: true,
    chat: true,
    endsApprovals: true,
    why: 're-checks the approval, calls GitLab with GITLAB_URL/GITLAB_TOKEN from the secret, appends the audit record',
  },
  notify: {
    table: [...AUDIT_TABLE_ACTIONS],
    chat: true,
    why: "adds the requester's notification, sends it to chat, appends the audit record",
  },
  'diff-aliases': {
    table: [...AUDIT_TABLE_ACTIONS],
    aliases: ['lambda:GetAlias'],
    selectsFunctions: true,
    why: 'lists the configured functions, reads their source and target aliases, appends the audit record',
  },
  'promote-aliases': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem', 'dynamodb:Query'],
    aliases: ['lambda:GetAlias', 'lambda:UpdateAlias'],
    chat: true,
    endsApprovals: true,
    why: 're-checks the approval, moves the approved aliases of the configured functions (guarded by RevisionId), appends the audit record',
  },
  'restore-aliases': {
    table: [...AUDIT_TABLE_ACTIONS],
    aliases: ['lambda:GetAlias', 'lambda:UpdateAlias'],
    why: 'moves aliases of the configured functions back after a failed promotion, appends the audit record',
  },
  'record-deployment': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem'],
    why: 'writes the deployment record or marks it rolled back, appends the audit record',
  },
  'load-deployment': {
    table: [...AUDIT_TABLE_ACTIONS],
    aliases: ['lambda:GetAlias'],
    why: "reads the deployment to roll back and its functions' current aliases; audits a configuration change at its first request",
  },
  'notify-deployment': {
    table: [...AUDIT_TABLE_ACTIONS],
    chat: true,
    why: "adds the requester's notification, sends it to chat, appends the audit record",
  },
  'support-case': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem', 'dynamodb:Query'],
    chat: true,
    support: ['support:CreateCase', 'support:DescribeCases'],
    endsApprovals: true,
    why: 'opens the approved AWS Support case (CreateCase, DescribeCases), records it, notifies the requester',
  },
  'remind-approvers': {
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem'],
    chat: true,
    why: "reminds an approval's waiting approvers or escalates to the policy's groups (sends their cards, tells the requester), appends the audit record",
  },
};

/** A task no workflow names, run on a schedule by an EventBridge rule (its own function and role). */
export interface ScheduledTask extends TaskAccess {
  /** Deployed only with this workflow. */
  kind: WorkflowKind;
  /** Minutes between runs (EventBridge `rate`). */
  everyMinutes: number;
  /** The rule's description. */
  rule: string;
}

/**
 * The scheduled tasks, by their one name (`tasks/<name>.ts`). The pipeline reconciler resumes
 * releases whose Pipeline Hook never came and heartbeats the waits of pipelines still running
 * (the wait's HeartbeatSeconds is 3600, so every 5 minutes leaves eleven runs to spare): it
 * Queries the waiting list (gsi1), Gets each record, Updates it with GitLab's answer and claims
 * the resume (Update; a failed resume Gets and Updates to give the claim back).
 */
export const SCHEDULED_TASKS: Record<string, ScheduledTask> = {
  'reconcile-pipelines': {
    kind: 'release',
    everyMinutes: 5,
    rule: 'Signoff: ask GitLab about release pipelines still waited for; resume ended ones, heartbeat running ones',
    table: [...AUDIT_TABLE_ACTIONS, 'dynamodb:UpdateItem', 'dynamodb:Query'],
    gitlab: true,
    resumes: true,
    why: 'asks GitLab (GITLAB_URL/GITLAB_TOKEN from the secret) about pipelines whose hook never came, resumes the ended ones and heartbeats the running ones',
  },
};

/**
 * The webhook function's table access: the console, decisions, cancellations, commands and the
 * outbox use all four item actions, and audit records (a decision's too) go through the chain
 * (AUDIT_TABLE_ACTIONS).
 */
export const WEBHOOK_TABLE_ACCESS: TableAction[] = [
  ...AUDIT_TABLE_ACTIONS,
  'dynamodb:UpdateItem',
  'dynamodb:Query',
];

/**
 * The webhook function's Support access, for the chat commands (webhooks/commands/support.ts):
 * checking a request against the services and severities, "my cases", and "resolve case" (by
 * its requester or an approver only). Opening a case (CreateCase) stays with the support-case
 * task, behind an approval.
 */
export const WEBHOOK_SUPPORT_ACCESS: SupportAction[] = [
  'support:DescribeCases',
  'support:DescribeServices',
  'support:DescribeSeverityLevels',
  'support:ResolveCase',
];

/** The clients a function's generated entry builds (cdk/bundling.ts `taskEntry`). */
export function entryClientsOf(access: TaskAccess): {
  gitlab: boolean;
  chat: boolean;
  lambda: boolean;
  support: boolean;
} {
  return {
    gitlab: access.gitlab ?? false,
    chat: access.chat ?? false,
    lambda: callsLambda(access),
    support: (access.support?.length ?? 0) > 0,
  };
}
