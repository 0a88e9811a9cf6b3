/**
 * AWS STS `GetCallerIdentity` over its real wire format (the AWS Query protocol: a form post,
 * an XML answer), for the CLI's identity on AWS. Each request's SigV4 signature is checked
 * against the secret of its access key, as STS does: a request signed with the wrong secret is
 * refused with `SignatureDoesNotMatch`, an unknown key with `InvalidClientTokenId`.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

/** An IAM identity the fake knows: its access key, secret and the ARN STS reports for it. */
export interface StsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  arn: string;
}

export interface StsFake {
  url: string;
  /** The access key ids of the requests it answered (refused ones excluded). */
  callers: string[];
  close(): Promise<void>;
}

/** SHA-256 (or HMAC-SHA256 with a secret) as the SigV4 signer wants it. */
class Sha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Start the fake on a loopback port. */
export async function startStsFake(identities: StsIdentity[]): Promise<StsFake> {
  const callers: string[] = [];
  const server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    const reply = (status: number, xml: string) => {
      response.writeHead(status, { 'content-type': 'text/xml' });
      response.end(xml);
    };
    const auth = String(request.headers.authorization ?? '');
    const match = auth.match(
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/,
    );
    if (!match)
      return reply(403, errorXml('MissingAuthenticationToken', 'Request is missing Authentication Token'));
    const [, accessKeyId, , region, signedHeaders, signature] = match as unknown as string[];
    const identity = identities.find((i) => i.accessKeyId === accessKeyId);
    if (!identity)
      return reply(
        403,
        errorXml('InvalidClientTokenId', 'The security token included in the request is invalid.'),
      );
    // Sign the same request with the key's secret and compare, as STS does.
    const amzDate = String(request.headers['x-amz-date'] ?? '');
    const date = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const headers: Record<string, string> = {};
    for (const name of (signedHeaders as string).split(';'))
      headers[name] = String(request.headers[name] ?? '');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const signer = new SignatureV4({
      credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey },
      region: region as string,
      service: 'sts',
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: request.method ?? 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      },
      { signingDate: date },
    );
    const expected = String(signed.headers.authorization ?? '').split('Signature=')[1];
    if (Number.isNaN(date.getTime()) || expected !== signature)
      return reply(
        403,
        errorXml(
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided.',
        ),
      );
    const form = new URLSearchParams(body);
    if (form.get('Action') !== 'GetCallerIdentity')
      return reply(400, errorXml('InvalidAction', `Could not find operation ${form.get('Action') ?? ''}`));
    callers.push(identity.accessKeyId);
    const account = identity.arn.split(':')[4] ?? '';
    reply(
      200,
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${identity.arn}</Arn><UserId>AIDA${identity.accessKeyId}</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    callers,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
