/** One line of the reliability table. */
export interface Row {
  scenario: string;
  /** Requests or events sent. */
  tried: number;
  /** Effects that should have happened (executions, decisions, merges …, as the scenario says). */
  expected: number;
  actual: number;
  fiveXX: number;
  /** Expected effects that did not happen. */
  lost: number;
  /** Effects that happened more often than expected. */
  duplicated: number;
  note?: string;
}

export function row(
  scenario: string,
  tried: number,
  expected: number,
  actual: number,
  fiveXX: number,
  note?: string,
): Row {
  return {
    scenario,
    tried,
    expected,
    actual,
    fiveXX,
    lost: Math.max(0, expected - actual),
    duplicated: Math.max(0, actual - expected),
    ...(note ? { note } : {}),
  };
}

/** One kind of effect: how often it should have happened and how often it did. */
export interface Part {
  what: string;
  expected: number;
  actual: number;
}

/**
 * A row from several kinds of effect. Lost and duplicated are summed per kind, so a missing
 * notice and an extra alias move do not cancel out in the totals.
 */
export function tally(scenario: string, tried: number, parts: Part[], fiveXX: number, note: string): Row {
  const sum = (f: (p: Part) => number) => parts.reduce((n, p) => n + f(p), 0);
  const off = parts.filter((p) => p.actual !== p.expected).map((p) => `${p.what} ${p.actual}/${p.expected}`);
  return {
    scenario,
    tried,
    expected: sum((p) => p.expected),
    actual: sum((p) => p.actual),
    fiveXX,
    lost: sum((p) => Math.max(0, p.expected - p.actual)),
    duplicated: sum((p) => Math.max(0, p.actual - p.expected)),
    note: off.length > 0 ? `${note}; OFF: ${off.join(', ')}` : note,
  };
}

/** True when the row shows a lost or duplicated effect or a 5xx. */
export function failed(r: Row): boolean {
  return r.lost > 0 || r.duplicated > 0 || r.fiveXX > 0;
}

export function formatTable(rows: Row[]): string {
  const header = ['scenario', 'tried', 'expected', 'actual', '5xx', 'lost', 'duplicated', 'note'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.tried),
    String(r.expected),
    String(r.actual),
    String(r.fiveXX),
    String(r.lost),
    String(r.duplicated),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}
