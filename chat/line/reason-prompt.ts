import type { messagingApi } from '@line/bot-sdk';
import type { ReasonPrompt } from '../../core/chat.ts';
import { reasonData } from './postback.ts';
import { LINE_TEXT_MAX, label, truncateUnits } from './render.ts';

/**
 * "Why reject …?" as a LINE text message with quick replies: one postback per common reason
 * (`a=<approvalId>&d=reject&r=<key>&l=<language>`, about 60 of LINE's 300 characters), shown as
 * the reason when tapped. LINE has no text field in a message: the prompt says to type the
 * reason instead, and quick replies vanish once the person sends anything.
 */
export function renderLineReasonPrompt(prompt: ReasonPrompt): messagingApi.TextMessage {
  return {
    type: 'text',
    text: truncateUnits(prompt.text, LINE_TEXT_MAX),
    quickReply: {
      items: prompt.reasons.map((reason) => ({
        type: 'action',
        action: {
          type: 'postback',
          label: label(reason.label),
          data: reasonData(prompt.approvalId, reason.key, prompt.language),
          displayText: reason.label,
        },
      })),
    },
  };
}
