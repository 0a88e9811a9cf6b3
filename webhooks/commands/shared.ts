import type { Actor } from '../../core/approvals/types.ts';
import type { Language } from '../../core/commands.ts';
import { policyFor, type WorkflowKind } from '../../core/config.ts';
import { translate } from '../../core/messages/index.ts';
import type { AppDeps } from '../deps.ts';
import type { CommandContext } from './types.ts';

/** A command a button sends back, in the language the person wrote in. */
export function commandIn(
  keywords: Record<Language, string[]>,
  language: Language,
  argument: string,
): string {
  return `${keywords[language][0] ?? keywords.en[0]} ${argument}`;
}

/** The person running a command, as the requester of what it starts (identity from the verified chat user). */
export function requesterOf(context: CommandContext & { user: string }): Actor {
  const { deps, user, chatUser } = context;
  return { platform: chatUser.platform, id: chatUser.id, name: deps.config.users[user]?.name ?? user, user };
}

/** "Bob, Carol (2 needed)" for a kind's policy in a scope (an environment, a release). */
export function approversText(deps: AppDeps, kind: WorkflowKind, scope: string, language: Language): string {
  const policy = policyFor(deps.config, kind, scope);
  const names = policy.approvers.map((key) => deps.config.users[key]?.name ?? key).join(', ');
  return translate(language, 'approversNeeded', { names, n: policy.required });
}
