import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrationError } from '../../core/errors.ts';
import {
  AliasChangedError,
  createLambdaClient,
  type LambdaClientLike,
  LambdaError,
  LambdaThrottledError,
} from '../../integrations/lambda.ts';
import { type LambdaFake, startLambdaFake } from '../../local/demo/lambda.ts';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createLambdaClient', () => {
  let fake: LambdaFake;
  let lambda: LambdaClientLike;

  beforeEach(async () => {
    fake = await startLambdaFake({
      functions: [
        {
          name: 'shop-orders',
          versions: ['1', '2'],
          aliases: { dev: '2', test: '1' },
          tags: { team: 'shop' },
        },
        { name: 'shop-cart', versions: ['1'], aliases: { dev: '1' }, tags: { team: 'web' } },
        {
          name: 'billing',
          versions: ['1', '2', '3'],
          aliases: { dev: '3', test: '3' },
          tags: { team: 'shop' },
        },
      ],
    });
    lambda = createLambdaClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('selects functions by names, prefix and tag', async () => {
    expect(await lambda.listFunctions({ names: ['billing'] })).toEqual(['billing']);
    expect(await lambda.listFunctions({ prefix: 'shop-' })).toEqual(['shop-cart', 'shop-orders']);
    expect(await lambda.listFunctions({ tag: { key: 'team', value: 'shop' } })).toEqual([
      'billing',
      'shop-orders',
    ]);
    expect(await lambda.listFunctions({ prefix: 'shop-', tag: { key: 'team', value: 'shop' } })).toEqual([
      'shop-orders',
    ]);
    expect(await lambda.listFunctions({ names: ['billing'], prefix: 'shop-c' })).toEqual([
      'billing',
      'shop-cart',
    ]);
    // Listed names are not looked up: no ListFunctions call for them.
    const before = fake.requests.length;
    await lambda.listFunctions({ names: ['billing'] });
    expect(fake.requests.length).toBe(before);
  });

  it('follows ListFunctions pages', async () => {
    for (let i = 0; i < 120; i++)
      fake.seedFunction({ name: `bulk-${String(i).padStart(3, '0')}`, versions: [], aliases: {} });
    expect(await lambda.listFunctions({ prefix: 'bulk-' })).toHaveLength(120);
    expect(fake.requests.filter((r) => r.action === 'ListFunctions').length).toBeGreaterThan(1);
  });

  it('reads an alias, and answers undefined for a missing alias or function', async () => {
    const alias = await lambda.getAlias('shop-orders', 'test');
    expect(alias).toMatchObject({ functionName: 'shop-orders', alias: 'test', functionVersion: '1' });
    expect(alias?.revisionId).toBe(fake.fn('shop-orders')?.aliases.get('test')?.revisionId);
    expect(await lambda.getAlias('shop-cart', 'test')).toBeUndefined();
    expect(await lambda.getAlias('nope', 'test')).toBeUndefined();
  });

  it('updates an alias with the RevisionId it was read with', async () => {
    const alias = await lambda.getAlias('shop-orders', 'test');
    const updated = await lambda.updateAlias('shop-orders', 'test', '2', alias?.revisionId ?? '');
    expect(updated.functionVersion).toBe('2');
    expect(updated.revisionId).not.toBe(alias?.revisionId);
    const sent = fake.requests.find((r) => r.action === 'UpdateAlias');
    expect(sent?.body).toEqual({ FunctionVersion: '2', RevisionId: alias?.revisionId });
  });

  it('throws AliasChangedError, not retryable, when the alias changed since it was read', async () => {
    const alias = await lambda.getAlias('shop-orders', 'test');
    fake.setAlias('shop-orders', 'test', '1');
    const error = await caught(lambda.updateAlias('shop-orders', 'test', '2', alias?.revisionId ?? ''));
    expect(error).toBeInstanceOf(AliasChangedError);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as AliasChangedError).name).toBe('AliasChangedError');
    expect((error as AliasChangedError).retryable).toBe(false);
    expect((error as Error).message).toContain('shop-orders:test');
    expect((error as Error).cause).toMatchObject({ name: 'PreconditionFailedException' });
    expect(fake.aliasVersion('shop-orders', 'test')).toBe('1');

    fake.failNext(1, { status: 409, type: 'ResourceConflictException' });
    const conflict = await caught(lambda.updateAlias('shop-orders', 'test', '2', 'whatever'));
    expect(conflict).toBeInstanceOf(AliasChangedError);
  });

  it('maps throttling to LambdaThrottledError and 5xx or network failures to LambdaUnavailableError, both retryable', async () => {
    fake.failNext(1, { status: 429, type: 'TooManyRequestsException' });
    const throttled = await caught(lambda.getAlias('shop-orders', 'test'));
    expect(throttled).toBeInstanceOf(LambdaThrottledError);
    expect((throttled as LambdaThrottledError).name).toBe('LambdaThrottledError');
    expect((throttled as LambdaThrottledError).retryable).toBe(true);

    fake.failNext(1, { status: 500, type: 'ServiceException' });
    const server = await caught(lambda.listVersions('shop-orders'));
    expect(server).toBeInstanceOf(LambdaError);
    expect((server as LambdaError).name).toBe('LambdaUnavailableError');
    expect((server as LambdaError).retryable).toBe(true);

    const url = fake.url;
    await fake.close();
    const offline = createLambdaClient({
      region: 'us-east-1',
      endpoint: url,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    const network = await caught(offline.getAlias('shop-orders', 'test'));
    expect(network).toBeInstanceOf(LambdaError);
    expect((network as LambdaError).name).toBe('LambdaUnavailableError');
    expect((network as LambdaError).retryable).toBe(true);
    fake = await startLambdaFake();
  });

  it('names a refusal that retrying cannot fix (403) a plain LambdaError, which the ASL does not retry', async () => {
    fake.failNext(1, { status: 403, type: 'AccessDeniedException' });
    const denied = await caught(lambda.getAlias('shop-orders', 'test'));
    expect(denied).toBeInstanceOf(LambdaError);
    expect((denied as LambdaError).name).toBe('LambdaError');
    expect((denied as LambdaError).retryable).toBe(false);
  });

  it('lets the SDK retry a single throttle when attempts remain', async () => {
    const patient = createLambdaClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: CREDENTIALS,
      maxAttempts: 3,
    });
    fake.failNext(1, { status: 429, type: 'TooManyRequestsException' });
    expect((await patient.getAlias('shop-orders', 'dev'))?.functionVersion).toBe('2');
    expect(fake.requests.filter((r) => r.action === 'GetAlias')).toHaveLength(2);
  });

  it('lists published versions, oldest first, across pages', async () => {
    const fn = fake.fn('billing');
    for (let i = 4; i <= 75; i++) fn?.versions.push(String(i));
    const versions = await lambda.listVersions('billing');
    expect(versions).toHaveLength(75);
    expect(versions.slice(0, 3)).toEqual(['1', '2', '3']);
    expect(versions.at(-1)).toBe('75');
    expect(versions).not.toContain('$LATEST');
  });
});
