// One row per figure: inosync beside its anchor, the ratio, the target and whether it is met.
export interface Row {
  metric: string;
  unit: string;
  inosync: number;
  /** The anchor's figure and name ("inotifywait", "floor", "lsyncd"). */
  anchor: number;
  anchorName: string;
  /** The anchor did not finish: its figure is where it was stopped, a bound it would have exceeded. */
  anchorCapped?: boolean;
  /** Human text of the target, and the check; undefined when the row has no target. */
  target?: { text: string; met: (row: Row) => boolean };
}

/** inosync / anchor. */
export function ratio(row: Row): number {
  return row.inosync / row.anchor;
}

function figure(value: number, unit: string): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

/** A plain-text table, columns padded. */
export function renderTable(rows: readonly Row[]): string {
  const header = ['metric', 'inosync', 'anchor', 'ratio', 'target', 'result'];
  const body = rows.map((row) => [
    row.metric,
    figure(row.inosync, row.unit),
    `${row.anchorCapped ? '>= ' : ''}${figure(row.anchor, row.unit)} (${row.anchorName})`,
    `${row.anchorCapped ? '<= ' : ''}${ratio(row).toFixed(2)}x`,
    row.target?.text ?? '-',
    row.target ? (row.target.met(row) ? 'pass' : 'FAIL') : 'info',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]?.length ?? 0)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}
