/**
 * Slack as a chat adapter: verify and parse Events API, interactivity and slash-command
 * requests, post Block Kit cards (to each approver's DM or to a policy's channels) and update
 * every copy with `chat.update`. Protocol notes: docs/slack.md and ../shared/docs/platforms.md §3.
 *
 * How Slack answers (unlike Lark, the HTTP response to a click does not change the card):
 * - Approve: the route decides, then the core updates every stored `(channel, ts)` copy, the
 *   clicked one included; the 200 carries nothing. A refusal goes to the clicker alone, as an
 *   ephemeral message through the click's `response_url`.
 * - Reject: `receive` opens a modal asking for the reason (views.open with the click's
 *   trigger id, which lives ~3 s); its `view_submission` is the decision. A refusal is shown
 *   under the reason field; success closes the modal.
 * - Commands: a slash command is answered in the HTTP response (ephemeral); a mention or a DM
 *   with a message in that conversation.
 */
import type { MessageRef } from '../../core/approvals/types.ts';
import type {
  Card,
  ChatAdapter,
  ChatAnswer,
  Handled,
  Inbound,
  Notice,
  RawRequest,
  ReceiveContext,
  Recipient,
} from '../../core/chat.ts';
import { translate } from '../../core/messages/index.ts';
import { createSlackClient, SlackApiError, type SlackClient } from './client.ts';
import { parseSlackRequest, type ReasonRequest, reasonErrors } from './parse.ts';
import { renderReasonModal, renderSlackCard, renderSlackEphemeral, renderSlackNotice } from './render.ts';
import { isSlackSslCheck, verifySlackRequest } from './verify.ts';

export {
  createSlackClient,
  resolveSlackApiUrl,
  SLACK_DEFAULT_API_URL,
  SlackApiError,
  type SlackClient,
} from './client.ts';
export { parseSlackRequest } from './parse.ts';
export { renderReasonModal, renderSlackCard, renderSlackNotice } from './render.ts';
export { isSlackSslCheck, slackSignature, verifySlackRequest } from './verify.ts';

export interface SlackConfig {
  /** SLACK_SIGNING_SECRET: signs every request Slack sends. */
  signingSecret: string;
  /** SLACK_BOT_TOKEN: the bot's `xoxb-` token. */
  botToken: string;
  /** SLACK_API_URL: base URL of Web API methods (default https://slack.com/api/; tests: the fake). */
  apiUrl?: string;
  /** Per out-of-band Web API call (default 10 000 ms). */
  timeoutMs?: number;
  /** Replay window for X-Slack-Request-Timestamp, in seconds (default 300). */
  toleranceSeconds?: number;
}

const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

/** Creates the adapter; `deps.client` replaces the SDK-backed client. No request is made until needed. */
export function createSlackAdapter(config: SlackConfig, deps: { client?: SlackClient } = {}): ChatAdapter {
  const client =
    deps.client ??
    createSlackClient({
      botToken: config.botToken,
      ...(config.apiUrl ? { apiUrl: config.apiUrl } : {}),
      ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
    });

  async function channelOf(to: Recipient): Promise<string> {
    return to.kind === 'user' ? client.openDm(to.id) : to.id;
  }

  /** A Reject click: ask for the reason in a modal, in the clicker's language, inside Slack's 3 seconds. */
  async function askReason(ask: ReasonRequest, context: ReceiveContext | undefined): Promise<void> {
    const language = (await context?.languageOf(ask.actor).catch(() => undefined)) ?? 'en';
    try {
      await client.openView(
        ask.triggerId,
        renderReasonModal(
          { approvalId: ask.approvalId, ...(ask.title ? { title: ask.title } : {}) },
          ask.message ?? {},
          language,
        ),
      );
    } catch {
      if (ask.responseUrl)
        await client
          .respond(ask.responseUrl, renderSlackEphemeral(translate(language, 'reasonFormFailed')))
          .catch(() => {});
    }
  }

  return {
    platform: 'slack',
    contentTypes: CONTENT_TYPES,

    async receive(request: RawRequest, context?: ReceiveContext): Promise<Inbound[]> {
      // Slack's SSL check is the one unsigned request: answered, never acted on.
      if (isSlackSslCheck(request)) return [{ kind: 'reply', status: 200, body: {} }];
      verifySlackRequest(request, config.signingSecret, config.toleranceSeconds);
      const parsed = parseSlackRequest(request.header('content-type') ?? '', request.body);
      if (parsed.askReason) await askReason(parsed.askReason, context);
      return [parsed.item];
    },

    async send(to: Recipient, card: Card): Promise<MessageRef> {
      const posted = await client.postMessage(await channelOf(to), renderSlackCard(card));
      return { platform: 'slack', id: posted.ts, to: posted.channel };
    },

    async update(ref: MessageRef, card: Card): Promise<void> {
      if (!ref.to)
        throw new SlackApiError('slack update: the message reference has no channel (to)', {
          code: 'no_channel',
        });
      await client.update(ref.to, ref.id, renderSlackCard(card));
    },

    async notify(to: Recipient, notice: Notice): Promise<void> {
      await client.postMessage(await channelOf(to), renderSlackNotice(notice));
    },

    // The answer to a click is only an acknowledgement: every copy is updated with chat.update.
    answeredBy: () => undefined,

    async answer(handled: Handled[]): Promise<ChatAnswer> {
      let body: unknown = {};
      const failed: string[] = [];
      const report = (error: unknown) => {
        failed.push(String(error));
      };
      for (const done of handled) {
        if (done.kind === 'reply') body = done.body;
        else if (done.kind === 'decision') {
          const refused = done.toast?.kind === 'error' ? done.toast.text : undefined;
          if (done.item.modal) {
            // Keep the modal open with the refusal under the reason; else close it.
            body = refused ? reasonErrors(refused) : { response_action: 'clear' };
          } else if (refused && done.item.responseUrl) {
            await client.respond(done.item.responseUrl, renderSlackEphemeral(refused)).catch(report);
          }
        } else if (done.kind === 'command') {
          if (done.item.slash) {
            body = done.notice
              ? { response_type: 'ephemeral', ...renderSlackNotice(done.notice) }
              : { response_type: 'ephemeral', text: '✅' }; // no words: nothing to say in any language
          } else if (done.notice) {
            await this.notify(done.item.where, done.notice).catch(report);
          }
        }
      }
      return { body, failed };
    },

    lookupByEmail(email: string): Promise<string | undefined> {
      return client.lookupByEmail(email);
    },
  };
}
