/** DynamoDB data actions Signoff's code uses (core/ only ever Gets, Puts, Updates and Queries). */
export type TableAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:Query';

/** What one task's function may touch. Everything not listed here is denied. */
export interface TaskAccess {
  /** Item actions on the table; `dynamodb:Query` also covers the table's indexes. */
  table: TableAction[];
  /** Reads the credentials secret (GitLab today; chat tokens as the adapters land). */
  secret: boolean;
  /** Why, in one line: shown in docs/deploy-aws.md and checked by nobody but reviewers. */
  why: string;
}

/**
 * Each task's needs, by its one name. A workflow whose placeholder names a task missing here
 * fails `cdk synth`, so a new task must say what it needs before it can be deployed.
 * Derived from the code paths: `store.create` is a conditional Put that Gets on a retry,
 * `addCard` is an Update, `audit.append` and `notifications.add` are Puts, `forExecution`
 * Queries gsi3, `approvals.expire` Gets and Updates. No task calls Step Functions: only the
 * webhook function resumes executions.
 */
export const TASK_ACCESS: Record<string, TaskAccess> = {
  'request-approval': {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    secret: false,
    why: 'stores the approval, records card references, appends the audit record',
  },
  'expire-approval': {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
    secret: false,
    why: "finds the execution's approvals (gsi3), marks them expired, appends the audit record",
  },
  'merge-request': {
    table: ['dynamodb:PutItem'],
    secret: true,
    why: 'calls GitLab with GITLAB_URL/GITLAB_TOKEN from the secret, appends the audit record',
  },
  notify: {
    table: ['dynamodb:PutItem'],
    secret: false,
    why: "adds the requester's notification, appends the audit record",
  },
};

/** The webhook function's table access: the console, decisions, cancellations and the outbox use all four. */
export const WEBHOOK_TABLE_ACCESS: TableAction[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
];
