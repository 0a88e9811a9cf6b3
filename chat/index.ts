import type { ChatAdapter } from '../core/chat.ts';
import { createLarkAdapter } from './lark/index.ts';
import { createLineAdapter } from './line/index.ts';

/**
 * The chat platforms whose credentials are present, by the variable names of design §4.
 * Locally they come from the environment; on AWS from the Secrets Manager secret (same keys).
 */
export function chatAdapters(secrets: Record<string, string | undefined>): ChatAdapter[] {
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
  return adapters;
}
