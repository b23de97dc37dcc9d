// `npm run bench`: inosync beside the tools people use today, on the same workloads in one run.
// Progress goes to stderr, the table to stdout. Needs root (it raises the inotify queue limit for the
// moment a watcher starts, as the tests do) and inotifywait (inotify-tools).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armBenchmark, burstBenchmark } from './bench-watch.js';
import { footprintBenchmarks } from './bench-footprint.js';
import { recoveryBenchmarks } from './bench-recovery.js';
import { soak } from './bench-soak.js';
import { syncBenchmarks, type SyncPlan } from './bench-sync.js';
import { renderTable, type Row } from './bench-table.js';
import { scaleBenchmarks, scaleOptions } from './bench-scale.js';
import { stateBenchmarks } from './bench-state.js';

function need(ok: boolean, problem: string): void {
  if (ok) return;
  process.stderr.write(`bench: ${problem}\n`);
  process.exit(1);
}

need(process.getuid?.() === 0, 'needs root: it raises /proc/sys/fs/inotify/max_queued_events while a watcher starts (restored at once)');
for (const [tool, pkg] of [['inotifywait', 'inotify-tools'], ['lsyncd', 'lsyncd'], ['rsync', 'rsync'], ['/usr/sbin/sshd', 'openssh-server']]) {
  need(spawnSync(tool, ['--version']).error === undefined, `needs ${tool}: apt-get install -y ${pkg}`);
}

// `npm run bench -- watch` (or sync, disk, recovery, footprint) runs those parts only. `sync` measures on a
// tmpfs, `disk` the storms again on the disk, in fewer rounds; `-- --disk` moves the whole sync part to the
// disk instead. `-- soak [--minutes N]` runs the soak (30 minutes by default) and `-- scale [--files N]` issue
// 14's table (a 1M-file tree: minutes and GiBs); `-- state [--files N]` times the state records' startup scan
// and diff alone (scripts/bench-state.ts). None of the three is part of a plain run.
const argv = process.argv.slice(2);
const minutesAt = argv.indexOf('--minutes');
const minutes = minutesAt < 0 ? 30 : Number(argv[minutesAt + 1]);
need(Number.isFinite(minutes) && minutes >= 1 && minutes <= 24 * 60, '--minutes takes a number of minutes from 1 to 1440');
const takesValue = (flag: string | undefined): boolean => flag !== undefined && flag.startsWith('--') && flag !== '--disk';
const parts = argv.filter((arg, i) => !arg.startsWith('--') && !takesValue(argv[i - 1]));
const onDisk = argv.includes('--disk');
const wanted = (part: string): boolean => (parts.length === 0 && !['soak', 'scale', 'state'].includes(part)) || parts.includes(part);
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
async function onTmpfs<T>(dir: string, measure: (dir: string, mounted: boolean) => Promise<T>, options: { disk?: boolean; size?: string } = {}): Promise<T> {
  mkdirSync(dir);
  const disk = options.disk ?? onDisk;
  // nr_inodes=0: no inode limit (the default, half the RAM's pages, is short of a few million files).
  const mounted = !disk && spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${options.size ?? '8g'},nr_inodes=0,mode=0755`, 'inosync-bench', dir]).status === 0;
  log(`${dir}: source and targets on ${mounted ? 'a tmpfs' : 'the disk'}${disk ? '' : mounted ? ' (-- --disk to use the disk)' : ' (mounting a tmpfs failed)'}`);
  try {
    return await measure(dir, mounted);
  } finally {
    if (mounted) spawnSync('umount', [dir]);
  }
}

const work = mkdtempSync(join(tmpdir(), 'inosync-bench-'));
const rows: Row[] = [];
try {
  if (wanted('watch')) rows.push(...await armBenchmark(work, log), ...await burstBenchmark(work, log));
  // The storm's floor is itself metadata work, and disks differ: the storm is measured on both (issue 13).
  const plan = (mounted: boolean): SyncPlan => (mounted
    ? { medium: 'tmpfs', latency: true, rounds: 5, stormTarget: 1.3 }
    : { medium: 'disk', latency: true, rounds: 5, stormTarget: 1.2 });
  if (wanted('sync')) rows.push(...await onTmpfs(join(work, 'sync'), (dir, mounted) => syncBenchmarks(dir, log, plan(mounted))));
  if (wanted('disk') && !onDisk) {
    rows.push(...await onTmpfs(join(work, 'disk'), (dir) => syncBenchmarks(dir, log, { ...plan(false), latency: false, rounds: 3 }), { disk: true }));
  }
  if (wanted('recovery')) rows.push(...await onTmpfs(join(work, 'recovery'), (dir) => recoveryBenchmarks(dir, log)));
  if (wanted('footprint')) rows.push(...await onTmpfs(join(work, 'footprint'), (dir) => footprintBenchmarks(dir, log)));
  if (wanted('soak') && !await onTmpfs(join(work, 'soak'), (dir) => soak(dir, minutes, log))) process.exitCode = 1;
  if (wanted('state')) rows.push(...await onTmpfs(join(work, 'state'), (dir) => stateBenchmarks(dir, argv, log), { size: '4g' }));
  if (wanted('scale')) {
    const options = scaleOptions(argv);
    // The source and at most three targets, ~4.5 KiB a file on tmpfs (a page per file, and the directories).
    const gib = Math.ceil((options.files * 4.5 * 1024 * 4) / 2 ** 30) + 1;
    rows.push(...await onTmpfs(join(work, 'scale'), (dir) => scaleBenchmarks(dir, options, log), { size: `${gib}g` }));
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
