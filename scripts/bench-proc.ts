// What the benchmarks measure about a process, read from /proc, and how they start one and wait
// until it says it is ready.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Peak resident set size (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(match[1]) / 1024;
}

const PAGE_MIB = (Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout.trim()) || 4096) / (1 << 20);

/**
 * Resident set (MiB) of a process tree now: `pid` and its descendants, and the live processes whose command
 * line contains `marker` (helpers that left the tree, such as daemonized ssh masters). Shared pages are
 * counted in each process, as `ps` and the kernel's per-process figures do.
 */
export function treeRssMiB(pid: number, marker?: string): number {
  const procs = new Map<number, { ppid: number; rss: number }>();
  const marked = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      // Fields after the command name: state is the first, ppid the second, rss (pages) the 22nd.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(fields[1]), rss: Number(fields[21]) });
      if (marker !== undefined && readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) marked.add(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  const inTree = (p: number): boolean => {
    for (let at = p, hops = 0; at > 1 && hops < 64; hops++) {
      if (at === pid || marked.has(at)) return true;
      at = procs.get(at)?.ppid ?? 0;
    }
    return false;
  };
  let pages = 0;
  for (const [p, { rss }] of procs) if (inTree(p)) pages += rss;
  return pages * PAGE_MIB;
}

/**
 * Proportional set size (MiB) of processTree(pid, marker) now: each shared page divided among the processes
 * that map it, so a library or program text that several of the tree's processes (or the machine's other
 * processes) map is counted once in all, not once per process as in treeRssMiB. What the tree costs the
 * machine; reads smaps_rollup, so sample it less often than the RSS.
 */
export function treePssMiB(pid: number, marker?: string): number {
  let kib = 0;
  for (const p of processTree(pid, marker)) {
    try {
      kib += Number(/^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kib / 1024;
}

/** Samples `measure` every `intervalMs` until stopped; stop() returns the largest value seen. */
export function sampleMax(measure: () => number, intervalMs = 25): { stop(): number } {
  let max = measure();
  const timer = setInterval(() => { max = Math.max(max, measure()); }, intervalMs);
  return { stop: () => { clearInterval(timer); return Math.max(max, measure()); } };
}

/** CPU seconds (user + system) of a process, and of its children it has waited for. */
export function cpuSeconds(pid: number): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so cut at its closing parenthesis).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const [utime, stime, cutime, cstime] = [fields[11], fields[12], fields[13], fields[14]].map((v) => (v ?? 0) / CLOCK_TICKS);
  return { own: (utime ?? 0) + (stime ?? 0), children: (cutime ?? 0) + (cstime ?? 0) };
}

/** CPU seconds of the live processes whose command line contains `marker` (daemonized helpers such as ssh masters). */
export function cpuSecondsOfMarked(marker: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) continue;
      total += cpuSeconds(Number(entry)).own;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Whether one of the process's inotify instances has a watch on inode `ino` (from /proc/<pid>/fdinfo). */
export function watchesInode(pid: number, ino: number): boolean {
  const needle = ` ino:${ino.toString(16)} `;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target === 'anon_inode:inotify' && readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').includes(needle)) return true;
  }
  return false;
}

export interface Started {
  child: ChildProcess;
  /** Milliseconds from spawn to the ready line. */
  ms: number;
  /** The line that matched. */
  line: string;
}

export interface ReadyOptions {
  stream: 'stdout' | 'stderr';
  /** A line that says the process is ready. */
  ready: RegExp | ((line: string) => boolean);
  /** How many such lines it takes; default 1. */
  count?: number;
  stdout?: 'pipe' | 'ignore';
  timeoutMs?: number;
  /** Its own process group, so that stopGroup() ends its children with it. */
  detached?: boolean;
  /** Its environment; benchEnv by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The environment the measured processes run in. NODE_EXTRA_CA_CERTS, where a machine sets it, makes every
 * node process parse a CA bundle before running any code (about 0.12 s here); inosync opens no TLS
 * connection, so that tax belongs to the machine, not to the tool measured. Every process gets this same
 * environment, the anchors too.
 */
export const benchEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_EXTRA_CA_CERTS'));

/** Spawns argv (no shell) and resolves once `count` lines of `stream` match `ready`; rejects if it exits first or at the deadline. */
export function spawnReady(argv: readonly string[], options: ReadyOptions): Promise<Started> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('spawnReady: empty argv');
  const started = performance.now();
  const child = spawn(command, args, { env: options.env ?? benchEnv, stdio: ['pipe', options.stdout ?? 'pipe', 'pipe'], detached: options.detached ?? false });
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`${command} not ready within ${options.timeoutMs ?? 120_000} ms`)), options.timeoutMs ?? 120_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const stream = child[options.stream];
    if (!stream) throw new Error(`spawnReady: ${options.stream} is not piped`);
    // The other stream is never read: keep it flowing so that a chatty child cannot block on a full pipe.
    (options.stream === 'stdout' ? child.stderr : child.stdout)?.resume();
    stream.setEncoding('utf8');
    const onData = (chunk: string): void => {
      seen += chunk;
      const { ready } = options;
      const lines = seen.split('\n').filter((l) => (typeof ready === 'function' ? ready(l) : ready.test(l)));
      const line = lines[(options.count ?? 1) - 1];
      if (line === undefined) return;
      const ms = performance.now() - started;
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      stream.resume();
      resolve({ child, ms, line });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(new Error(`${command} exited (${signal ?? code}) before it was ready: ${seen.slice(-500)}`));
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

/** How long a stopped process may take to exit before it is killed. */
const STOP_GRACE_MS = 5000;

/** Sends `signal` (to the child, or to its whole process group) and waits for the child to exit; SIGKILL after a grace period. */
async function end(child: ChildProcess, signal: NodeJS.Signals, group: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = group ? -child.pid : child.pid;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, signal);
  const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}

/** Ends a child and waits for it to be gone. */
export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return end(child, signal, false);
}

/** Ends a child started with `detached` and every process of its group, and waits for the child to be gone. */
export function stopGroup(child: ChildProcess): Promise<void> {
  return end(child, 'SIGTERM', true);
}

/** Polls `condition` every `intervalMs` until it holds; resolves with the time it first held. */
export async function pollUntil(condition: () => boolean, what: string, timeoutMs = 120_000, intervalMs = 1): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (condition()) return performance.now();
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** What a process and everything it started hold right now. */
export interface TreeUsage {
  /** Sum of VmRSS over the processes, MiB (shared pages counted in each, as `ps` does). */
  rssMiB: number;
  processes: number;
  /** CPU seconds of the live processes, and of the children the root has reaped. */
  cpu: number;
}

function statFields(pid: string): number[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  } catch {
    return undefined; // exited meanwhile
  }
}

/**
 * The process `root`, its descendants, and the live processes whose command line holds `marker` (helpers it
 * started detached, such as ssh masters, which are reparented away from it).
 */
export function processTree(root: number, marker?: string): number[] {
  const children = new Map<number, number[]>();
  const marked: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = statFields(entry)?.[1];
    if (ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    try {
      if (marker !== undefined && readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker)) marked.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  const seen = new Set<number>();
  const visit = (pid: number): void => {
    if (seen.has(pid)) return;
    seen.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  marked.forEach(visit);
  return [...seen];
}

/** RSS, process count and CPU of processTree(root, marker), or of `root` alone. */
export function treeUsage(root: number, marker?: string, tree = true): TreeUsage {
  let rssKiB = 0;
  let cpu = 0;
  let processes = 0;
  for (const pid of tree ? processTree(root, marker) : [root]) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    const fields = statFields(String(pid));
    if (fields === undefined) continue;
    processes++;
    rssKiB += Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
    const [utime, stime, cutime, cstime] = [fields[11], fields[12], fields[13], fields[14]].map((v) => (v ?? 0) / CLOCK_TICKS);
    cpu += (utime ?? 0) + (stime ?? 0) + (pid === root ? (cutime ?? 0) + (cstime ?? 0) : 0);
  }
  return { rssMiB: rssKiB / 1024, processes, cpu };
}

/**
 * Where a process tree's resident set is, for a bench's log: each process's RSS split into file-backed pages
 * (program code and read-only data, shared with every process that runs the same binary) and anonymous ones
 * (heaps, stacks), e.g. "node 60.8 (file 43.4 + anon 17.4)". Processes with the same name are summed.
 */
export function treeBreakdown(root: number, marker?: string): string {
  const byName = new Map<string, { count: number; file: number; anon: number }>();
  for (const pid of processTree(root, marker)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0);
    const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
    const entry = byName.get(name) ?? { count: 0, file: 0, anon: 0 };
    byName.set(name, { count: entry.count + 1, file: entry.file + (kib('RssFile') + kib('RssShmem')) / 1024, anon: entry.anon + kib('RssAnon') / 1024 });
  }
  return [...byName].map(([name, { count, file, anon }]) => `${count > 1 ? `${count} ${name}` : name} ${(file + anon).toFixed(1)} (file ${file.toFixed(1)} + anon ${anon.toFixed(1)})`).join(', ');
}
