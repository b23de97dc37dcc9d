// inotifywatch's statistics: events counted per watched directory (or file), printed as its table.
import { STAT_EVENTS } from './events.js';

interface Row {
  path: Buffer;
  total: number;
  counts: Map<number, number>;
}

export class EventStats {
  private readonly rows = new Map<string, Row>();
  private readonly totals = new Map<number, number>();
  private total = 0;

  /** Counts one event on the watch `dir` (%w): once in the total, once per column its mask has. */
  record(dir: Buffer, mask: number): void {
    const row = this.row(dir);
    row.total++;
    this.total++;
    for (const [, bit] of STAT_EVENTS) {
      if (!(mask & bit)) continue;
      row.counts.set(bit, (row.counts.get(bit) ?? 0) + 1);
      this.totals.set(bit, (this.totals.get(bit) ?? 0) + 1);
    }
  }

  /** Makes a watch appear (with zeros) in a --zero table. */
  touch(dir: Buffer): void {
    this.row(dir);
  }

  get eventCount(): number {
    return this.total;
  }

  private row(dir: Buffer): Row {
    const key = dir.toString('latin1');
    let row = this.rows.get(key);
    if (!row) {
      row = { path: dir, total: 0, counts: new Map() };
      this.rows.set(key, row);
    }
    return row;
  }

  /**
   * The table inotifywatch prints: a `total` column, one column per event listened for that happened (all of
   * them with `zero`), the watch path last; rows sorted by `sort.event` (0: total), ties by path.
   */
  table(events: number, sort: { event: number; ascending: boolean }, zero: boolean): Buffer {
    const columns = STAT_EVENTS.filter(([, bit]) => (events & bit) !== 0 && (zero || (this.totals.get(bit) ?? 0) > 0));
    const value = (row: Row, bit: number): number => (bit === 0 ? row.total : row.counts.get(bit) ?? 0);
    const rows = [...this.rows.values()]
      .filter((row) => zero || row.total > 0)
      .sort((a, b) => {
        const diff = value(a, sort.event) - value(b, sort.event);
        return (sort.ascending ? diff : -diff) || Buffer.compare(a.path, b.path);
      });
    const lines: Buffer[] = [Buffer.from(`total  ${columns.map(([name]) => `${name}  `).join('')}filename\n`)];
    for (const row of rows) {
      const cells = `${String(row.total).padEnd(5)}  ${columns.map(([name, bit]) => `${String(value(row, bit)).padEnd(name.length)}  `).join('')}`;
      lines.push(Buffer.from(cells), row.path, Buffer.from('\n'));
    }
    return Buffer.concat(lines);
  }
}
