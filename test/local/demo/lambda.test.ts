import {
  GetAliasCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEMO_FUNCTIONS,
  LAMBDA_DEMO_LABEL,
  type LambdaFake,
  startLambdaFake,
} from '../../../local/demo/lambda.ts';

describe('startLambdaFake', () => {
  let fake: LambdaFake;
  let sdk: LambdaClient;

  beforeEach(async () => {
    fake = await startLambdaFake({ functions: DEMO_FUNCTIONS });
    sdk = new LambdaClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    sdk.destroy();
    await fake.close();
  });

  it('lists functions in pages, as ListFunctions does', async () => {
    const first = await sdk.send(new ListFunctionsCommand({ MaxItems: 2 }));
    expect(first.Functions?.map((f) => f.FunctionName)).toEqual(['demo-notifier', 'demo-orders']);
    expect(first.NextMarker).toBeTruthy();
    const second = await sdk.send(new ListFunctionsCommand({ MaxItems: 2, Marker: first.NextMarker }));
    expect(second.Functions?.map((f) => f.FunctionName)).toEqual(['demo-payments']);
    expect(second.NextMarker).toBeUndefined();
    expect(first.Functions?.[0]?.FunctionArn).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:demo-notifier',
    );
  });

  it('answers GetAlias and ListAliases with AliasArn, FunctionVersion and RevisionId', async () => {
    const alias = await sdk.send(new GetAliasCommand({ FunctionName: 'demo-orders', Name: 'test' }));
    expect(alias).toMatchObject({
      AliasArn: 'arn:aws:lambda:us-east-1:123456789012:function:demo-orders:test',
      Name: 'test',
      FunctionVersion: '3',
    });
    expect(alias.RevisionId).toMatch(/^[0-9a-f-]{36}$/);
    const byArn = await sdk.send(
      new GetAliasCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:demo-orders',
        Name: 'prod',
      }),
    );
    expect(byArn.FunctionVersion).toBe('2');
    const list = await sdk.send(new ListAliasesCommand({ FunctionName: 'demo-orders' }));
    expect(list.Aliases?.map((a) => `${a.Name}=${a.FunctionVersion}`)).toEqual(['dev=4', 'prod=2', 'test=3']);
    const onVersion = await sdk.send(
      new ListAliasesCommand({ FunctionName: 'demo-orders', FunctionVersion: '4' }),
    );
    expect(onVersion.Aliases?.map((a) => a.Name)).toEqual(['dev']);
  });

  it('updates an alias only when the RevisionId matches, and gives it a new one', async () => {
    const before = await sdk.send(new GetAliasCommand({ FunctionName: 'demo-orders', Name: 'test' }));
    const updated = await sdk.send(
      new UpdateAliasCommand({
        FunctionName: 'demo-orders',
        Name: 'test',
        FunctionVersion: '4',
        RevisionId: before.RevisionId,
      }),
    );
    expect(updated.FunctionVersion).toBe('4');
    expect(updated.RevisionId).not.toBe(before.RevisionId);
    expect(fake.aliasVersion('demo-orders', 'test')).toBe('4');

    const stale = sdk.send(
      new UpdateAliasCommand({
        FunctionName: 'demo-orders',
        Name: 'test',
        FunctionVersion: '3',
        RevisionId: before.RevisionId,
      }),
    );
    await expect(stale).rejects.toBeInstanceOf(PreconditionFailedException);
    await expect(stale).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect(fake.aliasVersion('demo-orders', 'test')).toBe('4');
  });

  it('sends AWS error JSON with the x-amzn-errortype header', async () => {
    const missing = sdk.send(new GetAliasCommand({ FunctionName: 'demo-orders', Name: 'staging' }));
    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    const badVersion = sdk.send(
      new UpdateAliasCommand({ FunctionName: 'demo-orders', Name: 'test', FunctionVersion: '99' }),
    );
    await expect(badVersion).rejects.toBeInstanceOf(ResourceNotFoundException);

    const raw = await fetch(`${fake.url}/2015-03-31/functions/nope/aliases/test`, {
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=test' },
    });
    expect(raw.status).toBe(404);
    expect(raw.headers.get('x-amzn-errortype')).toMatch(/^ResourceNotFoundException:/);
    expect(await raw.json()).toEqual({ Type: 'User', message: 'Function not found: nope' });
  });

  it('refuses unsigned requests', async () => {
    const raw = await fetch(`${fake.url}/2015-03-31/functions/`);
    expect(raw.status).toBe(403);
    expect(raw.headers.get('x-amzn-errortype')).toMatch(/^MissingAuthenticationTokenException/);
  });

  it('lists versions with $LATEST first, and tags by function ARN', async () => {
    const versions = await sdk.send(new ListVersionsByFunctionCommand({ FunctionName: 'demo-payments' }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2', '3']);
    const tags = await sdk.send(
      new ListTagsCommand({ Resource: 'arn:aws:lambda:us-east-1:123456789012:function:demo-payments' }),
    );
    expect(tags.Tags).toEqual({ team: 'shop', signoff: 'deploy' });
  });

  it('fails the next calls on demand, for any action or one action only', async () => {
    fake.failNext(1, { status: 429, type: 'TooManyRequestsException' }, 'UpdateAlias');
    await sdk.send(new GetAliasCommand({ FunctionName: 'demo-orders', Name: 'test' }));
    const throttled = sdk.send(
      new UpdateAliasCommand({ FunctionName: 'demo-orders', Name: 'test', FunctionVersion: '4' }),
    );
    await expect(throttled).rejects.toBeInstanceOf(TooManyRequestsException);
    expect(fake.aliasVersion('demo-orders', 'test')).toBe('3');
    await sdk.send(
      new UpdateAliasCommand({ FunctionName: 'demo-orders', Name: 'test', FunctionVersion: '4' }),
    );
    expect(fake.aliasVersion('demo-orders', 'test')).toBe('4');
  });

  it('records every request with its action, and lets tests change aliases behind the client', async () => {
    const before = await sdk.send(new GetAliasCommand({ FunctionName: 'demo-orders', Name: 'test' }));
    fake.setAlias('demo-orders', 'test', '1');
    const after = await sdk.send(new GetAliasCommand({ FunctionName: 'demo-orders', Name: 'test' }));
    expect(after.FunctionVersion).toBe('1');
    expect(after.RevisionId).not.toBe(before.RevisionId);
    expect(fake.publishVersion('demo-orders')).toBe('5');
    expect(fake.requests.map((r) => `${r.action} ${r.method} ${r.path}`)).toEqual([
      'GetAlias GET /2015-03-31/functions/demo-orders/aliases/test',
      'GetAlias GET /2015-03-31/functions/demo-orders/aliases/test',
    ]);
  });

  it('serves a labelled page listing the functions and the calls', async () => {
    await sdk.send(new GetAliasCommand({ FunctionName: 'demo-orders', Name: 'test' }));
    const page = await (await fetch(`${fake.url}/`)).text();
    expect(page).toContain(LAMBDA_DEMO_LABEL);
    expect(page).toContain('demo-orders');
    expect(page).toContain('GetAlias');
  });
});
