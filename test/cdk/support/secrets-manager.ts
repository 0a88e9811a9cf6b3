/**
 * A wire-true stand-in for the one Secrets Manager call Signoff's functions make: Powertools
 * `getSecret` → `GetSecretValue`, AWS JSON 1.1 (`POST /`, `X-Amz-Target:
 * secretsmanager.GetSecretValue`, `Content-Type: application/x-amz-json-1.1`), reached through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`. A secret is found by its ARN or its name, as AWS finds it;
 * anything else answers as AWS does (ResourceNotFoundException, UnknownOperationException).
 * Requests are recorded with the SigV4 credential scope they were signed for.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface SecretsManagerRequest {
  /** `GetSecretValue`, … (the part after `secretsmanager.`). */
  operation: string;
  secretId?: string;
  /** From the Authorization header: `<access key>/<date>/<region>/<service>/aws4_request`. */
  credentialScope?: { accessKeyId: string; region: string; service: string };
  status: number;
}

export interface StoredSecret {
  /** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`. */
  arn: string;
  value: string;
}

export interface SecretsManagerFake {
  url: string;
  requests: SecretsManagerRequest[];
  /** Store (or replace) a secret's current value. */
  putSecret(secret: StoredSecret): void;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';

/** The secret's name: the ARN's resource part without the six random characters AWS appends. */
function nameOf(arn: string): string {
  return (arn.split(':secret:')[1] ?? '').replace(/-[A-Za-z0-9]{6}$/, '');
}

function credentialScopeOf(authorization: string | undefined): SecretsManagerRequest['credentialScope'] {
  const match = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  if (!match) return undefined;
  return { accessKeyId: match[1] as string, region: match[2] as string, service: match[3] as string };
}

/** Starts the fake on 127.0.0.1, port 0. */
export async function startSecretsManagerFake(): Promise<SecretsManagerFake> {
  const secrets = new Map<string, StoredSecret & { versionId: string; created: number }>();
  const requests: SecretsManagerRequest[] = [];
  const app = new Hono();

  app.post('/', async (c) => {
    const target = c.req.header('x-amz-target') ?? '';
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const record: SecretsManagerRequest = {
      operation,
      credentialScope: credentialScopeOf(c.req.header('authorization')),
      status: 200,
    };
    requests.push(record);
    const answer = (status: number, body: object) => {
      record.status = status;
      return c.body(JSON.stringify(body), status as ContentfulStatusCode, {
        'content-type': CONTENT_TYPE,
        'x-amzn-requestid': randomUUID(),
      });
    };
    const error = (type: string, message: string) => answer(400, { __type: type, Message: message });
    if (!record.credentialScope)
      return error('MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (!(c.req.header('content-type') ?? '').startsWith(CONTENT_TYPE)) {
      return error('SerializationException', `expected ${CONTENT_TYPE}`);
    }
    if (operation !== 'GetSecretValue')
      return error('UnknownOperationException', `Unknown operation ${target}`);
    let body: { SecretId?: unknown; VersionStage?: unknown };
    try {
      body = JSON.parse(await c.req.text()) as typeof body;
    } catch {
      return error('SerializationException', 'The request body is not valid JSON');
    }
    if (typeof body.SecretId !== 'string') return error('ValidationException', 'SecretId is required');
    record.secretId = body.SecretId;
    const secret =
      secrets.get(body.SecretId) ?? [...secrets.values()].find((s) => nameOf(s.arn) === body.SecretId);
    if (!secret || (body.VersionStage !== undefined && body.VersionStage !== 'AWSCURRENT')) {
      return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return answer(200, {
      ARN: secret.arn,
      Name: nameOf(secret.arn),
      VersionId: secret.versionId,
      SecretString: secret.value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.created,
    });
  });

  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    putSecret(secret) {
      secrets.set(secret.arn, { ...secret, versionId: randomUUID(), created: Date.now() / 1000 });
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
