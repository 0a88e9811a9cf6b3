import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A DynamoDB endpoint that throttles a share of the requests it forwards. */
export interface ThrottlingProxy {
  url: string;
  /** Requests answered with ProvisionedThroughputExceededException, by operation. */
  throttled: Map<string, number>;
  forwarded: number;
  /** Throttle this share (0–1) of the requests from now on. */
  setRate(rate: number): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An HTTP proxy in front of a DynamoDB endpoint (the embedded one) that answers a share of the
 * requests as DynamoDB does when a table's throughput is exceeded: HTTP 400,
 * `x-amz-json-1.0`, `__type` …#ProvisionedThroughputExceededException. The SDK treats that as
 * a throttling error and retries with backoff. The choice is a seeded sequence, so a run is
 * repeatable.
 */
export async function startThrottlingProxy(target: string, seed = 1): Promise<ThrottlingProxy> {
  let rate = 0;
  let state = seed >>> 0 || 1;
  const next = () => {
    // xorshift32: repeatable, good enough to pick requests.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const throttled = new Map<string, number>();
  let forwarded = 0;
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const operation =
      String(request.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    if (rate > 0 && next() < rate) {
      throttled.set(operation, (throttled.get(operation) ?? 0) + 1);
      response.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `throttled-${Date.now()}`,
      });
      response.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message:
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        }),
      );
      return;
    }
    forwarded++;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
    }
    try {
      const upstream = await fetch(target, { method: request.method, headers, body: new Uint8Array(body) });
      const text = Buffer.from(await upstream.arrayBuffer());
      response.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/x-amz-json-1.0',
      });
      response.end(text);
    } catch (error) {
      response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: `proxy: ${String(error)}` }));
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    throttled,
    get forwarded() {
      return forwarded;
    },
    setRate(value) {
      rate = value;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
