import type { ChatUser, Notice } from '../../core/chat.ts';
import type { CommandDefinition, Language } from '../../core/commands.ts';
import type { WorkflowKind } from '../../core/config.ts';
import type { AppDeps } from '../deps.ts';

/** What a command runs with. */
export interface CommandContext {
  deps: AppDeps;
  /** The configured user key (commands with `needsUser` only run when it is known). */
  user?: string;
  chatUser: ChatUser;
  language: Language;
  /** The text after the keyword. */
  argument: string;
  /**
   * A stable id of the triggering message (platform event id), for idempotent execution
   * names: a redelivered command maps to the same name and starts nothing new.
   */
  eventId: string;
}

/**
 * A chat command: how it is recognised, how `help` describes it, and what it does. Every
 * platform runs the same list (webhooks/commands/index.ts).
 */
export interface ChatCommand {
  definition: CommandDefinition;
  /** One help line per language, e.g. `status <id> — where a request is`. */
  help: Record<Language, string>;
  /** Refuse (with "I do not know you yet") when the chat identity maps to no configured user. */
  needsUser: boolean;
  /**
   * It starts a workflow: run from a button (`intent`), it runs once per button and person, and
   * a second tap is answered "already requested" with the first answer.
   */
  startsWorkflow?: boolean;
  /**
   * The workflow kinds whose policies it needs: while one has no policy (disabled), the command
   * answers "the <kind> workflow is not set up here" and does nothing else.
   */
  workflows?: WorkflowKind[];
  run(context: CommandContext & { user: string }): Promise<Notice>;
}
