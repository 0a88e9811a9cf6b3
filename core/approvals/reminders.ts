import type { Policy } from '../config.ts';
import { parseDuration } from '../durations.ts';

/** One timer of an approval's reminder machine: wait this long after the previous step, then act. */
export interface ReminderStep {
  waitSeconds: number;
  action: 'remind' | 'escalate';
  /** The step's place in the schedule (names its audit record, so a retried step records once). */
  index: number;
}

/**
 * The policy's `remind` and `escalate` as the reminder machine's steps, in time order, each
 * waiting from the previous one: `remind: ["30m", "2h"], escalate.after: "4h"` →
 * 1800 s remind, 5400 s remind, 7200 s escalate. Empty when the policy has neither.
 */
export function reminderSteps(policy: Pick<Policy, 'remind' | 'escalate'>): ReminderStep[] {
  const at = [
    ...(policy.remind ?? []).map((d) => ({ seconds: parseDuration(d), action: 'remind' as const })),
    ...(policy.escalate
      ? [{ seconds: parseDuration(policy.escalate.after), action: 'escalate' as const }]
      : []),
  ].sort((a, b) => a.seconds - b.seconds);
  let previous = 0;
  return at.map((step, index) => {
    const waitSeconds = step.seconds - previous;
    previous = step.seconds;
    return { waitSeconds, action: step.action, index };
  });
}
