/**
 * API Gateway HTTP API events (payload format 2.0), as the integration of a route hands them
 * to its Lambda function, and the function's answer read back as API Gateway reads it.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import { randomUUID } from 'node:crypto';

export interface HttpApiRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The client's address as API Gateway sees it. */
  sourceIp?: string;
}

export interface HttpApiAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The event for `request` arriving on the route `routeKey` (e.g. `POST /webhooks/line`) of stage `$default`. */
export function httpApiEvent(
  request: HttpApiRequest,
  routeKey: string,
  api: { apiId: string; accountId: string; region: string },
): Record<string, unknown> {
  const now = new Date();
  // API Gateway lower-cases header names and joins repeated ones with commas.
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const domainName = `${api.apiId}.execute-api.${api.region}.amazonaws.com`;
  headers.host = domainName;
  const body = request.body ?? '';
  const textual = /^(application\/(json|x-www-form-urlencoded)|text\/)/.test(headers['content-type'] ?? '');
  return {
    version: '2.0',
    routeKey,
    rawPath: request.path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: api.accountId,
      apiId: api.apiId,
      domainName,
      domainPrefix: api.apiId,
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '203.0.113.7',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(request.body === undefined
      ? {}
      : textual
        ? { body, isBase64Encoded: false }
        : { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
  };
}

/** Read a function's answer (`{statusCode, headers, body, isBase64Encoded}`) as API Gateway does. */
export function httpApiAnswer(result: unknown): HttpApiAnswer {
  const answer = (result ?? {}) as {
    statusCode?: number;
    headers?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
  };
  const body = answer.body ?? '';
  return {
    status: answer.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    body: answer.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
  };
}
