import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActionHandler } from './api.ts';
import { SfnApiError } from './errors.ts';
import { isObject } from './resources.ts';

const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY_BYTES = 1_048_576;

export interface ProtocolServer {
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

/** Serves AWS JSON 1.0 (`POST /`, `X-Amz-Target: AWSStepFunctions.<Action>`) over the given actions. */
export function createProtocolServer(
  actions: Record<string, ActionHandler>,
  log: (message: string, fields?: Record<string, unknown>) => void,
): ProtocolServer {
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log('engine request failed', { error: String(error) });
      if (!res.headersSent)
        send(res, 500, { __type: 'com.amazonaws.sfn#InternalFailure', message: 'internal error' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      const handler = req.method === 'POST' && Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!handler) throw new SfnApiError('UnknownOperationException', `Unknown operation: '${target}'`);
      let parsed: unknown = {};
      if (body.trim() !== '') {
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new SfnApiError('SerializationException', 'The request body is not valid JSON');
        }
      }
      if (!isObject(parsed))
        throw new SfnApiError('SerializationException', 'The request body must be a JSON object');
      send(res, 200, await handler(parsed));
    } catch (error) {
      if (!(error instanceof SfnApiError)) throw error;
      send(res, error.status, { __type: `com.amazonaws.sfn#${error.code}`, message: error.message });
    }
  }

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const { port: bound } = server.address() as AddressInfo;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${bound}`);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new SfnApiError('ValidationException', 'The request body is too large'));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(data),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(data);
}
