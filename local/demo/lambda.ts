/**
 * A wire-true stand-in for the parts of the AWS Lambda REST API (2015-03-31) that Signoff calls
 * through @aws-sdk/client-lambda: ListFunctions, ListAliases, GetAlias, UpdateAlias (RevisionId
 * honoured), ListVersionsByFunction and ListTags. Tests point the real client at it with
 * `endpoint`; the local runtime serves it, seeded with demo functions, as a labelled stand-in.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface FakeFunctionSeed {
  name: string;
  /** Published versions, e.g. `['1', '2', '3']` (`$LATEST` always exists). */
  versions: string[];
  /** Alias name → version. */
  aliases: Record<string, string>;
  tags?: Record<string, string>;
  runtime?: string;
  description?: string;
}

export interface FakeAlias {
  name: string;
  functionVersion: string;
  revisionId: string;
  description: string;
}

export interface FakeFunction {
  name: string;
  arn: string;
  versions: string[];
  aliases: Map<string, FakeAlias>;
  tags: Record<string, string>;
  runtime: string;
  description: string;
  lastModified: string;
}

export interface RecordedLambdaRequest {
  method: string;
  /** Path and query exactly as received. */
  path: string;
  /** The API action the request was for, e.g. `UpdateAlias`. */
  action: string;
  body: unknown;
  at: string;
}

/** An AWS error the next call answers with (status + `x-amzn-ErrorType`), or a hang until the client gives up. */
/**
 * An injected failure: an AWS error answered instead of the call, a call that hangs until the
 * client gives up (`timeout`), or a call that takes effect but whose answer is lost on the way
 * back (`lost-response`: a 502 after the change is made, as a dropped connection looks).
 */
export type LambdaFakeFailure =
  | { status: number; type: string; message?: string }
  | 'timeout'
  | 'lost-response';

export interface LambdaFake {
  url: string;
  region: string;
  accountId: string;
  label: string;
  requests: RecordedLambdaRequest[];
  seedFunction(seed: FakeFunctionSeed): FakeFunction;
  fn(name: string): FakeFunction | undefined;
  /** The version an alias points at, or undefined. */
  aliasVersion(functionName: string, alias: string): string | undefined;
  /** Change an alias behind Signoff's back (a person in the AWS console): new version, new RevisionId. */
  setAlias(functionName: string, alias: string, version: string): FakeAlias;
  /** Publish a new version (the next number) and return it. */
  publishVersion(functionName: string): string;
  /** The next `times` API calls (or only those of `action`) fail with `failure`. */
  failNext(times: number, failure: LambdaFakeFailure, action?: string): void;
  close(): Promise<void>;
}

export interface LambdaFakeOptions {
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
  label?: string;
  functions?: FakeFunctionSeed[];
}

export const LAMBDA_DEMO_LABEL = 'Demo AWS Lambda stand-in (local, not a real AWS account)';

/** The demo functions of the local runtime: three services whose dev, test and prod aliases differ. */
export const DEMO_FUNCTIONS: FakeFunctionSeed[] = [
  {
    name: 'demo-orders',
    versions: ['1', '2', '3', '4'],
    aliases: { dev: '4', test: '3', prod: '2' },
    tags: { team: 'shop', signoff: 'deploy' },
    description: 'Demo: takes orders',
  },
  {
    name: 'demo-payments',
    versions: ['1', '2', '3'],
    aliases: { dev: '3', test: '2', prod: '2' },
    tags: { team: 'shop', signoff: 'deploy' },
    description: 'Demo: charges cards',
  },
  {
    name: 'demo-notifier',
    versions: ['1', '2'],
    aliases: { dev: '2', test: '2', prod: '1' },
    tags: { team: 'platform', signoff: 'deploy' },
    description: 'Demo: sends e-mails',
  },
];

const API = '/2015-03-31/functions';

/** Starts the fake on loopback (port 0 unless given). */
export async function startLambdaFake(options: LambdaFakeOptions = {}): Promise<LambdaFake> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const label = options.label ?? LAMBDA_DEMO_LABEL;
  const host = options.host ?? '127.0.0.1';
  const functions = new Map<string, FakeFunction>();
  const requests: RecordedLambdaRequest[] = [];
  const failures: Array<{ failure: LambdaFakeFailure; action?: string }> = [];
  const hanging = new Set<() => void>();
  let baseUrl = '';

  const functionArn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;

  function seedFunction(seed: FakeFunctionSeed): FakeFunction {
    const fn: FakeFunction = {
      name: seed.name,
      arn: functionArn(seed.name),
      versions: [...seed.versions],
      aliases: new Map(),
      tags: { ...(seed.tags ?? {}) },
      runtime: seed.runtime ?? 'nodejs24.x',
      description: seed.description ?? '',
      lastModified: lambdaTime(new Date()),
    };
    for (const [alias, version] of Object.entries(seed.aliases)) {
      fn.aliases.set(alias, {
        name: alias,
        functionVersion: version,
        revisionId: randomUUID(),
        description: '',
      });
    }
    functions.set(fn.name, fn);
    return fn;
  }
  for (const seed of options.functions ?? []) seedFunction(seed);

  /** A FunctionName path parameter: a name, a full or partial function ARN, or `name:qualifier`. */
  function findFunction(raw: string): FakeFunction | undefined {
    const id = decodeURIComponent(raw);
    const parts = id.split(':');
    const name = id.startsWith('arn:') ? parts[6] : parts.length >= 3 ? parts[2] : parts[0];
    return name ? functions.get(name) : undefined;
  }

  function aliasJson(fn: FakeFunction, alias: FakeAlias) {
    return {
      AliasArn: `${fn.arn}:${alias.name}`,
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description,
      RevisionId: alias.revisionId,
    };
  }

  function configurationJson(fn: FakeFunction, version: string) {
    return {
      FunctionName: fn.name,
      FunctionArn: version === '$LATEST' ? fn.arn : `${fn.arn}:${version}`,
      Runtime: fn.runtime,
      Role: `arn:aws:iam::${accountId}:role/${fn.name}-role`,
      Handler: 'index.handler',
      CodeSize: 1024,
      Description: fn.description,
      Timeout: 3,
      MemorySize: 128,
      LastModified: fn.lastModified,
      CodeSha256: Buffer.from(`${fn.name}:${version}`).toString('base64'),
      Version: version,
      RevisionId: randomUUID(),
      PackageType: 'Zip',
      Architectures: ['arm64'],
    };
  }

  const app = new Hono<{ Variables: { body: unknown } }>();

  app.use('/20*', async (c, next) => {
    const text = await c.req.text();
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return awsError(c, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
    }
    c.set('body', body);
    const url = new URL(c.req.url);
    const action = actionOf(c.req.method, url.pathname);
    requests.push({
      method: c.req.method,
      path: url.pathname + url.search,
      action,
      body,
      at: new Date().toISOString(),
    });
    const index = failures.findIndex((f) => f.action === undefined || f.action === action);
    const pending = index >= 0 ? failures.splice(index, 1)[0] : undefined;
    if (pending?.failure === 'timeout') {
      await new Promise<void>((resolve) => {
        const done = () => {
          hanging.delete(done);
          resolve();
        };
        hanging.add(done);
        c.req.raw.signal.addEventListener('abort', done, { once: true });
      });
      return awsError(c, 504, 'ServiceException', 'timed out');
    }
    if (pending?.failure === 'lost-response') {
      await next();
      c.res = awsError(c, 502, 'ServiceException', 'the response was lost (injected by the fake)');
      return;
    }
    if (pending) {
      const { status, type, message } = pending.failure;
      if (status === 429) c.header('Retry-After', '1');
      return awsError(c, status, type, message ?? `${type} (injected by the fake)`);
    }
    // Requests must be SigV4-signed, as Lambda requires; the signature itself is not checked.
    if (!c.req.header('authorization')?.startsWith('AWS4-HMAC-SHA256')) {
      return awsError(c, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    return next();
  });

  app.get(`${API}/`, (c) => listFunctions(c));
  app.get(API, (c) => listFunctions(c));

  function listFunctions(c: Context) {
    const all = [...functions.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { page, next } = paginate(all, c.req.query('Marker'), c.req.query('MaxItems'));
    return c.json({
      Functions: page.map((fn) => configurationJson(fn, '$LATEST')),
      ...(next ? { NextMarker: next } : {}),
    });
  }

  app.get(`${API}/:fn/aliases`, (c) => {
    const fn = findFunction(c.req.param('fn'));
    if (!fn) return notFound(c, c.req.param('fn'));
    const version = c.req.query('FunctionVersion');
    const all = [...fn.aliases.values()]
      .filter((a) => !version || a.functionVersion === version)
      .sort((a, b) => a.name.localeCompare(b.name));
    const { page, next } = paginate(all, c.req.query('Marker'), c.req.query('MaxItems'));
    return c.json({ Aliases: page.map((a) => aliasJson(fn, a)), ...(next ? { NextMarker: next } : {}) });
  });

  app.get(`${API}/:fn/aliases/:alias`, (c) => {
    const fn = findFunction(c.req.param('fn'));
    if (!fn) return notFound(c, c.req.param('fn'));
    const alias = fn.aliases.get(decodeURIComponent(c.req.param('alias')));
    if (!alias) return aliasNotFound(c, fn, c.req.param('alias'));
    return c.json(aliasJson(fn, alias));
  });

  app.put(`${API}/:fn/aliases/:alias`, (c) => {
    const fn = findFunction(c.req.param('fn'));
    if (!fn) return notFound(c, c.req.param('fn'));
    const alias = fn.aliases.get(decodeURIComponent(c.req.param('alias')));
    if (!alias) return aliasNotFound(c, fn, c.req.param('alias'));
    const body = (c.get('body') ?? {}) as {
      FunctionVersion?: unknown;
      RevisionId?: unknown;
      Description?: unknown;
    };
    if (body.RevisionId !== undefined && body.RevisionId !== alias.revisionId) {
      return awsError(
        c,
        412,
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
    if (body.FunctionVersion !== undefined) {
      const version = String(body.FunctionVersion);
      if (version !== '$LATEST' && !fn.versions.includes(version)) {
        return awsError(c, 404, 'ResourceNotFoundException', `Function not found: ${fn.arn}:${version}`);
      }
      alias.functionVersion = version;
    }
    if (typeof body.Description === 'string') alias.description = body.Description;
    alias.revisionId = randomUUID();
    return c.json(aliasJson(fn, alias));
  });

  app.get(`${API}/:fn/versions`, (c) => {
    const fn = findFunction(c.req.param('fn'));
    if (!fn) return notFound(c, c.req.param('fn'));
    const all = ['$LATEST', ...fn.versions];
    const { page, next } = paginate(all, c.req.query('Marker'), c.req.query('MaxItems'));
    return c.json({
      Versions: page.map((v) => configurationJson(fn, v)),
      ...(next ? { NextMarker: next } : {}),
    });
  });

  app.get('/2017-03-31/tags/:resource', (c) => {
    const arn = decodeURIComponent(c.req.param('resource'));
    const fn = [...functions.values()].find((f) => f.arn === arn);
    if (!fn) return notFound(c, arn);
    return c.json({ Tags: fn.tags });
  });

  app.all('/20*', (c) =>
    awsError(c, 404, 'UnknownOperationException', `${c.req.method} ${c.req.path} is not served by this fake`),
  );

  app.get('/', (c) => c.html(demoPage(label, baseUrl, requests, [...functions.values()])));

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    region,
    accountId,
    label,
    requests,
    seedFunction,
    fn: (name) => functions.get(name),
    aliasVersion: (name, alias) => functions.get(name)?.aliases.get(alias)?.functionVersion,
    setAlias(name, aliasName, version) {
      const fn = functions.get(name);
      if (!fn) throw new Error(`no function ${name}`);
      const alias = fn.aliases.get(aliasName) ?? {
        name: aliasName,
        functionVersion: version,
        revisionId: '',
        description: '',
      };
      alias.functionVersion = version;
      alias.revisionId = randomUUID();
      fn.aliases.set(aliasName, alias);
      return alias;
    },
    publishVersion(name) {
      const fn = functions.get(name);
      if (!fn) throw new Error(`no function ${name}`);
      const next = String(Math.max(0, ...fn.versions.map(Number)) + 1);
      fn.versions.push(next);
      return next;
    },
    failNext(times, failure, action) {
      for (let i = 0; i < times; i++) failures.push(action ? { failure, action } : { failure });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const done of [...hanging]) done();
        server.close(() => resolve());
        // Keep-alive sockets of SDK clients would hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** The API action a request is for, by method and path (as Lambda routes them). */
function actionOf(method: string, path: string): string {
  if (path.startsWith('/2017-03-31/tags/')) return method === 'GET' ? 'ListTags' : 'TagResource';
  const rest = path.replace(/^\/2015-03-31\/functions\/?/, '');
  const parts = rest.split('/').filter(Boolean);
  if (parts.length === 0) return method === 'GET' ? 'ListFunctions' : 'CreateFunction';
  if (parts[1] === 'aliases' && parts.length === 2) return method === 'GET' ? 'ListAliases' : 'CreateAlias';
  if (parts[1] === 'aliases')
    return method === 'PUT' ? 'UpdateAlias' : method === 'GET' ? 'GetAlias' : 'DeleteAlias';
  if (parts[1] === 'versions') return method === 'GET' ? 'ListVersionsByFunction' : 'PublishVersion';
  return `${method} ${path}`;
}

function paginate<T>(all: T[], marker: string | undefined, maxItems: string | undefined) {
  const start = marker ? Number(Buffer.from(marker, 'base64url').toString()) || 0 : 0;
  const size = Math.min(Math.max(Number(maxItems) || 50, 1), 10_000);
  const page = all.slice(start, start + size);
  const next =
    start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return { page, next };
}

/** An error as Lambda sends it: the status, `x-amzn-ErrorType`, and `{Type, message}`. */
function awsError(c: Context, status: number, type: string, message: string) {
  c.header('x-amzn-errortype', `${type}:http://internal.amazon.com/coral/com.amazonaws.awsgirlambda/`);
  c.header('x-amzn-requestid', randomUUID());
  const body: Record<string, unknown> = { Type: status >= 500 ? 'Service' : 'User', message };
  if (type === 'TooManyRequestsException')
    Object.assign(body, { retryAfterSeconds: '1', Reason: 'CallerRateLimitExceeded' });
  return c.json(body, status as ContentfulStatusCode);
}

function notFound(c: Context, fn: string) {
  return awsError(c, 404, 'ResourceNotFoundException', `Function not found: ${decodeURIComponent(fn)}`);
}

function aliasNotFound(c: Context, fn: FakeFunction, alias: string) {
  return awsError(
    c,
    404,
    'ResourceNotFoundException',
    `Alias not found: ${fn.arn}:${decodeURIComponent(alias)}`,
  );
}

/** Lambda's LastModified format: `2025-05-01T12:00:00.000+0000`. */
function lambdaTime(at: Date): string {
  return at.toISOString().replace('Z', '+0000');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function demoPage(
  label: string,
  baseUrl: string,
  requests: RecordedLambdaRequest[],
  functions: FakeFunction[],
): string {
  const fns = functions
    .map((fn) => {
      const aliases = [...fn.aliases.values()]
        .map((a) => `${escapeHtml(a.name)} → ${escapeHtml(a.functionVersion)}`)
        .join(', ');
      return `<li><code>${escapeHtml(fn.name)}</code> versions ${escapeHtml(fn.versions.join(', '))}; aliases ${aliases}</li>`;
    })
    .join('\n');
  const rows = requests
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.at)}</td><td>${escapeHtml(r.action)}</td><td><code>${escapeHtml(r.method)} ${escapeHtml(r.path)}</code></td>` +
        `<td><code>${escapeHtml(r.body === null ? '' : JSON.stringify(r.body))}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(label)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}.banner{background:#fff3cd;padding:.5rem 1rem;border:1px solid #e0c36b}</style>
</head>
<body>
<p class="banner"><strong>${escapeHtml(label)}</strong>. It answers the Lambda REST API at <code>${escapeHtml(baseUrl)}</code> (set <code>AWS_ENDPOINT_URL_LAMBDA</code> to use a real one) and records every call; nothing here reaches AWS.</p>
<h2>Functions</h2>
<ul>${fns || '<li>none</li>'}</ul>
<h2>Recorded API calls (${requests.length})</h2>
<table><tr><th>at</th><th>action</th><th>request</th><th>body</th></tr>
${rows}
</table>
</body>
</html>`;
}
