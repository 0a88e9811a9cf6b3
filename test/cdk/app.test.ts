import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/app.ts';
import { isProductionStage, readDeploySettings } from '../../cdk/settings.ts';
import { ConfigError } from '../../core/errors.ts';

// These stacks skip esbuild (bundling-stacks: []): they check settings, not code.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as unknown as Record<string, string>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-cdk-app-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function settings(values: Record<string, string>) {
  return readDeploySettings((key, envName) => values[key] ?? values[envName]);
}

// Synth runs cdk-nag over every construct: seconds, not milliseconds.
describe('buildApp', { timeout: 60_000 }, () => {
  it('fails with the ConfigError message when signoff.config.json has a bad field', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({
        users: { alice: { name: 'Alice' } },
        policies: {
          'merge-request': { approvers: ['dave'] },
          deploy: { approvers: ['alice'], required: 0 },
          rollback: { approvers: ['alice'] },
          'support-case': { approvers: ['alice'] },
        },
      }),
    );
    let caught: unknown;
    try {
      buildApp({ env: { SIGNOFF_CONFIG: path }, context: NO_BUNDLING, outdir: join(dir, 'out-bad') });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain('policies.merge-request.approvers: unknown user "dave"');
    expect((caught as Error).message).toContain('policies.deploy.required');
  });

  it('names the stack and resources after the stage, and protects production data', () => {
    const { stack } = buildApp({
      env: {},
      context: { ...NO_BUNDLING, stage: 'prod' },
      outdir: join(dir, 'out-prod'),
      nag: false,
    });
    expect(stack.stackName).toBe('signoff-prod');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'signoff-prod-request-approval',
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'signoff-prod-merge-request',
    });
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
    const table = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'))[0] as {
      Properties: { Replicas: Array<{ DeletionProtectionEnabled: boolean }> };
    };
    expect(table.Properties.Replicas[0]?.DeletionProtectionEnabled).toBe(true);
  });

  it('takes the stack name and stage from the environment when there is no context', () => {
    const { stack } = buildApp({
      env: { SIGNOFF_STAGE: 'staging', SIGNOFF_STACK_NAME: 'team-signoff' },
      context: NO_BUNDLING,
      outdir: join(dir, 'out-env'),
      nag: false,
    });
    expect(stack.stackName).toBe('team-signoff');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'team-signoff-webhooks',
    });
  });

  /** Synthesize a stack (no bundling) with the default users and policies and this console section. */
  function synthWithConsole(name: string, console: Record<string, unknown> | undefined) {
    const path = join(dir, `${name}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        users: { alice: { name: 'Alice' }, bob: { name: 'Bob' } },
        policies: { 'merge-request': { approvers: ['bob'] }, deploy: { approvers: ['bob'] } },
        ...(console ? { console } : {}),
      }),
    );
    const { app, stack } = buildApp({
      env: { SIGNOFF_CONFIG: path },
      context: NO_BUNDLING,
      outdir: join(dir, `out-${name}`),
    });
    app.synth(); // cdk-nag passes (every route without an authorizer has its reason)
    return Template.fromStack(stack);
  }

  const OIDC = {
    allowRemote: true,
    publicUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
    oidc: { issuer: 'https://gitlab.example.com', clientId: 'signoff' },
  };

  it('routes the console for OpenID Connect sign-in (no IAM authorizer), with read access to executions', () => {
    const template = synthWithConsole('console-oidc', OIDC);
    for (const routeKey of ['ANY /console', 'ANY /console/{proxy+}']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'NONE',
      });
    }
    expect(JSON.stringify(template.findResources('AWS::ApiGatewayV2::Authorizer'))).toBe('{}');
    expect(
      Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter(
        (r) =>
          (r as { Properties: { AuthorizationType?: string } }).Properties.AuthorizationType === 'AWS_IAM',
      ),
    ).toEqual([]);
    const text = JSON.stringify(template.toJSON());
    expect(text).toContain('states:GetExecutionHistory');
    expect(text).toContain('states:DescribeStateMachineForExecution');
    expect(text).toContain('states:DescribeExecution');
    template.hasOutput('ConsoleUrl', {});
  });

  it('keeps the console closed (not routed) without console.oidc, even with allowRemote; /readyz can still list executions', () => {
    for (const [name, console] of [
      ['console-none', undefined],
      ['console-remote', { allowRemote: true }],
    ] as const) {
      const template = synthWithConsole(name, console);
      const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
        (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
      );
      expect(keys.filter((key) => key.includes('/console'))).toEqual([]);
      const text = JSON.stringify(template.toJSON());
      expect(text).toContain('states:ListExecutions');
      expect(text).not.toContain('states:GetExecutionHistory');
    }
  });

  it('refuses console.oidc without allowRemote or publicUrl: the console would answer nobody on AWS', () => {
    const path = join(dir, 'oidc-local-only.json');
    writeFileSync(
      path,
      JSON.stringify({
        users: { bob: { name: 'Bob' } },
        policies: { 'merge-request': { approvers: ['bob'] } },
        demo: { requester: 'bob' },
        console: { oidc: OIDC.oidc },
      }),
    );
    expect(() =>
      buildApp({ env: { SIGNOFF_CONFIG: path }, context: NO_BUNDLING, outdir: join(dir, 'out-x') }),
    ).toThrow(/console.oidc on AWS needs console.allowRemote: true and console.publicUrl/);
  });

  it('scopes alias actions to the configured names, prefix and tag; cdk-nag passes with reasons', () => {
    const path = join(dir, 'deploy.json');
    writeFileSync(
      path,
      JSON.stringify({
        users: { alice: { name: 'Alice' }, bob: { name: 'Bob' } },
        policies: {
          'merge-request': { approvers: ['bob'] },
          deploy: { approvers: ['bob'] },
          rollback: { approvers: ['bob'] },
          'support-case': { approvers: ['bob'] },
        },
        deploy: {
          environments: ['dev', 'prod'],
          functions: { names: ['orders'], prefix: 'shop-', tag: { key: 'team', value: 'payments' } },
        },
      }),
    );
    const { app, stack } = buildApp({
      env: { SIGNOFF_CONFIG: path },
      context: NO_BUNDLING,
      outdir: join(dir, 'out-deploy'),
    });
    app.synth(); // cdk-nag: every wildcard acknowledged
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
      Properties: { PolicyName: string; PolicyDocument: { Statement: Array<Record<string, unknown>> } };
    }>;
    const statement = (policy: string, sid: string) =>
      policies
        .find((p) => p.Properties.PolicyName.startsWith(policy))
        ?.Properties.PolicyDocument.Statement.find((s) => s.Sid === sid);
    const text = (value: unknown) => JSON.stringify(value);
    const byName = statement('TaskpromotealiasesRole', 'DeployFunctionsByName');
    expect(byName?.Action).toEqual(['lambda:GetAlias', 'lambda:UpdateAlias']);
    expect(text(byName?.Resource)).toContain(':function:orders"');
    expect(text(byName?.Resource)).toContain(':function:orders:*"');
    const selected = statement('TaskpromotealiasesRole', 'DeployFunctionsSelected');
    expect(text(selected?.Resource)).toContain(':function:shop-*"');
    expect(selected?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/team': 'payments' } });
    expect(statement('TaskdiffaliasesRole', 'ListFunctions')?.Resource).toBe('*');
    expect(text(statement('TaskdiffaliasesRole', 'ReadFunctionTags')?.Resource)).toContain(
      ':function:shop-*"',
    );
    expect(statement('TaskpromotealiasesRole', 'ListFunctions')).toBeUndefined();
  });

  it('deploys only the workflows that have a policy: no state machine or task function for the others', () => {
    const path = join(dir, 'merge-requests-only.json');
    writeFileSync(
      path,
      JSON.stringify({
        users: { alice: { name: 'Alice' }, bob: { name: 'Bob' } },
        policies: { 'merge-request': { approvers: ['bob'] } },
      }),
    );
    const { app, stack } = buildApp({
      env: { SIGNOFF_CONFIG: path },
      context: NO_BUNDLING,
      outdir: join(dir, 'out-merge-requests-only'),
    });
    app.synth(); // cdk-nag passes with one workflow
    expect([...stack.workflows.keys()]).toEqual(['merge-request']);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const names = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (fn) => (fn as { Properties: { FunctionName?: string } }).Properties.FunctionName,
    );
    expect(names).toContain('signoff-dev-merge-request');
    expect(names).not.toContain('signoff-dev-promote-aliases');
    expect(names).not.toContain('signoff-dev-support-case');
    expect(names).not.toContain('signoff-dev-trigger-pipeline');
    expect([...stack.scheduled.keys()]).toEqual([]);
  });

  it('fails synth on an unacknowledged cdk-nag finding', () => {
    const { app, stack } = buildApp({ env: {}, context: NO_BUNDLING, outdir: join(dir, 'out-nag') });
    // A bucket with no access logs breaks AwsSolutions-S1, among others.
    const bucket = new Bucket(stack, 'Unchecked', { removalPolicy: RemovalPolicy.DESTROY });
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    expect(Stack.of(bucket)).toBe(stack);
  });
});

describe('readDeploySettings', () => {
  it('defaults to the dev stage and names everything signoff-dev-', () => {
    expect(settings({})).toMatchObject({ stage: 'dev', stackName: 'signoff-dev', prefix: 'signoff-dev-' });
  });

  it('treats prod, production and prod-* as production stages', () => {
    expect(['prod', 'production', 'prod-eu'].map(isProductionStage)).toEqual([true, true, true]);
    expect(['dev', 'staging', 'preprod'].map(isProductionStage)).toEqual([false, false, false]);
  });

  it('names every bad value in one error', () => {
    expect(() =>
      settings({ stage: 'Prod!', throttleRate: '-1', alarmEmail: 'nope', logRetentionDays: '2' }),
    ).toThrow(/stage must match[\s\S]*alarmEmail[\s\S]*throttleRate[\s\S]*logRetentionDays/);
  });
});
