import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/app.ts';
import { PROJECT_ROOT } from '../../cdk/bundling.ts';
import { HEALTH_THROTTLE } from '../../cdk/constructs/webhook-api.ts';
import { remindersUsed, type SignoffStack, WEBHOOK_ROUTES } from '../../cdk/stack.ts';
import {
  AUDIT_TABLE_ACTIONS,
  entryClientsOf,
  TASK_ACCESS,
  WEBHOOK_SUPPORT_ACCESS,
} from '../../cdk/task-access.ts';
import { DEFAULT_CONFIG_INPUT, DEFAULT_DEPLOY, parseConfig, WORKFLOW_KINDS } from '../../core/config.ts';
import { tableDefinition } from '../../core/table.ts';
import { tasks } from '../../tasks/index.ts';
import { placeholdersOf, readDefinition, substitute, taskNameOf, workflows } from '../../workflows/index.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Sid?: string;
  Condition?: unknown;
};

// Secret values present in the environment while synthesizing: none may reach the template or a bundle.
const SENTINELS = {
  GITLAB_TOKEN: 'sentinel-gitlab-token-7f3a9c',
  GITLAB_WEBHOOK_TOKEN: 'sentinel-webhook-token-51be02',
  GITLAB_URL: 'https://sentinel-gitlab.example.invalid',
  LARK_APP_ID: 'sentinel-lark-app-id-c2d1',
  LARK_APP_SECRET: 'sentinel-lark-app-secret-9e40aa',
  LARK_VERIFICATION_TOKEN: 'sentinel-lark-verification-1b7f',
  LARK_ENCRYPT_KEY: 'sentinel-lark-encrypt-key-66d0',
  LINE_CHANNEL_SECRET: 'sentinel-line-channel-secret-3a8e',
  LINE_CHANNEL_ACCESS_TOKEN: 'sentinel-line-access-token-f51c',
};

/**
 * The default configuration with timers on one project's merge requests only (an override):
 * enough for the stack to deploy the reminders machine, its function and their grants.
 */
const WITH_TIMERS = {
  ...DEFAULT_CONFIG_INPUT,
  users: { ...DEFAULT_CONFIG_INPUT.users, dave: { name: 'Dave', gitlab: 'dave' } },
  groups: { 'sre-oncall': ['dave'] },
  policies: {
    ...DEFAULT_CONFIG_INPUT.policies,
    'merge-request': {
      ...DEFAULT_CONFIG_INPUT.policies['merge-request'],
      overrides: { 'platform/oncall': { remind: ['30m'], escalate: { after: '2h', to: ['sre-oncall'] } } },
    },
  },
};

let configDir: string;
let outdir: string;
let stack: SignoffStack;
let template: Template;
let resources: Record<string, Resource>;
let synthSeconds: number;
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const [key, value] of Object.entries(SENTINELS)) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
  // Under node_modules, so the bundles find the AWS SDK there, as they find the runtime's copy on Lambda.
  const cache = join(PROJECT_ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  outdir = mkdtempSync(join(cache, 'signoff-cdk-'));
  configDir = mkdtempSync(join(tmpdir(), 'signoff-cdk-config-'));
  const config = join(configDir, 'signoff.config.json');
  writeFileSync(config, JSON.stringify(WITH_TIMERS));
  const started = Date.now();
  // Bundles every function with esbuild and runs cdk-nag: synth throws on an unacknowledged finding.
  const built = buildApp({
    outdir,
    env: { ...process.env, SIGNOFF_CONFIG: config },
    context: { stage: 'test' },
  });
  built.app.synth();
  synthSeconds = (Date.now() - started) / 1000;
  stack = built.stack;
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
}, 180_000);

afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (outdir) rmSync(outdir, { recursive: true, force: true });
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

function functionNamed(name: string): [string, Resource] {
  const found = ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.FunctionName === name);
  if (!found) throw new Error(`no function ${name}`);
  return found;
}

/** Every statement of every inline policy attached to the role behind `roleRef` ({Fn::GetAtt: [role, Arn]}). */
function statementsOfRole(roleLogicalId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The bundled code of a function: its asset (`<hash>.zip` in S3) is the directory `asset.<hash>` of the assembly. */
function bundleFile(fn: Resource): string {
  const key = (fn.Properties.Code as { S3Key?: unknown }).S3Key;
  if (typeof key !== 'string') throw new Error('function has no asset');
  return join(outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
}

function bundleOf(fn: Resource): string {
  return readFileSync(bundleFile(fn), 'utf8');
}

function roleOf(fn: Resource): string {
  return (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

function actions(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

const prefix = 'signoff-test-';
const tableRef = () => ofType('AWS::DynamoDB::GlobalTable')[0]?.[0] as string;

describe('SignoffStack', () => {
  it('synthesizes offline, bundling every function, in reasonable time', () => {
    expect(synthSeconds).toBeGreaterThan(0);
    const taskNames = [...stack.workflows.keys()].flatMap((kind) =>
      placeholdersOf(readDefinition(kind)).map(taskNameOf),
    );
    for (const task of taskNames) functionNamed(`${prefix}${task}`);
    functionNamed(`${prefix}webhooks`);
  });

  it('deploys every workflow of the registry, with a function for every task it names', () => {
    expect([...stack.workflows.keys()].sort()).toEqual(Object.keys(workflows).sort());
    for (const task of stack.functions.keys()) expect(Object.keys(tasks), task).toContain(task);
    expect([...stack.functions.keys()].sort()).toEqual(Object.keys(TASK_ACCESS).sort());
    // A policy with timers (here an override's) deploys the reminders machine and its task.
    expect(stack.reminders?.name).toBe(`${prefix}reminders`);
    expect([...(stack.reminders?.tasks.keys() ?? [])]).toEqual(['remind-approvers']);
  });

  it('bundles functions that load in a fresh Node process and export their handler (one per set of clients)', async () => {
    // Bundles differ by the clients their entry imports (cdk/task-access.ts entryClientsOf): load one of each.
    const kinds = new Map<string, string>([['webhooks', `${prefix}webhooks`]]);
    for (const [task, access] of Object.entries(TASK_ACCESS)) {
      const key = JSON.stringify(entryClientsOf(access));
      if (!kinds.has(key)) kinds.set(key, `${prefix}${task}`);
    }
    expect(kinds.size).toBeGreaterThanOrEqual(5);
    const run = promisify(execFile);
    const loaded = await Promise.all(
      [...kinds.values()].map(async (name) => {
        const [, fn] = functionNamed(name);
        const url = pathToFileURL(bundleFile(fn)).href;
        const script = `const m=await import(${JSON.stringify(url)});process.stdout.write(typeof m.handler);`;
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
          env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
        });
        return [name, stdout];
      }),
    );
    for (const [name, type] of loaded) expect(type, name).toBe('function');
  });

  it('runs every function on Node.js 24, arm64, with the AWS SDK of the runtime and no source map to read', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.NODE_OPTIONS).toBeUndefined();
      const dir = dirname(bundleFile(fn));
      const files = readdirSync(dir, { recursive: true }).map(String);
      expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
      // The SDK is imported from the runtime's copy, not bundled.
      expect(bundleOf(fn)).toMatch(/from"@aws-sdk\/client-dynamodb"/);
      expect(bundleOf(fn)).not.toContain('DynamoDBServiceException=class');
    }
  });

  it('makes each state machine from its ASL file with the function ARNs substituted', () => {
    const functionNames = new Map(
      ofType('AWS::Lambda::Function').map(([id, r]) => [id, r.Properties.FunctionName as string]),
    );
    const arn = (name: string) => `arn:aws:lambda:eu-west-1:111122223333:function:${name}`;
    for (const kind of [...stack.workflows.keys(), 'reminders' as const]) {
      const found = ofType('AWS::StepFunctions::StateMachine').find(
        ([, r]) => r.Properties.StateMachineName === `${prefix}${kind}`,
      );
      expect(found, kind).toBeDefined();
      const props = (found as [string, Resource])[1].Properties;
      expect(props.StateMachineType).toBe('STANDARD');
      expect(props.TracingConfiguration).toEqual({ Enabled: true });
      expect((props.LoggingConfiguration as { Level: string }).Level).toBe('ALL');
      expect((props.LoggingConfiguration as { IncludeExecutionData: boolean }).IncludeExecutionData).toBe(
        false,
      );

      // Resolve DefinitionSubstitutions the way CloudFormation does.
      const subs = props.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt': [string, string] }>;
      let deployed = props.DefinitionString as string;
      for (const [placeholder, ref] of Object.entries(subs)) {
        const name = functionNames.get(ref['Fn::GetAtt'][0]) as string;
        expect(ref['Fn::GetAtt'][1]).toBe('Arn');
        deployed = deployed.split(`\${${placeholder}}`).join(arn(name));
      }
      const expected = substitute(readDefinition(kind), (task) => arn(`${prefix}${task}`));
      expect(deployed).toBe(expected);
      expect(JSON.parse(deployed)).toEqual(JSON.parse(expected));
    }
  });

  it('lets each state machine invoke only its own task functions', () => {
    for (const [, sm] of ofType('AWS::StepFunctions::StateMachine')) {
      const roleId = (sm.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const invoke = statementsOfRole(roleId).filter((s) =>
        actions([s]).some((a) => a.startsWith('lambda:')),
      );
      expect(invoke).toHaveLength(1);
      expect(invoke[0]?.Action).toBe('lambda:InvokeFunction');
      const subs = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;
      // One resource is written alone (the reminders machine invokes remind-approvers only).
      const resources = [invoke[0]?.Resource].flat();
      expect(resources).toEqual(expect.arrayContaining(Object.values(subs)));
      expect(resources).toHaveLength(Object.keys(subs).length);
    }
  });

  // What each function may do is checked against the calls the code makes in test/cdk/iam.test.ts;
  // these are the limits no call may need.
  it('gives task functions no Step Functions access but trigger-pipeline\'s resume and starting and stopping reminders, and "*" only to actions without resource-level permissions', () => {
    expect(DEFAULT_DEPLOY.functions).toEqual({ prefix: 'demo-' });
    const [remindersId] = ofType('AWS::StepFunctions::StateMachine').find(
      ([, r]) => r.Properties.StateMachineName === `${prefix}reminders`,
    ) ?? [''];
    const reminderExecutions = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:execution:${prefix}reminders:*`,
        ],
      ],
    };
    // The tasks that can end an approval (decide, expire, cancel on a refused grant) stop its reminders.
    const enders = [
      'expire-approval',
      'merge-request',
      'promote-aliases',
      'support-case',
      'trigger-pipeline',
    ];
    for (const task of stack.functions.keys()) {
      const [, fn] = functionNamed(`${prefix}${task}`);
      const statements = statementsOfRole(roleOf(fn));
      // trigger-pipeline applies a Pipeline Hook that overtook it (TaskAccess `resumes`): SendTaskSuccess/Heartbeat only.
      expect(
        actions(statements).filter((a) => a.startsWith('states:')),
        task,
      ).toEqual(
        [
          ...(task === 'trigger-pipeline' ? ['states:SendTaskHeartbeat', 'states:SendTaskSuccess'] : []),
          ...(task === 'request-approval' ? ['states:StartExecution'] : []),
          ...(enders.includes(task) ? ['states:StopExecution'] : []),
        ].sort(),
      );
      // request-approval starts the reminders machine only; the others stop only its executions.
      for (const statement of statements.filter((st) => actions([st]).includes('states:StartExecution'))) {
        expect(statement.Resource, task).toEqual({ Ref: remindersId });
      }
      for (const statement of statements.filter((st) => actions([st]).includes('states:StopExecution'))) {
        expect([actions([statement]), statement.Resource], task).toEqual([
          ['states:StopExecution'],
          reminderExecutions,
        ]);
      }
      for (const statement of statements) {
        const acts = actions([statement]);
        // Alias actions only on the configured functions (the default configuration: prefix demo-).
        if (acts.some((a) => a.startsWith('lambda:') && a !== 'lambda:ListFunctions')) {
          expect(JSON.stringify(statement.Resource), task).toMatch(
            /^\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":lambda:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":function:demo-\*"\]\]\}$/,
          );
        }
        if (statement.Resource === '*') {
          // ListFunctions, Support and SendTask* have no resource-level permissions: "*" is all IAM matches them on.
          expect(
            acts.every(
              (a) =>
                a === 'lambda:ListFunctions' ||
                a.startsWith('support:') ||
                (task === 'trigger-pipeline' &&
                  (a === 'states:SendTaskSuccess' || a === 'states:SendTaskHeartbeat')),
            ),
            `${task}: ${acts.join(', ')} on *`,
          ).toBe(true);
        }
      }
    }
  });

  it('lets only promote-aliases and restore-aliases move aliases, of the configured functions only', () => {
    const movers = [...stack.functions.keys()].filter((task) => {
      const [, fn] = functionNamed(`${prefix}${task}`);
      return actions(statementsOfRole(roleOf(fn))).includes('lambda:UpdateAlias');
    });
    expect(movers.sort()).toEqual(['promote-aliases', 'restore-aliases']);
    const [, promote] = functionNamed(`${prefix}promote-aliases`);
    const update = statementsOfRole(roleOf(promote)).find((s) => actions([s]).includes('lambda:UpdateAlias'));
    expect(update?.Sid).toBe('DeployFunctionsSelected');
    expect(JSON.stringify(update?.Resource)).toContain(':function:demo-*');
    expect(update?.Condition).toBeUndefined();
  });

  it('lets only the support-case task open Support cases; the webhook reads and resolves for commands', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const all = actions(statementsOfRole(roleOf(fn))).filter((a) => a.startsWith('support:'));
      const name = fn.Properties.FunctionName as string;
      if (name === `${prefix}support-case`)
        expect(all).toEqual(['support:CreateCase', 'support:DescribeCases']);
      else if (name === `${prefix}webhooks`) expect(all).toEqual([...WEBHOOK_SUPPORT_ACCESS].sort());
      else expect(all, name).toEqual([]);
    }
  });

  it('gives the chat tasks the secret (chat keys) and the chat SDKs; no other task bundles them', () => {
    const chatTasks = Object.entries(TASK_ACCESS)
      .filter(([, access]) => access.chat)
      .map(([task]) => task);
    expect(chatTasks.sort()).toEqual(
      [
        'expire-approval',
        'merge-request',
        'notify',
        'notify-deployment',
        'promote-aliases',
        'remind-approvers',
        'request-approval',
        'support-case',
        'trigger-pipeline',
        'report-release',
      ].sort(),
    );
    for (const task of stack.functions.keys()) {
      const [, fn] = functionNamed(`${prefix}${task}`);
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      if (chatTasks.includes(task)) expect('SIGNOFF_SECRET_ID' in env, task).toBe(true);
      const code = bundleOf(fn);
      expect(code.includes('open-apis'), `${task} bundles the Lark client`).toBe(chatTasks.includes(task));
    }
  });

  it("lets only the webhook function start workflows' executions, of these state machines only, and resume them (and trigger-pipeline resume its own wait)", () => {
    const [, webhook] = functionNamed(`${prefix}webhooks`);
    const statements = statementsOfRole(roleOf(webhook));
    const start = statements.filter((s) => actions([s]).includes('states:StartExecution'));
    // The workflows' state machines; the reminders machine is started by request-approval alone.
    const machines = ofType('AWS::StepFunctions::StateMachine')
      .filter(([, r]) => r.Properties.StateMachineName !== `${prefix}reminders`)
      .map(([id]) => ({ Ref: id }));
    expect(machines).toHaveLength(stack.workflows.size);
    expect(start).toHaveLength(1);
    expect(start[0]?.Resource).toEqual(machines.length === 1 ? machines[0] : machines);
    // SendTask* have no resource-level permissions: "*" is the only resource IAM matches them on.
    const resume = statements.filter((s) => actions([s]).includes('states:SendTaskSuccess'));
    expect(resume.map((s) => [actions([s]), s.Resource])).toEqual([
      [['states:SendTaskFailure', 'states:SendTaskSuccess'], '*'],
    ]);
    // StopExecution: the reminders of the approvals it decides and cancels (checked with the tasks').
    expect(actions(statements).filter((a) => a.startsWith('states:'))).toEqual([
      'states:ListExecutions',
      'states:SendTaskFailure',
      'states:SendTaskSuccess',
      'states:StartExecution',
      'states:StopExecution',
    ]);
    const stop = statements.filter((s) => actions([s]).includes('states:StopExecution'));
    expect(JSON.stringify(stop.map((s) => s.Resource))).toContain(`:execution:${prefix}reminders:*`);
    // /readyz lists one execution (no console here: nothing else is read).
    const list = statements.filter((s) => actions([s]).includes('states:ListExecutions'));
    expect(list.map((s) => [actions([s]), s.Resource])).toEqual([
      [['states:ListExecutions'], machines.length === 1 ? machines[0] : machines],
    ]);

    const [, trigger] = functionNamed(`${prefix}trigger-pipeline`);
    const [, reconciler] = functionNamed(`${prefix}reconcile-pipelines`);
    const resumers = [roleOf(webhook), roleOf(trigger), roleOf(reconciler)];
    const others = ofType('AWS::IAM::Policy').filter(([, p]) => {
      const roles = p.Properties.Roles as Array<{ Ref: string }>;
      return !roles.some((r) => resumers.includes(r.Ref));
    });
    for (const [, policy] of others) {
      const all = actions((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
      // Besides the reminders' start and stop (checked above), no task touches an execution.
      expect(
        all.filter(
          (a) => a.startsWith('states:') && a !== 'states:StartExecution' && a !== 'states:StopExecution',
        ),
      ).toEqual([]);
    }
    // trigger-pipeline resumes its own wait when a Pipeline Hook overtook it; it starts nothing.
    expect(actions(statementsOfRole(roleOf(trigger))).filter((a) => a.startsWith('states:'))).toEqual([
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
      'states:StopExecution',
    ]);

    // The reconciler ends no approval: it resumes and heartbeats only.
    expect(actions(statementsOfRole(roleOf(reconciler))).filter((a) => a.startsWith('states:'))).toEqual([
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
    ]);
  });
  it('runs the pipeline reconciler every 5 minutes on AWS: its own function, GitLab and the table, SendTaskSuccess/Heartbeat only', () => {
    const [fnId, fn] = functionNamed(`${prefix}reconcile-pipelines`);
    expect([...stack.scheduled.keys()]).toEqual(['reconcile-pipelines']);
    expect(stack.functions.has('reconcile-pipelines')).toBe(false); // no state machine invokes it
    // A scheduled rule invokes it with an empty payload (tasks/reconcile-pipelines.ts takes {}).
    const rules = ofType('AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties.Targets).includes(`"${fnId}"`),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0] as [string, Resource];
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.State ?? 'ENABLED').toBe('ENABLED');
    const targets = rule.Properties.Targets as Array<{ Arn: unknown; Input?: string; RetryPolicy?: unknown }>;
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    expect(JSON.parse(targets[0]?.Input ?? 'null')).toEqual({});
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
    // The heartbeat keeps a wait alive: the rule runs well inside the release wait's HeartbeatSeconds.
    const release = JSON.parse(readFileSync(join(PROJECT_ROOT, 'workflows/release.asl.json'), 'utf8'));
    const heartbeats = JSON.stringify(release).match(/"HeartbeatSeconds":(\d+)/g) ?? [];
    expect(heartbeats.length).toBeGreaterThan(0);
    for (const h of heartbeats) expect(Number(h.split(':')[1])).toBeGreaterThanOrEqual(3 * 5 * 60);

    const statements = statementsOfRole(roleOf(fn));
    expect(actions(statements).filter((a) => a.startsWith('states:'))).toEqual([
      'states:SendTaskHeartbeat',
      'states:SendTaskSuccess',
    ]);
    const table = statements.filter((s) => actions([s]).some((a) => a.startsWith('dynamodb:')));
    // The audit chain's actions: like every function, it audits a configuration change at its first run.
    expect(actions(table)).toEqual([...AUDIT_TABLE_ACTIONS, 'dynamodb:Query', 'dynamodb:UpdateItem'].sort());
    // GITLAB_URL/GITLAB_TOKEN come from the secret; no chat SDK, no Lambda or Support access.
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect('SIGNOFF_SECRET_ID' in env).toBe(true);
    expect(actions(statements)).toContain('secretsmanager:GetSecretValue');
    expect(actions(statements).filter((a) => a.startsWith('lambda:') || a.startsWith('support:'))).toEqual(
      [],
    );
    const code = bundleOf(fn);
    expect(code).toContain('reconcile-pipelines');
    expect(code.includes('open-apis')).toBe(false);
  });

  it('attaches no AWS managed policy to any role', () => {
    for (const [, role] of ofType('AWS::IAM::Role'))
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('keeps every secret value out of the template and the bundles; env vars hold names only', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(outdir);
    expect(files.some((f) => f.endsWith('.mjs'))).toBe(true);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const sentinel of Object.values(SENTINELS)) expect(text.includes(sentinel), file).toBe(false);
    }
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(env).sort()).toEqual(
        expect.arrayContaining(['SIGNOFF_ACCOUNT_ID', 'SIGNOFF_STATE_MACHINE_PREFIX', 'SIGNOFF_TABLE_NAME']),
      );
      for (const key of Object.keys(env)) expect(key).not.toMatch(/^(GITLAB|LARK|LINE|SLACK|DINGTALK)_/);
    }
  });

  it('creates the credentials secret with only a generated webhook token', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const generate = secrets[0]?.[1].Properties.GenerateSecretString as Record<string, unknown>;
    expect(generate.SecretStringTemplate).toBe('{}');
    expect(generate.GenerateStringKey).toBe('GITLAB_WEBHOOK_TOKEN');
    expect(secrets[0]?.[1].Properties.SecretString).toBeUndefined();
  });

  it('builds the table from core/table.ts: keys, indexes, on demand, PITR, TTL on expiresAt', () => {
    const definition = tableDefinition('x');
    const [, table] = ofType('AWS::DynamoDB::GlobalTable')[0] as [string, Resource];
    expect(table.Properties.KeySchema).toEqual(definition.KeySchema);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(
      (table.Properties.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: unknown }>).map(
        (i) => ({
          IndexName: i.IndexName,
          KeySchema: i.KeySchema,
        }),
      ),
    ).toEqual(
      definition.GlobalSecondaryIndexes?.map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema })),
    );
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    const replica = (table.Properties.Replicas as Array<Record<string, unknown>>)[0] as Record<
      string,
      unknown
    >;
    expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    // A test stage is not production: no deletion protection, removed with the stack.
    expect(replica.DeletionProtectionEnabled).toBe(false);
    expect(tableRef()).toBeDefined();
  });

  it('routes only the webhooks (GitLab, Lark, LINE, Slack, DingTalk) and the health check, throttled, and outputs their URLs', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties.RouteKey)
      .sort();
    expect(routes).toEqual([
      'GET /healthz',
      'POST /webhooks/dingtalk',
      'POST /webhooks/gitlab',
      'POST /webhooks/lark',
      'POST /webhooks/line',
      'POST /webhooks/slack',
    ]);
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0] as [string, Resource];
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
    });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const [name, path] of [
      ['GitLabWebhookUrl', '/webhooks/gitlab'],
      ['LarkWebhookUrl', '/webhooks/lark'],
      ['LineWebhookUrl', '/webhooks/line'],
      ['SlackWebhookUrl', '/webhooks/slack'],
      ['DingTalkWebhookUrl', '/webhooks/dingtalk'],
    ] as const) {
      expect(JSON.stringify(outputs[name]?.Value), name).toContain(path);
    }
  });

  it('throttles each route on its own, so a flood on one cannot starve the chat callbacks; the guide gives the figures', () => {
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0] as [string, Resource];
    const settings = stage.Properties.RouteSettings as Record<
      string,
      { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
    >;
    const routeKeys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey as string);
    expect(Object.keys(settings ?? {}).sort()).toEqual(routeKeys.sort());
    const expected = new Map<string, { rateLimit?: number; burstLimit?: number }>([
      ...WEBHOOK_ROUTES.map((r) => [`POST ${r.path}`, r.throttle] as const),
      ['GET /healthz', HEALTH_THROTTLE],
    ]);
    const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'deploy-aws.md'), 'utf8');
    for (const [key, throttle] of expected) {
      expect(settings[key], key).toEqual({
        ThrottlingRateLimit: throttle.rateLimit,
        ThrottlingBurstLimit: throttle.burstLimit,
      });
      // The callbacks together stay within the stage's default, which any other route falls back to.
      expect(throttle.rateLimit ?? 0, key).toBeLessThanOrEqual(50);
      expect(guide, `docs/deploy-aws.md gives the limit of ${key}`).toContain(
        `| \`${key}\` | ${throttle.rateLimit} | ${throttle.burstLimit} |`,
      );
    }
    // The stage depends on the routes its RouteSettings name (CloudFormation refuses unknown keys).
    const [stageId] = ofType('AWS::ApiGatewayV2::Stage')[0] as [string, Resource];
    const dependsOn = (template.toJSON().Resources[stageId] as { DependsOn?: string[] }).DependsOn ?? [];
    for (const [routeId] of ofType('AWS::ApiGatewayV2::Route')) expect(dependsOn).toContain(routeId);
  });

  it('alarms on failed, timed-out and aborted executions (not aborted reminders) and on 5xx, to the SNS topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const metrics = alarms.map((a) => `${a.Namespace}/${a.MetricName}`).sort();
    expect(metrics).toEqual(
      [
        'AWS/ApiGateway/5xx',
        ...[...stack.workflows.keys()].flatMap(() => [
          'AWS/States/ExecutionsAborted',
          'AWS/States/ExecutionsFailed',
          'AWS/States/ExecutionsTimedOut',
        ]),
        // Every approval decided before its last reminder stops its execution: ABORTED is normal there.
        'AWS/States/ExecutionsFailed',
        'AWS/States/ExecutionsTimedOut',
      ].sort(),
    );
    const [remindersId] = ofType('AWS::StepFunctions::StateMachine').find(
      ([, r]) => r.Properties.StateMachineName === `${prefix}reminders`,
    ) ?? [''];
    const onReminders = alarms.filter((a) => JSON.stringify(a.Dimensions).includes(`"Ref":"${remindersId}"`));
    expect(onReminders.map((a) => a.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    expect(onReminders.map((a) => a.AlarmName).sort()).toEqual([
      `${prefix}reminders-executions-failed`,
      `${prefix}reminders-executions-timedout`,
    ]);
    const [topicId] = ofType('AWS::SNS::Topic')[0] as [string, Resource];
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('passes cdk-nag AwsSolutions (synth threw otherwise) with every acknowledgement carrying a reason', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports?: Array<{
        pluginName: string;
        conclusion?: string;
        summary?: { status: string };
        violations?: unknown[];
      }>;
    };
    // Every plugin (cdk-nag, and the template validation) succeeded, without even a warning.
    const plugins = report.pluginReports ?? [];
    expect(plugins.filter((p) => (p.summary?.status ?? p.conclusion) !== 'success')).toEqual([]);
    expect(plugins.flatMap((p) => p.violations ?? [])).toEqual([]);
    const acknowledged: Array<{ path: string; id: string; reason: unknown }> = [];
    for (const node of stack.node.findAll()) {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          acknowledged.push({ path: node.node.path, id, reason });
        }
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { path, id, reason } of acknowledged) {
      expect(id, path).toMatch(/AwsSolutions-/);
      expect(typeof reason === 'string' && reason.length >= 40, `${path} ${id}`).toBe(true);
    }
  });
});

describe('the reminders machine, deployed for timers only', () => {
  it('is needed when a policy or one of its overrides has remind or escalate (a release through deploy’s policy too)', () => {
    const kinds = [...WORKFLOW_KINDS];
    expect(remindersUsed(parseConfig(DEFAULT_CONFIG_INPUT), kinds)).toBe(false);
    expect(remindersUsed(parseConfig(WITH_TIMERS), kinds)).toBe(true);
    // Only merge-request's override has timers.
    expect(remindersUsed(parseConfig(WITH_TIMERS), ['deploy', 'rollback', 'support-case'])).toBe(false);
    const policies = DEFAULT_CONFIG_INPUT.policies;
    const deployReminds = parseConfig({
      ...DEFAULT_CONFIG_INPUT,
      policies: { ...policies, deploy: { ...policies.deploy, remind: ['1h'] } },
    });
    expect(remindersUsed(deployReminds, ['release'])).toBe(true);
    const escalatesOnly = parseConfig({
      ...WITH_TIMERS,
      policies: {
        ...policies,
        'support-case': { ...policies['support-case'], escalate: { after: '1d', to: ['sre-oncall'] } },
      },
    });
    expect(remindersUsed(escalatesOnly, ['support-case'])).toBe(true);
  });

  it('is not deployed without timers: no machine, no remind-approvers function, no grant to start or stop it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-cdk-no-timers-'));
    try {
      const config = join(dir, 'signoff.config.json');
      writeFileSync(config, JSON.stringify(DEFAULT_CONFIG_INPUT));
      // No bundling: the template is what is checked (cdk-nag still runs).
      const { app, stack: plain } = buildApp({
        outdir: join(dir, 'out'),
        env: { SIGNOFF_CONFIG: config },
        context: { 'aws:cdk:bundling-stacks': [] as unknown as string, stage: 'test' },
      });
      app.synth();
      expect(plain.reminders).toBeUndefined();
      expect(plain.functions.has('remind-approvers')).toBe(false);
      const json = Template.fromStack(plain).toJSON() as { Resources: Record<string, Resource> };
      const names = Object.values(json.Resources).map((r) => JSON.stringify(r.Properties ?? {}));
      expect(
        names.filter((n) => n.includes(`${prefix}reminders`) || n.includes(`${prefix}remind-approvers`)),
      ).toEqual([]);
      const states = Object.values(json.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .flatMap((p) => actions((p.Properties.PolicyDocument as { Statement: Statement[] }).Statement));
      expect(states.filter((a) => a === 'states:StopExecution')).toEqual([]);
      expect(
        Object.values(json.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine'),
      ).toHaveLength(plain.workflows.size);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
