import type { ChatUser, Notice } from '../../core/chat.ts';
import { guessLanguage, type Language, parseCommand } from '../../core/commands.ts';
import { randomId } from '../../core/ids.ts';
import type { AppDeps } from '../deps.ts';
import { CORE_COMMANDS } from './core.ts';
import { DEPLOY_COMMANDS } from './deploy.ts';
import { SUPPORT_COMMANDS } from './support.ts';
import { t } from './text.ts';
import type { ChatCommand } from './types.ts';

/** Every chat command, on every platform. Workflow commands are added here. */
export const CHAT_COMMANDS: ChatCommand[] = [...CORE_COMMANDS, ...SUPPORT_COMMANDS, ...DEPLOY_COMMANDS];

export interface CommandRequest {
  /** The configured user, when the chat identity maps to one. */
  user?: string;
  chatUser: ChatUser;
  text: string;
  /** The platform's event id; when absent, one is made up (the command is then not de-duplicated). */
  eventId?: string;
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
  const command = parsed && commands.find((c) => c.definition.name === parsed.name);
  if (!parsed || !command) return helpNotice(language, commands, t('unknownText', language));
  if (command.definition.name === 'help') return helpNotice(language, commands);
  if (command.needsUser && !request.user) {
    return { text: `${t('unknownUser', language)}${request.chatUser.platform} ${request.chatUser.id}` };
  }
  return command.run({
    deps,
    user: request.user ?? '',
    chatUser: request.chatUser,
    language,
    argument: parsed.argument,
    eventId: request.eventId ?? randomId(),
  });
}
