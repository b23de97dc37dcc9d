// `npm run bench`: inosync beside the tools people use today, on the same workloads in one run.
// Progress goes to stderr, the table to stdout. Needs root (it raises the inotify queue limit for the
// moment a watcher starts, as the tests do) and inotifywait (inotify-tools).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armBenchmark, burstBenchmark } from './bench-watch.js';
import { syncBenchmarks } from './bench-sync.js';
import { footprintBenchmarks } from './bench-footprint.js';
import { soak } from './bench-soak.js';
import { renderTable, type Row } from './bench-table.js';
import { scaleBenchmarks, scaleOptions } from './bench-scale.js';

function need(ok: boolean, problem: string): void {
  if (ok) return;
  process.stderr.write(`bench: ${problem}\n`);
  process.exit(1);
}

need(process.getuid?.() === 0, 'needs root: it raises /proc/sys/fs/inotify/max_queued_events while a watcher starts (restored at once)');
for (const [tool, pkg] of [['inotifywait', 'inotify-tools'], ['lsyncd', 'lsyncd'], ['rsync', 'rsync'], ['/usr/sbin/sshd', 'openssh-server']]) {
  need(spawnSync(tool, ['--version']).error === undefined, `needs ${tool}: apt-get install -y ${pkg}`);
}

// `npm run bench -- watch` (or sync, footprint) runs one part only; `-- --disk` keeps the sync trees on the
// disk. `-- soak [--minutes N]` runs the soak (30 minutes by default) and `-- scale [--files N]` issue 14's
// table (a 1M-file tree: minutes and GiBs); neither is part of a plain run.
const argv = process.argv.slice(2);
const minutesAt = argv.indexOf('--minutes');
const minutes = minutesAt < 0 ? 30 : Number(argv[minutesAt + 1]);
need(Number.isFinite(minutes) && minutes >= 1 && minutes <= 24 * 60, '--minutes takes a number of minutes from 1 to 1440');
const takesValue = (flag: string | undefined): boolean => flag !== undefined && flag.startsWith('--') && flag !== '--disk';
const parts = argv.filter((arg, i) => !arg.startsWith('--') && !takesValue(argv[i - 1]));
const onDisk = argv.includes('--disk');
const wanted = (part: string): boolean => (parts.length === 0 && part !== 'soak' && part !== 'scale') || parts.includes(part);
const started = performance.now();
const log = (line: string): void => { process.stderr.write(`bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s: ${line}\n`); };
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  log('NODE_EXTRA_CA_CERTS is set here: measured processes run without it (it adds ~0.1 s to every node start; inosync uses no TLS)');
}
/**
 * Runs `measure` on a tmpfs mounted at `dir` for it (unless --disk): writing 10,000 small files three times
 * over is metadata work that this machine's disk sometimes stalls for seconds, which made the storm's own
 * floor vary from 1.1 s to 4 s within one run. On a tmpfs the figures are those of the programs compared.
 */
async function onTmpfs<T>(dir: string, measure: (dir: string) => Promise<T>, size = '8g'): Promise<T> {
  mkdirSync(dir);
  // nr_inodes=0: no inode limit (the default, half the RAM's pages, is short of a few million files).
  const mounted = !onDisk && spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},nr_inodes=0,mode=0755`, 'inosync-bench', dir]).status === 0;
  log(`sync: source and targets on ${mounted ? 'a tmpfs' : 'the disk'}${onDisk ? ' (--disk)' : mounted ? ' (-- --disk to use the disk)' : ' (mounting a tmpfs failed)'}`);
  try {
    return await measure(dir);
  } finally {
    if (mounted) spawnSync('umount', [dir]);
  }
}

const work = mkdtempSync(join(tmpdir(), 'inosync-bench-'));
const rows: Row[] = [];
try {
  if (wanted('watch')) rows.push(...await armBenchmark(work, log), ...await burstBenchmark(work, log));
  if (wanted('sync')) rows.push(...await onTmpfs(join(work, 'sync'), (dir) => syncBenchmarks(dir, log)));
  if (wanted('footprint')) rows.push(...await onTmpfs(join(work, 'footprint'), (dir) => footprintBenchmarks(dir, log)));
  if (wanted('soak') && !await onTmpfs(join(work, 'soak'), (dir) => soak(dir, minutes, log))) process.exitCode = 1;
  if (wanted('scale')) {
    const options = scaleOptions(argv);
    // The source and at most three targets, ~4.5 KiB a file on tmpfs (a page per file, and the directories).
    const gib = Math.ceil((options.files * 4.5 * 1024 * 4) / 2 ** 30) + 1;
    rows.push(...await onTmpfs(join(work, 'scale'), (dir) => scaleBenchmarks(dir, options, log), `${gib}g`));
  }
  const withTarget = rows.filter((row) => row.target);
  log(`measured in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (rows.length > 0) {
    process.stdout.write(`${renderTable(rows)}\n`);
    process.stdout.write(`targets met: ${withTarget.filter((row) => row.target?.met(row)).length}/${withTarget.length}\n`);
  }
} finally {
  log('removing the generated trees');
  rmSync(work, { recursive: true, force: true });
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
