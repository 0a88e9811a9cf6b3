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
