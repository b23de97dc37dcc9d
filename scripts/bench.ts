// `npm run bench`: inosync beside the tools people use today, on the same workloads in one run.
// Progress goes to stderr, the table to stdout. Needs root (it raises the inotify queue limit for the
// moment a watcher starts, as the tests do) and inotifywait (inotify-tools).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armBenchmark, burstBenchmark } from './bench-watch.js';
import { renderTable, type Row } from './bench-table.js';

function need(ok: boolean, problem: string): void {
  if (ok) return;
  process.stderr.write(`bench: ${problem}\n`);
  process.exit(1);
}

need(process.getuid?.() === 0, 'needs root: it raises /proc/sys/fs/inotify/max_queued_events while a watcher starts (restored at once)');
need(spawnSync('inotifywait', ['--help']).error === undefined, 'needs inotifywait: apt-get install -y inotify-tools');

const log = (line: string): void => { process.stderr.write(`bench: ${line}\n`); };
const work = mkdtempSync(join(tmpdir(), 'inosync-bench-'));
const started = performance.now();
const rows: Row[] = [];
try {
  rows.push(...await armBenchmark(work, log));
  rows.push(...await burstBenchmark(work, log));
} finally {
  rmSync(work, { recursive: true, force: true });
}
const withTarget = rows.filter((row) => row.target);
log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(`${renderTable(rows)}\n`);
process.stdout.write(`targets met: ${withTarget.filter((row) => row.target?.met(row)).length}/${withTarget.length}\n`);
