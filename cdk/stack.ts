import { Aws, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { reminderSteps } from '../core/approvals/reminders.ts';
import { AWS_ENV } from '../core/aws-env.ts';
import { type Config, isWorkflowEnabled, policyFor, type WorkflowKind } from '../core/config.ts';
import type { MachineName } from '../core/engine.ts';
import { placeholdersOf, readDefinition, taskNameOf, workflows } from '../workflows/index.ts';
import { esbuildOptions, taskEntry, webhookEntry } from './bundling.ts';
import { TaskFunction } from './constructs/task-function.ts';
import { WebhookApi, type WebhookRoute } from './constructs/webhook-api.ts';
import { Workflow } from './constructs/workflow.ts';
import { lambdaGrant, mergeGrants, remindersGrant, resumeGrant, supportGrant } from './grants.ts';
import { type DeploySettings, removalPolicyFor } from './settings.ts';
import { createSignoffTable } from './table.ts';
import {
  entryClientsOf,
  readsSecret,
  SCHEDULED_TASKS,
  TASK_ACCESS,
  type TaskAccess,
  WEBHOOK_SUPPORT_ACCESS,
  WEBHOOK_TABLE_ACCESS,
} from './task-access.ts';

export interface SignoffStackProps extends StackProps {
  settings: DeploySettings;
  /** Validated by `parseConfig`; bundled into every function. */
  config: Config;
  /** Workflow kinds to deploy; default: every kind in workflows/index.ts that has a policy. */
  kinds?: WorkflowKind[];
}

/**
 * Webhook sources with a route in webhooks/app.ts: GitLab, and each chat platform of
 * chat/index.ts `chatAdapters` (its route answers once its keys are in the secret; until then
 * the app answers 404).
 */
export const WEBHOOK_ROUTES: WebhookRoute[] = [
  {
    path: '/webhooks/gitlab',
    output: 'GitLabWebhookUrl',
    description:
      'GitLab project or group webhook URL (merge request events; secret token GITLAB_WEBHOOK_TOKEN)',
    // GitLab sends an event per push, MR change and pipeline: a busy group stays far below this.
    throttle: { rateLimit: 10, burstLimit: 20 },
  },
  {
    path: '/webhooks/lark',
    output: 'LarkWebhookUrl',
    description:
      'Lark / Feishu app: event subscription and card action callback URL (LARK_* keys in the secret)',
    // Card clicks and commands from people: a quorum's clicks arrive within the same second.
    throttle: { rateLimit: 20, burstLimit: 40 },
  },
  {
    path: '/webhooks/line',
    output: 'LineWebhookUrl',
    description: 'LINE Messaging API channel webhook URL (LINE_* keys in the secret)',
    throttle: { rateLimit: 20, burstLimit: 40 },
  },
  {
    path: '/webhooks/slack',
    output: 'SlackWebhookUrl',
    description:
      'Slack app: Event Subscriptions, Interactivity and slash command Request URL (SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN in the secret; Socket Mode is local only)',
    // Clicks, modal submissions and commands from people; Slack retries an event at most 3 times.
    throttle: { rateLimit: 20, burstLimit: 40 },
  },
  {
    path: '/webhooks/dingtalk',
    output: 'DingTalkWebhookUrl',
    description:
      'DingTalk robot message receiving URL, HTTP mode (DINGTALK_* keys in the secret; card clicks: Stream mode or the console)',
    // Robot commands from people; card clicks do not come here (docs/dingtalk.md).
    throttle: { rateLimit: 20, burstLimit: 40 },
  },
];

/**
 * The tasks the given state machines name, in first-seen order: one function each. Every task
 * must say what it may access in cdk/task-access.ts; one that does not stops synth, naming it.
 */
export function tasksOf(kinds: MachineName[]): string[] {
  const names = [...new Set(kinds.flatMap((kind) => placeholdersOf(readDefinition(kind)).map(taskNameOf)))];
  const missing = names.filter((task) => !TASK_ACCESS[task]);
  if (missing.length > 0) {
    throw new Error(
      `cdk/task-access.ts does not say what ${missing.join(', ')} may access; every task a workflow names needs an entry`,
    );
  }
  return names;
}

/** Every workflow of the registry (workflows/index.ts). */
export function allWorkflows(): WorkflowKind[] {
  return Object.keys(workflows) as WorkflowKind[];
}

/**
 * Whether any policy of the deployed workflows, or any of its overrides, has `remind` or
 * `escalate`: only then is the reminders state machine deployed (with its remind-approvers
 * function and the grants to start and stop it). The configuration is bundled at synth, so a
 * policy that gains timers is deployed with them.
 */
export function remindersUsed(config: Config, kinds: WorkflowKind[]): boolean {
  return kinds.some((kind) =>
    [undefined, ...Object.keys(config.policies[kind]?.overrides ?? {})].some(
      (scope) => reminderSteps(policyFor(config, kind, scope)).length > 0,
    ),
  );
}

/** The keys the credentials secret is created with; every other key (GITLAB_URL, …) is put by the operator. */
export const GENERATED_SECRET_KEY = 'GITLAB_WEBHOOK_TOKEN';

/**
 * One Signoff installation: the table, one function per task named in the workflows, a state
 * machine per workflow made from its ASL file, the webhook function behind an HTTP API, the
 * credentials secret, and alarms to an SNS topic.
 */
export class SignoffStack extends Stack {
  readonly functions = new Map<string, TaskFunction>();
  /** The scheduled tasks' functions (cdk/task-access.ts SCHEDULED_TASKS), by task. */
  readonly scheduled = new Map<string, TaskFunction>();
  readonly workflows = new Map<WorkflowKind, Workflow>();
  /** The reminders state machine (docs/reminders.md), when a policy has `remind` or `escalate`. */
  readonly reminders: Workflow | undefined;
  readonly webhook: TaskFunction;
  readonly api: WebhookApi;

  constructor(scope: Construct, id: string, props: SignoffStackProps) {
    super(scope, id, props);
    const { settings, config } = props;
    const removalPolicy = removalPolicyFor(settings);
    const bundling = esbuildOptions(config);
    // A kind without a policy is disabled: no state machine, no task functions for it alone.
    const kinds = props.kinds ?? allWorkflows().filter((kind) => isWorkflowEnabled(config, kind));

    const table = createSignoffTable(this, 'Table', {
      deletionProtection: settings.production,
      removalPolicy,
    });

    // Created with a generated webhook token and nothing else. The template never changes, so
    // an update never overwrites what the operator put in (GITLAB_URL, GITLAB_TOKEN, chat keys).
    const secret = new Secret(this, 'Credentials', {
      secretName: `${settings.prefix}credentials`,
      description: `Signoff ${settings.stage}: GITLAB_WEBHOOK_TOKEN, GITLAB_URL, GITLAB_TOKEN, LARK_*, LINE_*, DINGTALK_*`,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: GENERATED_SECRET_KEY,
        excludePunctuation: true,
        passwordLength: 40,
      },
      removalPolicy,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret holds tokens issued by GitLab and chat platforms; they are rotated where they are issued, ' +
        'then put here (docs/deploy-aws.md). Functions re-read it every SIGNOFF_SECRET_MAX_AGE_SECONDS.',
    });

    const alarmTopic = new Topic(this, 'Alarms', {
      topicName: `${settings.prefix}alarms`,
      displayName: `Signoff ${settings.stage} alarms`,
      enforceSSL: true,
    });
    Validations.of(alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names only, no data; CloudWatch cannot publish to a topic encrypted ' +
        'with the AWS managed SNS key, and a customer key would add cost for no confidentiality gain.',
    });
    if (settings.alarmEmail) alarmTopic.addSubscription(new EmailSubscription(settings.alarmEmail));

    const baseEnvironment = {
      [AWS_ENV.tableName]: table.tableName,
      [AWS_ENV.stateMachinePrefix]: settings.prefix,
      [AWS_ENV.accountId]: Aws.ACCOUNT_ID,
    };

    // A task's function, with the role its access (cdk/task-access.ts) asks for.
    const taskFunction = (task: string, access: TaskAccess): TaskFunction => {
      const secretAccess = readsSecret(access);
      const grant = mergeGrants(
        lambdaGrant(access, config.deploy.functions),
        supportGrant(access.support ?? [], `the ${task} task ${access.why}`),
        resumeGrant(access.resumes, `the ${task} task ${access.why}`),
      );
      return new TaskFunction(this, `Task-${task}`, {
        functionName: `${settings.prefix}${task}`,
        entry: taskEntry(task, entryClientsOf(access)),
        description: `Signoff task ${task}: ${access.why}`.slice(0, 256),
        bundling,
        environment: {
          ...baseEnvironment,
          ...(secretAccess ? { [AWS_ENV.secretId]: secret.secretArn } : {}),
        },
        table,
        tableActions: access.table,
        ...(secretAccess ? { secret } : {}),
        grant,
        timeout: Duration.seconds(60),
        memorySize: 512,
        logRetention: settings.logRetention,
        removalPolicy,
      });
    };

    // One function per task any deployed state machine names, in first-seen order.
    const machines: MachineName[] = remindersUsed(config, kinds) ? [...kinds, 'reminders'] : kinds;
    const definitions = new Map(machines.map((kind) => [kind, readDefinition(kind)]));
    for (const task of tasksOf(machines)) {
      const access = TASK_ACCESS[task];
      if (!access) throw new Error(`no access declared for task ${task}`); // tasksOf checked it
      this.functions.set(task, taskFunction(task, access));
    }

    // Scheduled tasks (the pipeline reconciler) of the deployed workflows: a function each,
    // invoked by an EventBridge rule with an empty payload.
    for (const [task, scheduled] of Object.entries(SCHEDULED_TASKS)) {
      if (!kinds.includes(scheduled.kind)) continue;
      const fn = taskFunction(task, scheduled);
      this.scheduled.set(task, fn);
      new Rule(this, `Schedule-${task}`, {
        description: scheduled.rule,
        schedule: Schedule.rate(Duration.minutes(scheduled.everyMinutes)),
        targets: [
          new LambdaFunction(fn.function, { event: RuleTargetInput.fromObject({}), retryAttempts: 2 }),
        ],
      });
    }

    const taskFunctions = new Map<string, IFunction>(
      [...this.functions].map(([task, fn]) => [task, fn.function]),
    );
    for (const [kind, definition] of definitions) {
      const workflow = new Workflow(this, `Workflow-${kind}`, {
        kind,
        definition,
        stateMachineName: `${settings.prefix}${kind}`,
        functions: taskFunctions,
        logRetention: settings.logRetention,
        removalPolicy,
        alarmTopic,
        // Every approval decided before its last reminder stops its execution: ABORTED is normal.
        alarmOnAborted: kind !== 'reminders',
      });
      if (kind === 'reminders') this.reminders = workflow;
      else this.workflows.set(kind, workflow);
    }
    const reminders = this.reminders && {
      stateMachineArn: this.reminders.stateMachine.stateMachineArn,
      name: this.reminders.name,
    };
    for (const [task, fn] of [...this.functions, ...this.scheduled]) {
      const access = TASK_ACCESS[task] ?? SCHEDULED_TASKS[task];
      if (access) fn.addGrant(remindersGrant(access, reminders, `the ${task} task can end an approval`));
    }

    this.webhook = new TaskFunction(this, 'Webhook', {
      functionName: `${settings.prefix}webhooks`,
      entry: webhookEntry(),
      description:
        'Signoff webhooks: verifies and starts executions, records decisions, resumes executions, answers chat commands',
      bundling,
      environment: { ...baseEnvironment, [AWS_ENV.secretId]: secret.secretArn },
      table,
      tableActions: WEBHOOK_TABLE_ACCESS,
      secret,
      grant: supportGrant(
        WEBHOOK_SUPPORT_ACCESS,
        'the webhook answers the support chat commands (services and severities, "my cases", "resolve case"); ' +
          'opening a case stays with the support-case task, behind an approval',
      ),
      // Chat platforms want an answer within 3 s; anything slow runs in a task state.
      timeout: Duration.seconds(10),
      memorySize: 1024,
      logRetention: settings.logRetention,
      removalPolicy,
    });
    // People reach the console on AWS only through OpenID Connect sign-in; without it, no route.
    const console = config.console.oidc !== undefined;
    this.grantWebhookEngineAccess(console);
    this.webhook.addGrant(
      remindersGrant(
        { endsApprovals: true },
        reminders,
        'the webhook function decides and cancels approvals (clicks, commands, the console, GitLab pushes)',
      ),
    );

    this.api = new WebhookApi(this, 'Http', {
      apiName: `${settings.prefix}webhooks`,
      handler: this.webhook.function,
      webhooks: WEBHOOK_ROUTES,
      console,
      throttle: settings.throttle,
      logRetention: settings.logRetention,
      removalPolicy,
      alarmTopic,
    });

    // A decision whose SendTaskSuccess failed stays in the outbox; re-deliver it every 5 minutes.
    new Rule(this, 'Redeliver', {
      description: 'Signoff: resume executions whose decision is still in the outbox',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [
        new LambdaFunction(this.webhook.function, {
          event: RuleTargetInput.fromObject({ signoff: 'redeliver' }),
          retryAttempts: 2,
        }),
      ],
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL (GET /healthz answers ok)' });
    new CfnOutput(this, 'CredentialsSecretArn', {
      value: secret.secretArn,
      description:
        'Put GITLAB_URL, GITLAB_TOKEN and the chat keys (LARK_*, LINE_*, DINGTALK_*) here; read GITLAB_WEBHOOK_TOKEN from here',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
    for (const [kind, workflow] of this.workflows) {
      new CfnOutput(this, `StateMachine-${kind}`.replace(/[^A-Za-z0-9]/g, ''), {
        value: workflow.stateMachine.stateMachineArn,
        description: `State machine of the ${kind} workflow`,
      });
    }
    if (this.reminders) {
      new CfnOutput(this, 'StateMachinereminders', {
        value: this.reminders.stateMachine.stateMachineArn,
        description: "State machine of the approvals' reminders and escalation (one execution per approval)",
      });
    }
  }

  /**
   * Only the webhook function talks to Step Functions: it starts executions of these state
   * machines only, and resumes them (SendTaskSuccess/SendTaskFailure). The SendTask* actions
   * have no resource-level permissions (IAM authorizes them on `*`; the task token names the
   * execution), so a statement naming state machines would never match them. Reading
   * executions (Describe, List, GetExecutionHistory) serves the console, so it is granted only
   * with it.
   */
  private grantWebhookEngineAccess(console: boolean): void {
    const workflows = [...this.workflows.values()];
    if (workflows.length === 0) return;
    const role = this.webhook.role;
    const machineArns = workflows.map((w) => w.stateMachine.stateMachineArn);
    role.addToPolicy(
      new PolicyStatement({ sid: 'Start', actions: ['states:StartExecution'], resources: machineArns }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'Resume',
        actions: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'states:SendTaskSuccess and states:SendTaskFailure have no resource-level permissions: IAM authorizes ' +
        'them on "*", and the task token (held in the table, never shown) names the execution. The AWS ' +
        'Support actions of the chat commands have none either.',
    });
    // /readyz asks the engine for one execution (ListExecutions), console or not.
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ListExecutions',
        actions: console
          ? ['states:DescribeStateMachine', 'states:ListExecutions']
          : ['states:ListExecutions'],
        resources: machineArns,
      }),
    );
    if (!console) return;
    const executionArns = workflows.map(
      (w) => `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${w.name}:*`,
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadExecutions',
        actions: [
          'states:DescribeExecution',
          'states:DescribeStateMachineForExecution',
          'states:GetExecutionHistory',
        ],
        resources: executionArns,
      }),
    );
    for (const w of workflows) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${w.name}:*]`,
        reason:
          "The console reads any execution of Signoff's own state machines; execution names are made at run " +
          'time, so the ARN ends in *; no other state machine is reachable.',
      });
    }
  }
}
