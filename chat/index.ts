import type { ChatAdapter } from '../core/chat.ts';
import { createDingTalkAdapter } from './dingtalk/index.ts';
import { createLarkAdapter } from './lark/index.ts';
import { createLineAdapter } from './line/index.ts';
import { createSlackAdapter } from './slack/index.ts';

/**
 * The chat platforms whose credentials are present, by the variable names of design §4.
 * Locally they come from the environment; on AWS from the Secrets Manager secret (same keys).
 */
export function chatAdapters(
  secrets: Record<string, string | undefined>,
  log?: (message: string, fields?: Record<string, unknown>) => void,
): ChatAdapter[] {
  const adapters: ChatAdapter[] = [];
  if (secrets.LARK_APP_ID && secrets.LARK_APP_SECRET) {
    adapters.push(
      createLarkAdapter({
        appId: secrets.LARK_APP_ID,
        appSecret: secrets.LARK_APP_SECRET,
        ...(secrets.LARK_VERIFICATION_TOKEN ? { verificationToken: secrets.LARK_VERIFICATION_TOKEN } : {}),
        ...(secrets.LARK_ENCRYPT_KEY ? { encryptKey: secrets.LARK_ENCRYPT_KEY } : {}),
        ...(secrets.LARK_DOMAIN ? { domain: secrets.LARK_DOMAIN } : {}),
      }),
    );
  }
  if (secrets.LINE_CHANNEL_SECRET && secrets.LINE_CHANNEL_ACCESS_TOKEN) {
    adapters.push(
      createLineAdapter({
        channelSecret: secrets.LINE_CHANNEL_SECRET,
        channelAccessToken: secrets.LINE_CHANNEL_ACCESS_TOKEN,
        ...(secrets.LINE_API_BASE_URL ? { apiBaseUrl: secrets.LINE_API_BASE_URL } : {}),
      }),
    );
  }
  if (secrets.SLACK_SIGNING_SECRET && secrets.SLACK_BOT_TOKEN) {
    adapters.push(
      createSlackAdapter({
        signingSecret: secrets.SLACK_SIGNING_SECRET,
        botToken: secrets.SLACK_BOT_TOKEN,
        ...(secrets.SLACK_API_URL ? { apiUrl: secrets.SLACK_API_URL } : {}),
      }),
    );
  }
  if (secrets.DINGTALK_APP_KEY && secrets.DINGTALK_APP_SECRET) {
    adapters.push(
      createDingTalkAdapter(
        {
          appKey: secrets.DINGTALK_APP_KEY,
          appSecret: secrets.DINGTALK_APP_SECRET,
          ...(secrets.DINGTALK_ROBOT_CODE ? { robotCode: secrets.DINGTALK_ROBOT_CODE } : {}),
          ...(secrets.DINGTALK_CARD_TEMPLATE_ID ? { cardTemplateId: secrets.DINGTALK_CARD_TEMPLATE_ID } : {}),
          ...(secrets.DINGTALK_API_URL ? { apiUrl: secrets.DINGTALK_API_URL } : {}),
          ...(secrets.DINGTALK_CORP_ID ? { corpId: secrets.DINGTALK_CORP_ID } : {}),
          ...(secrets.DINGTALK_CONSOLE_URL ? { consoleUrl: secrets.DINGTALK_CONSOLE_URL } : {}),
        },
        log ? { log } : {},
      ),
    );
  }
  return adapters;
}
