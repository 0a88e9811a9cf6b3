import type { HistoryEvent } from '@aws-sdk/client-sfn';

const TOKEN_FIELD = /("taskToken"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

/** Task tokens appear in TaskScheduled parameters; the console never shows them. */
export function redactHistory(history: HistoryEvent[]): HistoryEvent[] {
  return history.map((event) => {
    const copy: Record<string, unknown> = { ...event };
    for (const [key, details] of Object.entries(copy)) {
      if (!key.endsWith('EventDetails') || !details || typeof details !== 'object') continue;
      const redacted: Record<string, unknown> = { ...(details as Record<string, unknown>) };
      for (const [field, value] of Object.entries(redacted)) {
        if (typeof value === 'string') redacted[field] = redactJson(value);
      }
      copy[key] = redacted;
    }
    return copy as unknown as HistoryEvent;
  });
}

/** The same redaction for one JSON string (a parameters or input field). */
export function redactJson(text: string | undefined): string | undefined {
  return text?.replace(TOKEN_FIELD, '$1"[redacted]"');
}
