/**
 * Socket Mode for the local runtime (`SLACK_APP_TOKEN`, an `xapp-` token with
 * `connections:write`): Slack delivers over a WebSocket the process opens, so a team can try
 * Slack without a public URL. Not offered on Lambda (it needs a long-running process).
 *
 * Each envelope becomes the HTTP request Slack would have sent to `/webhooks/slack` (the
 * Events API JSON, the interactivity form, the slash command form), signed with the signing
 * secret, and goes through the same route: verification, de-duplication, the use cases and the
 * adapter's answer are the ones HTTP deliveries get. The route's answer is the envelope's ack
 * (a modal's `response_action`, a slash command's reply). The WebSocket itself is the trust
 * boundary: Slack authenticated it with the app token.
 */
import { slackSignature } from './verify.ts';

export interface SlackSocketModeOptions {
  appToken: string;
  signingSecret: string;
  /** SLACK_API_URL: where `apps.connections.open` is (tests: the fake). */
  apiUrl?: string;
  /** Hands a request to the app (`app.fetch`). */
  deliver(request: Request): Promise<Response>;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface SlackSocketMode {
  close(): Promise<void>;
}

interface Envelope {
  ack(payload?: unknown): Promise<void>;
  type: string;
  body: unknown;
  retry_num?: number;
  retry_reason?: string;
}

/** Connects (apps.connections.open, then the WebSocket) and serves envelopes until closed. */
export async function startSlackSocketMode(options: SlackSocketModeOptions): Promise<SlackSocketMode> {
  const { SocketModeClient } = await import('@slack/socket-mode');
  const { resolveSlackApiUrl } = await import('./client.ts');
  const client = new SocketModeClient({
    appToken: options.appToken,
    clientOptions: { slackApiUrl: resolveSlackApiUrl(options.apiUrl) },
    logger: QUIET,
  });
  client.on('slack_event', (envelope: Envelope) => {
    handle(envelope).catch((error: unknown) =>
      options.log?.('slack socket mode envelope failed', { type: envelope.type, error: String(error) }),
    );
  });

  async function handle(envelope: Envelope): Promise<void> {
    const request = requestFor(envelope);
    if (!request) return envelope.ack();
    const response = await options.deliver(request);
    const text = await response.text();
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : undefined;
    } catch {
      payload = undefined;
    }
    const empty = !payload || (typeof payload === 'object' && Object.keys(payload).length === 0);
    // Events take no payload in their ack; interactivity and slash commands take the answer.
    await envelope.ack(
      envelope.type === 'events_api' || empty || response.status !== 200 ? undefined : payload,
    );
  }

  function requestFor(envelope: Envelope): Request | undefined {
    let body: string;
    let type: 'application/json' | 'application/x-www-form-urlencoded';
    if (envelope.type === 'events_api') {
      body = JSON.stringify(envelope.body);
      type = 'application/json';
    } else if (envelope.type === 'interactive') {
      body = new URLSearchParams({ payload: JSON.stringify(envelope.body) }).toString();
      type = 'application/x-www-form-urlencoded';
    } else if (envelope.type === 'slash_commands') {
      const fields = Object.entries((envelope.body ?? {}) as Record<string, unknown>).map(
        ([key, value]) => [key, String(value ?? '')] as [string, string],
      );
      body = new URLSearchParams(fields).toString();
      type = 'application/x-www-form-urlencoded';
    } else {
      return undefined;
    }
    const timestamp = Math.floor(Date.now() / 1000);
    return new Request('http://socket-mode.invalid/webhooks/slack', {
      method: 'POST',
      headers: {
        'content-type': type,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(body, timestamp, options.signingSecret),
        ...(envelope.retry_num ? { 'x-slack-retry-num': String(envelope.retry_num) } : {}),
      },
      body,
    });
  }

  await client.start();
  options.log?.('slack socket mode connected');
  return {
    async close() {
      await client.disconnect().catch(() => {});
    },
  };
}

const QUIET = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => 'error' as never,
  setName() {},
};
