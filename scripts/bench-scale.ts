// `npm run bench -- scale [--files N]`: issue 14's table at scale. A tree of N files (default 1,000,000) in
// N/10 directories of 10 files, on a tmpfs of its own, and inosync beside the tools people use on it:
//   arm watches                          inosync watch -r    beside  inotifywait -r
//   first sync to an empty local target  inosync sync        beside  rsync -a, rsync -aHAX, fpsync -n P -E
//   restart, targets already equal       inosync sync        beside  rsync -a (nothing to send), lsyncd
// with the peak RSS of each process tree (sampled: the sum of its processes' RSS, every 100 ms).
// Timed rows are medians of alternating runs (--runs, default 3 up to 200k files, 1 above: say so).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchEnv, peakRssMiB, spawnReady, stop, stopGroup } from './bench-proc.js';
import type { Row } from './bench-table.js';
import { cliPath } from '../test/helpers/run-cli.js';

const CHANGE_EVENTS = 'create,modify,close_write,attrib,moved_from,moved_to,delete,delete_self,move_self';
const FILES_PER_DIR = 10;
/** Directories per top-level directory: 100k directories are 100 x 1000. */
const FAN = 1000;

export interface ScaleOptions {
  files: number;
  runs: number;
  procs: number;
}

export function scaleOptions(argv: readonly string[]): ScaleOptions {
  const value = (name: string): number | undefined => {
    const at = argv.indexOf(name);
    return at < 0 ? undefined : Number(argv[at + 1]);
  };
  const files = value('--files') ?? 1_000_000;
  if (!Number.isInteger(files) || files < 1000 || files > 20_000_000) throw new Error('--files takes a whole number from 1000 to 20000000');
  return { files, runs: value('--runs') ?? (files <= 200_000 ? 3 : 1), procs: Math.min(4, cpus().length * 2) };
}

/** N/10 directories in top-level groups of FAN, 10 small files each; returns the directory count. */
export function makeTree(root: string, files: number): number {
  const dirs = Math.ceil(files / FILES_PER_DIR);
  const content = Buffer.from('x'.repeat(100));
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `g${Math.floor(d / FAN)}`, `d${d % FAN}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES_PER_DIR && d * FILES_PER_DIR + f < files; f++) writeFileSync(join(dir, `f${f}`), content);
  }
  return dirs;
}

/** Samples the summed RSS of a process and its descendants until stopped; resolves with the peak in MiB. */
function treeRss(pid: number): { stop: () => number } {
  let peak = 0;
  const sample = (): void => {
    const parents = new Map<number, number>();
    const rss = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const status = readFileSync(`/proc/${entry}/status`, 'utf8');
        parents.set(Number(entry), Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0));
        rss.set(Number(entry), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
      } catch {
        // exited meanwhile
      }
    }
    const inTree = (p: number): boolean => {
      for (let at = p, hops = 0; at > 1 && hops < 64; at = parents.get(at) ?? 0, hops++) if (at === pid) return true;
      return false;
    };
    let sum = 0;
    for (const [p, kb] of rss) if (inTree(p)) sum += kb;
    peak = Math.max(peak, sum / 1024);
  };
  sample();
  const timer = setInterval(sample, 100);
  return { stop: () => { clearInterval(timer); return peak; } };
}

interface Measured { seconds: number; rss: number }

/** Runs argv to its end (no shell), timing it and sampling its tree's RSS. */
function timed(argv: readonly string[]): Promise<Measured> {
  const [command, ...args] = argv;
  const started = performance.now();
  const child = spawn(command!, args, { env: benchEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  const rss = treeRss(child.pid ?? 0);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-2000); });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const peak = rss.stop();
      // 24: files vanished (none here); fpsync exits 0 or says why.
      if (code !== 0) reject(new Error(`${command} exited ${code}: ${stderr}`));
      else resolve({ seconds: (performance.now() - started) / 1000, rss: peak });
    });
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const medianOf = (runs: Measured[]): Measured => ({ seconds: median(runs.map((r) => r.seconds)), rss: median(runs.map((r) => r.rss)) });

const fullSyncDone = (line: string): boolean => {
  try {
    const record = JSON.parse(line) as { msg?: unknown; kind?: unknown };
    return record.msg === 'synced' && record.kind === 'full';
  } catch {
    return false;
  }
};

export async function scaleBenchmarks(work: string, options: ScaleOptions, log: (line: string) => void): Promise<Row[]> {
  const src = join(work, 'src');
  const dirs = makeTree(src, options.files);
  const label = `${(options.files / 1000).toLocaleString('en-US')}k files, ${(dirs / 1000).toLocaleString('en-US')}k dirs`;
  log(`scale: ${label} generated (${options.runs} alternating run${options.runs === 1 ? '' : 's'} of each)`);
  let socketCount = 0;
  const socket = (): string => join(work, `agent-${socketCount++}.sock`);
  const fresh = (name: string): string => {
    const dir = join(work, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    return dir;
  };

  // Arm: spawn to "Watches established", time and the process's peak RSS.
  const watchArgs = ['-r', '-m', '-e', CHANGE_EVENTS, '--format', '%w%f %e', '-o', '/dev/null', src];
  const arm = (argv: string[]): Promise<Measured> => measuredStart(argv, /Watches established/);
  await arm(['inotifywait', ...watchArgs]); // warms the dentry cache for both
  const armOurs: Measured[] = [];
  const armTheirs: Measured[] = [];
  for (let i = 0; i < options.runs; i++) {
    armOurs.push(await arm([process.execPath, cliPath, 'watch', ...watchArgs]));
    armTheirs.push(await arm(['inotifywait', ...watchArgs]));
  }
  log(`scale: arm s, inosync ${show(armOurs)}; inotifywait ${show(armTheirs)}`);

  // First sync to an empty target.
  const sync = (target: string, extra: string[] = []): Promise<Measured> =>
    agentUntilSynced([process.execPath, cliPath, 'sync', '--source', src, '--target', target, '--socket', socket(), '--full-sync-procs', String(options.procs), ...extra]);
  const first: Record<string, Measured[]> = { ours: [], oursA: [], rsyncA: [], rsyncHAX: [], fpsync: [] };
  const hasFpsync = spawnSync('fpsync', ['-V']).error === undefined;
  // At most the source and three targets at once (a 1M-file tree is ~4 GiB of tmpfs): the ones the restart
  // rows need stay, the others go once measured.
  const gone = (name: string): void => rmSync(join(work, name), { recursive: true, force: true });
  for (let i = 0; i < options.runs; i++) {
    first.ours!.push(await sync(fresh('t-ours')));
    first.rsyncHAX!.push(await timed(['rsync', '-aHAX', '--numeric-ids', `${src}/`, `${fresh('t-other')}/`]));
    first.oursA!.push(await sync(fresh('t-other'), ['--rsync-opts', '-a']));
    first.rsyncA!.push(await timed(['rsync', '-a', `${src}/`, `${fresh('t-rsync-a')}/`]));
    if (hasFpsync) first.fpsync!.push(await timed(['fpsync', '-n', String(options.procs), '-E', '-t', fresh('fpsync-tmp'), src, fresh('t-other')]));
    gone('t-other');
    log(`scale: first sync s, inosync ${show(first.ours!)}; rsync -aHAX ${show(first.rsyncHAX!)}; inosync -a ${show(first.oursA!)}; rsync -a ${show(first.rsyncA!)}; fpsync ${show(first.fpsync!)}`);
  }

  // Restart with the targets already equal.
  const lsyncdConfig = join(work, 'lsyncd.lua');
  writeFileSync(lsyncdConfig, `settings { nodaemon = true }\nsync { default.rsync, source = ${JSON.stringify(src)}, target = ${JSON.stringify(join(work, 't-rsync-a'))}, delay = 0, rsync = { archive = true } }\n`);
  const again: Record<string, Measured[]> = { ours: [], oursA: [], rsyncA: [], lsyncd: [] };
  for (let i = 0; i < options.runs; i++) {
    again.ours!.push(await sync(join(work, 't-ours')));
    again.oursA!.push(await sync(join(work, 't-ours'), ['--rsync-opts', '-a']));
    again.rsyncA!.push(await timed(['rsync', '-a', `${src}/`, `${join(work, 't-rsync-a')}/`]));
    again.lsyncd!.push(await agentUntil(['lsyncd', '-log', 'Normal', lsyncdConfig], (line) => /Startup of .* finished/.test(line), 'stdout', true));
    log(`scale: restart s, inosync ${show(again.ours!)}; inosync -a ${show(again.oursA!)}; rsync -a ${show(again.rsyncA!)}; lsyncd ${show(again.lsyncd!)}`);
  }

  const row = (metric: string, unit: 's' | 'MiB', ours: Measured[], anchor: Measured[], anchorName: string, target?: Row['target']): Row => {
    const pick = (m: Measured): number => (unit === 's' ? m.seconds : m.rss);
    return { metric: `${label}: ${metric}`, unit, inosync: pick(medianOf(ours)), anchor: pick(medianOf(anchor)), anchorName, ...(target ? { target } : {}) };
  };
  const atMost = (x: number): Row['target'] => ({ text: `<= ${x.toFixed(2)}x`, met: (r) => r.inosync <= r.anchor * x });
  const runs = options.runs === 1 ? 'one run' : `median of ${options.runs}`;
  const rows: Row[] = [
    row(`arm watches (${runs})`, 's', armOurs, armTheirs, 'inotifywait -r', atMost(0.6)),
    row('arm watches: peak RSS', 'MiB', armOurs, armTheirs, 'inotifywait -r', { text: '<= 64 MiB', met: (r) => r.inosync <= 64 }),
    row(`first sync, default -aHAX (${runs})`, 's', first.ours!, first.rsyncHAX!, 'rsync -aHAX'),
    row(`first sync, --rsync-opts -a, ${options.procs} procs (${runs})`, 's', first.oursA!, first.rsyncA!, 'rsync -a', atMost(1)),
    ...(hasFpsync ? [row(`first sync, --rsync-opts -a, ${options.procs} procs, beside fpsync -n ${options.procs} -E`, 's', first.oursA!, first.fpsync!, `fpsync -n ${options.procs} -E`)] : []),
    row('first sync: peak RSS of the tree, -aHAX', 'MiB', first.ours!, first.rsyncHAX!, 'rsync -aHAX', { text: '<= 100 MiB', met: (r) => r.inosync <= 100 }),
    row('first sync: peak RSS of the tree, -a split', 'MiB', first.oursA!, first.rsyncA!, 'rsync -a'),
    ...(hasFpsync ? [row('first sync: peak RSS of the tree, fpsync', 'MiB', first.oursA!, first.fpsync!, 'fpsync')] : []),
    row(`restart, targets equal, converged, -aHAX (${runs})`, 's', again.ours!, again.rsyncA!, 'rsync -a, nothing to send', atMost(1)),
    row(`restart, targets equal, converged, -a split (${runs})`, 's', again.oursA!, again.rsyncA!, 'rsync -a, nothing to send', atMost(1)),
    row('restart, beside lsyncd', 's', again.ours!, again.lsyncd!, 'lsyncd 2.2.3'),
    row('restart: peak RSS of the tree', 'MiB', again.ours!, again.lsyncd!, 'lsyncd 2.2.3', { text: '<= 100 MiB', met: (r) => r.inosync <= 100 }),
  ];
  return rows;
}

const show = (runs: Measured[]): string => runs.map((r) => `${r.seconds.toFixed(1)}/${r.rss.toFixed(0)}MiB`).join(' ');

/** A watcher from spawn to its ready line: time, and its peak RSS (VmHWM). */
async function measuredStart(argv: string[], ready: RegExp): Promise<Measured> {
  const { child, ms } = await spawnReady(argv, { stream: 'stderr', ready, stdout: 'ignore', timeoutMs: 3_600_000 });
  const rss = peakRssMiB(child.pid ?? 0);
  await stop(child);
  return { seconds: ms / 1000, rss };
}

function agentUntilSynced(argv: string[]): Promise<Measured> {
  return agentUntil(argv, fullSyncDone, 'stderr', false);
}

/** An agent from spawn to its ready line, its process tree's RSS sampled meanwhile; then stopped. */
async function agentUntil(argv: string[], ready: (line: string) => boolean, stream: 'stdout' | 'stderr', detached: boolean): Promise<Measured> {
  const [command, ...args] = argv;
  const started = performance.now();
  const child = spawn(command!, args, { env: benchEnv, stdio: ['ignore', 'pipe', 'pipe'], detached });
  const rss = treeRss(child.pid ?? 0);
  const out = child[stream];
  (stream === 'stdout' ? child.stderr : child.stdout).resume();
  out.setEncoding('utf8');
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: string): void => {
      seen += chunk;
      const lines = seen.split('\n');
      seen = lines.pop() ?? '';
      if (lines.some(ready)) { out.off('data', onData); out.resume(); child.off('exit', onExit); resolve(); }
    };
    const onExit = (code: number | null): void => reject(new Error(`${command} exited (${code}) before it was ready: ${seen.slice(-500)}`));
    out.on('data', onData);
    child.once('exit', onExit);
  });
  const seconds = (performance.now() - started) / 1000;
  const peak = Math.max(rss.stop(), peakRssMiB(child.pid ?? 0));
  await (detached ? stopGroup(child) : stop(child));
  return { seconds, rss: peak };
}
