import type { ChatUser, Notice } from '../../core/chat.ts';
import { guessLanguage, type Language, normalizeCommandText, parseCommand } from '../../core/commands.ts';
import { isWorkflowEnabled } from '../../core/config.ts';
import { WorkflowDisabledError } from '../../core/errors.ts';
import { intentKey, randomId, shortHash } from '../../core/ids.ts';
import type { AppDeps } from '../deps.ts';
import { CORE_COMMANDS } from './core.ts';
import { DELEGATE_COMMANDS } from './delegate.ts';
import { DEPLOY_COMMANDS } from './deploy.ts';
import { RELEASE_COMMANDS } from './release.ts';
import { SUPPORT_COMMANDS } from './support.ts';
import { t } from './text.ts';
import type { ChatCommand } from './types.ts';

/** Every chat command, on every platform. Workflow commands are added here. */
export const CHAT_COMMANDS: ChatCommand[] = [
  ...CORE_COMMANDS,
  ...DELEGATE_COMMANDS,
  ...SUPPORT_COMMANDS,
  ...DEPLOY_COMMANDS,
  ...RELEASE_COMMANDS,
];

export interface CommandRequest {
  /** The configured user, when the chat identity maps to one. */
  user?: string;
  chatUser: ChatUser;
  text: string;
  /** The platform's event id; when absent, one is made up (the command is then not de-duplicated). */
  eventId?: string;
  /** The idempotency key of the button that sent the command (`Notice.choices[].key`), with its platform. */
  intent?: { platform: string; key: string };
}

/** Whether typed text is one of the chat commands (in any of the four languages). */
export function isCommand(text: string, commands: ChatCommand[] = CHAT_COMMANDS): boolean {
  return (
    parseCommand(
      text,
      commands.map((c) => c.definition),
    ) !== undefined
  );
}

/** The answer to "help", and to anything not understood (never silence). */
export function helpNotice(language: Language, commands: ChatCommand[], prefix?: string): Notice {
  const lines = commands.map((command) => command.help[language]);
  return { title: t('helpTitle', language), text: `${prefix ? `${prefix}\n\n` : ''}${lines.join('\n')}` };
}

/** Run one chat command and say what happened, in the language it was written in. */
export async function runCommand(
  deps: AppDeps,
  request: CommandRequest,
  commands: ChatCommand[] = CHAT_COMMANDS,
): Promise<Notice> {
  const parsed = parseCommand(
    request.text,
    commands.map((c) => c.definition),
  );
  const language = parsed?.language ?? guessLanguage(request.text);
  // Cards and notices for this person follow the language of their last command (docs/chat-commands.md).
  if (parsed && request.user) await deps.signoff.rememberLanguage(request.user, parsed.language);
  const command = parsed && commands.find((c) => c.definition.name === parsed.name);
  if (!parsed || !command) return helpNotice(language, commands, t('unknownText', language));
  if (command.definition.name === 'help') return helpNotice(language, commands);
  const disabled = command.workflows?.find((kind) => !isWorkflowEnabled(deps.config, kind));
  if (disabled) return { text: new WorkflowDisabledError(disabled).message };
  if (command.needsUser && !request.user) {
    return { text: `${t('unknownUser', language)}${request.chatUser.platform} ${request.chatUser.id}` };
  }
  const run = (eventId: string) =>
    command
      .run({
        deps,
        user: request.user ?? '',
        chatUser: request.chatUser,
        language,
        argument: parsed.argument,
        eventId,
      })
      .then(withIntentKey);
  const intent = request.intent;
  if (!command.startsWorkflow || !intent) return run(request.eventId ?? randomId());

  // One effect per button and person: the execution name comes from the button, not the
  // event, and a second tap (or the same tap delivered twice) gets the first answer again. The
  // person is the configured user, so the same button sent to their Lark and their LINE (a
  // result's Roll back) acts once whichever they tap.
  const person = request.user ?? `${request.chatUser.platform}:${request.chatUser.id}`;
  const key = `${intent.key}-${shortHash(`${person}\n${normalizeCommandText(request.text)}`, 16)}`;
  const once = await deps.dedupe.once(
    'intent',
    key,
    deps.now(),
    () => run(key),
    (n) => n,
  );
  if (!once.duplicate) return once.value;
  const first = once.result as Partial<Notice> | undefined;
  return {
    title: `${t('alreadyRequested', language)} ${first?.title ?? request.text}`,
    text: first?.text ?? '',
    ...(first?.links ? { links: first.links } : {}),
  };
}

/**
 * Give a notice's buttons one idempotency key for this offer: tapping a button twice (or one
 * tap delivered twice) sends the same key, and the chat route acts on it once.
 */
function withIntentKey(notice: Notice): Notice {
  if (!notice.choices?.length) return notice;
  const key = intentKey();
  return { ...notice, choices: notice.choices.map((choice) => ({ ...choice, key: choice.key ?? key })) };
}
