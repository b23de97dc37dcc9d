// `npm run bench`: inosync beside the tools people use today, on the same workloads in one run.
// Progress goes to stderr, the table to stdout. Needs root (it raises the inotify queue limit for the
// moment a watcher starts, as the tests do) and inotifywait (inotify-tools).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armBenchmark, burstBenchmark } from './bench-watch.js';
import { recoveryBenchmarks } from './bench-recovery.js';
import { syncBenchmarks, type SyncPlan } from './bench-sync.js';
import { renderTable, type Row } from './bench-table.js';

function need(ok: boolean, problem: string): void {
  if (ok) return;
  process.stderr.write(`bench: ${problem}\n`);
  process.exit(1);
}

need(process.getuid?.() === 0, 'needs root: it raises /proc/sys/fs/inotify/max_queued_events while a watcher starts (restored at once)');
for (const [tool, pkg] of [['inotifywait', 'inotify-tools'], ['lsyncd', 'lsyncd'], ['rsync', 'rsync'], ['/usr/sbin/sshd', 'openssh-server']]) {
  need(spawnSync(tool, ['--version']).error === undefined, `needs ${tool}: apt-get install -y ${pkg}`);
}

// `npm run bench -- watch` (or sync, disk, recovery) runs those parts only. `sync` measures on a tmpfs, `disk`
// the storms again on the disk, in fewer rounds; `-- --disk` moves the whole sync part to the disk instead.
const parts = process.argv.slice(2).filter((arg) => arg !== '--disk');
const onDisk = process.argv.includes('--disk');
const wanted = (part: string): boolean => parts.length === 0 || parts.includes(part);
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
async function onTmpfs<T>(dir: string, measure: (dir: string, mounted: boolean) => Promise<T>, disk = onDisk): Promise<T> {
  mkdirSync(dir);
  const mounted = !disk && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8g,mode=0755', 'inosync-bench', dir]).status === 0;
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
    rows.push(...await onTmpfs(join(work, 'disk'), (dir) => syncBenchmarks(dir, log, { ...plan(false), latency: false, rounds: 3 }), true));
  }
  if (wanted('recovery')) rows.push(...await onTmpfs(join(work, 'recovery'), (dir) => recoveryBenchmarks(dir, log)));
  const withTarget = rows.filter((row) => row.target);
  log(`measured in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(`${renderTable(rows)}\n`);
  process.stdout.write(`targets met: ${withTarget.filter((row) => row.target?.met(row)).length}/${withTarget.length}\n`);
} finally {
  log('removing the generated trees');
  rmSync(work, { recursive: true, force: true });
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
