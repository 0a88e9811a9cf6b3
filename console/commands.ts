import { Hono } from 'hono';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors.ts';
import { describeIssues, parseJson, readRawJsonBody } from '../webhooks/body.ts';
import { runCommand } from '../webhooks/commands/index.ts';
import type { AppDeps } from '../webhooks/deps.ts';
import { actingActor, requireIdentity } from './auth.ts';

const CommandBody = z
  .object({
    /** Demo mode only (see DecisionBody). */
    actor: z.string().min(1).max(64).optional(),
    text: z.string().min(1).max(4000),
    /** A client-chosen id that makes a retried command idempotent (like a chat event id). */
    eventId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
  })
  .strict();

/**
 * `POST /console/api/commands`: the console as a chat platform. The same commands as in
 * Lark or LINE, typed in the console by a configured user; the answer is the notice a chat
 * platform would show (with its choices as follow-up commands).
 */
export function consoleCommands(deps: AppDeps): Hono {
  const app = new Hono();
  app.use('*', requireIdentity(deps, 'api'));
  app.post('/', async (c) => {
    const parsed = CommandBody.safeParse(parseJson(await readRawJsonBody(c, 16 * 1024)));
    if (!parsed.success) throw new InvalidInputError(describeIssues(parsed.error.issues));
    const actor = actingActor(deps, c, parsed.data.actor);
    const notice = await runCommand(deps, {
      ...(actor.user ? { user: actor.user } : {}),
      chatUser: { platform: 'console', id: actor.id, name: actor.name },
      text: parsed.data.text,
      ...(parsed.data.eventId ? { eventId: `console-${parsed.data.eventId}` } : {}),
    });
    return c.json({ notice });
  });
  return app;
}
