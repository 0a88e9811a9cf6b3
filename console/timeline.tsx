import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { Translate } from './i18n.ts';
import { Time } from './layout.tsx';
import { redactHistory } from './views.ts';

export interface TimelineRow {
  id: number;
  type: string;
  /** The top-level state the event belongs to. */
  state?: string;
  at?: Date;
  /** Milliseconds: for an Exited event, time in the state; otherwise time since the previous event. */
  durationMs?: number;
  /** Input, output, parameters, error… (task tokens redacted). */
  details?: Record<string, unknown>;
}

/** The history as timeline rows: each event with its state and duration, secrets redacted. */
export function timelineRows(history: HistoryEvent[]): TimelineRow[] {
  const events = redactHistory([...history].sort((a, b) => (a.id ?? 0) - (b.id ?? 0)));
  const enteredAt = new Map<string, number>();
  let open: string | undefined;
  let previous: number | undefined;
  return events.map((event) => {
    const type = event.type ?? '';
    const at = event.timestamp ? new Date(event.timestamp) : undefined;
    const ms = at?.getTime();
    const entered = event.stateEnteredEventDetails?.name;
    const exited = event.stateExitedEventDetails?.name;
    let durationMs: number | undefined;
    let state = open;
    if (entered) {
      state = entered;
      open = entered;
      if (ms !== undefined) enteredAt.set(entered, ms);
    } else if (exited) {
      state = exited;
      const start = enteredAt.get(exited);
      if (start !== undefined && ms !== undefined) durationMs = ms - start;
      if (open === exited) open = undefined;
    }
    if (durationMs === undefined && previous !== undefined && ms !== undefined) durationMs = ms - previous;
    previous = ms ?? previous;
    const details = Object.entries(event).find(([key]) => key.endsWith('EventDetails'))?.[1] as
      | Record<string, unknown>
      | undefined;
    return {
      id: event.id ?? 0,
      type,
      ...(state ? { state } : {}),
      ...(at ? { at } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(details && Object.keys(details).length > 0 ? { details } : {}),
    };
  });
}

/** `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function pretty(details: Record<string, unknown>): string {
  const expanded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string' && /^[[{]/.test(value)) {
      try {
        expanded[key] = JSON.parse(value);
        continue;
      } catch {
        // not JSON: show as is
      }
    }
    expanded[key] = value;
  }
  return JSON.stringify(expanded, null, 2);
}

/** The event history as a table; input and output open on demand. */
export function Timeline(props: { history: HistoryEvent[]; t: Translate }) {
  const { t } = props;
  const rows = timelineRows(props.history);
  return (
    <div class="table-wrap">
      <table class="stack timeline">
        <thead>
          <tr>
            <th>#</th>
            <th>{t('event')}</th>
            <th>{t('state')}</th>
            <th>{t('time')}</th>
            <th>{t('duration')}</th>
            <th>{t('details')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr data-event-type={row.type} data-state={row.state ?? ''}>
              <td data-label="#">{row.id}</td>
              <td data-label={t('event')}>{row.type}</td>
              <td data-label={t('state')}>{row.state ?? ''}</td>
              <td data-label={t('time')}>
                <Time value={row.at} />
              </td>
              <td data-label={t('duration')}>
                {row.durationMs !== undefined ? formatDuration(row.durationMs) : ''}
              </td>
              <td data-label={t('details')}>
                {row.details ? (
                  <details>
                    <summary>{t('show')}</summary>
                    <pre>{pretty(row.details)}</pre>
                  </details>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
