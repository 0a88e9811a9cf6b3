/**
 * DingTalk Stream mode for the local runtime: the official `dingtalk-stream` client holds a
 * WebSocket opened with the app key and secret, so robot messages and card clicks arrive
 * without a public URL. Each push is parsed by the adapter, handled by the same use cases as
 * the HTTP route (`handle`), and acknowledged with the adapter's answer; a push that failed is
 * not acknowledged, so DingTalk pushes it again (~60 s) and the de-duplication absorbs repeats.
 *
 * The SDK asks `https://api.dingtalk.com/v1.0/gateway/connections/open` for the socket; here
 * that request goes to DINGTALK_API_URL like every other call (tests point it at the fake).
 */
import { DWClient, type DWClientDownStream } from 'dingtalk-stream';
import type { ChatAnswer, Inbound } from '../../core/chat.ts';
import { SignoffError } from '../../core/errors.ts';
import { DINGTALK_DEFAULT_API_URL } from './client.ts';
import { DINGTALK_TOPIC_CARD, DINGTALK_TOPIC_ROBOT, type DingTalkAdapter } from './index.ts';

export interface DingTalkStreamOptions {
  appKey: string;
  appSecret: string;
  apiUrl?: string;
  adapter: DingTalkAdapter;
  /** The route's handling of parsed items (de-duplication, use cases, the adapter's answer). */
  handle(items: Inbound[], now: Date): Promise<ChatAnswer>;
  now(): Date;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export interface DingTalkStream {
  close(): void;
}

/** A DWClient that opens its connection through DINGTALK_API_URL. */
class SignoffStreamClient extends DWClient {
  constructor(
    opts: { clientId: string; clientSecret: string },
    private readonly gateway: string,
  ) {
    super({ ...opts, keepAlive: true });
  }

  override async getEndpoint(): Promise<this> {
    const response = await fetch(this.gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: 'signoff',
        subscriptions: this.config.subscriptions,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => ({}))) as { endpoint?: unknown; ticket?: unknown };
    if (response.status !== 200 || typeof body.endpoint !== 'string' || typeof body.ticket !== 'string') {
      throw new Error(`dingtalk stream: connections/open answered ${response.status}`);
    }
    // The SDK keeps the socket URL in a field its types call private.
    (this as unknown as { dw_url: string }).dw_url =
      `${body.endpoint}?ticket=${encodeURIComponent(body.ticket)}`;
    return this;
  }
}

/** Connects (retrying in the background until it can) and handles pushes until `close`. */
export function startDingTalkStream(options: DingTalkStreamOptions): DingTalkStream {
  const base = (options.apiUrl || DINGTALK_DEFAULT_API_URL).replace(/\/+$/, '');
  const client = new SignoffStreamClient(
    { clientId: options.appKey, clientSecret: options.appSecret },
    `${base}/v1.0/gateway/connections/open`,
  );

  const onPush = async (push: DWClientDownStream) => {
    const messageId = push.headers.messageId;
    const topic = push.headers.topic;
    const now = options.now();
    try {
      const items = options.adapter.receiveStream(topic, push.data, messageId, now);
      const answer = await options.handle(items, now);
      for (const error of answer.failed)
        options.log('warn', 'chat reply failed', { platform: 'dingtalk', error });
      client.socketCallBackResponse(messageId, answer.body);
    } catch (error) {
      if (error instanceof SignoffError) {
        // Bad input is answered (so it is not pushed again) and changes nothing.
        options.log('warn', 'dingtalk stream push refused', { topic, error: error.message });
        client.socketCallBackResponse(messageId, {});
        return;
      }
      // Not acknowledged: DingTalk pushes it again, and the claim on its id was released.
      options.log('error', 'dingtalk stream push failed', { topic, error: String(error) });
    }
  };
  client.registerCallbackListener(DINGTALK_TOPIC_ROBOT, (push) => void onPush(push));
  client.registerCallbackListener(DINGTALK_TOPIC_CARD, (push) => void onPush(push));
  void client.connect();
  options.log('info', 'dingtalk stream mode connecting', { gateway: base });
  return { close: () => client.disconnect() };
}
