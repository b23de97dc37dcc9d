// Runs `inosync watch` and Debian's `inotifywait` as real processes for the watch CLI tests: raw stdout
// bytes, stderr text, deterministic waits ("Watches established.", an expected line), stop by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cliPath } from '../helpers/run-cli.js';
import type { CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

export interface Monitor {
  readonly child: ChildProcess;
  /** Everything written to stdout so far, as bytes. */
  readonly stdout: Buffer;
  readonly stderr: string;
  /** stdout split into lines (latin1, so any byte survives). */
  lines(): string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stderr holds `text`. */
  waitStderr(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves once stdout holds `text` (latin1). */
  waitStdout(text: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

export type Tool = 'inosync' | 'inotifywait' | 'inotifywatch';

export function argvOf(tool: Tool, args: readonly string[]): [string, string[]] {
  if (tool === 'inosync') return [process.execPath, [cliPath, 'watch', ...args]];
  return [tool, [...args]];
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: Buffer;
}

export function startMonitor(t: CleanupContext, tool: Tool, args: readonly string[], options: StartOptions = {}): Monitor {
  const [file, argv] = argvOf(tool, args);
  const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(options.stdin ?? '');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  t.after(async () => {
    if (running()) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const monitor: Monitor = {
    child,
    get stdout() { return Buffer.concat(out); },
    get stderr() { return err; },
    lines: () => Buffer.concat(out).toString('latin1').split('\n').filter((l) => l !== ''),
    exited,
    async waitStderr(text, timeoutMs = 10_000) {
      await waitFor(() => err.includes(text) || !running(), { timeoutMs, what: `${tool} to print "${text}" on stderr` });
      if (!err.includes(text)) throw new Error(`${tool} ended without printing "${text}"; stderr: ${err}`);
    },
    async waitStdout(text, timeoutMs = 10_000) {
      await waitFor(() => monitor.stdout.toString('latin1').includes(text), { timeoutMs, what: `${tool} to print "${text}"; stdout so far: ${monitor.stdout.toString('latin1')}` });
    },
    async stop() {
      if (running()) child.kill('SIGTERM');
      await exited;
    },
  };
  return monitor;
}

/** Both tools on the same arguments, each started and waited for until its watches are set. */
export async function sideBySide(t: CleanupContext, args: readonly string[], options: StartOptions = {}): Promise<{ ours: Monitor; theirs: Monitor }> {
  // inotifywait starts in milliseconds, node in a good part of a second: started second, its -t runs no shorter.
  const ours = startMonitor(t, 'inosync', args, options);
  await ours.waitStderr('Watches established.');
  const theirs = startMonitor(t, 'inotifywait', args, options);
  await theirs.waitStderr('Watches established.');
  return { ours, theirs };
}

/**
 * Lines caused by the other watcher listing directories (its own open/read/close of a directory), which each
 * tool sees of the other when both watch every event: left out of comparisons.
 */
export function withoutListingNoise(lines: readonly string[]): string[] {
  return lines.filter((l) => !/(^|[ ,"])(OPEN|ACCESS|CLOSE_NOWRITE,CLOSE),ISDIR( |,|"|$)/.test(l));
}

/** How many inotify watches a process holds now, from /proc/PID/fdinfo (0 when it has ended). */
function watchesHeld(pid: number): number {
  try {
    let count = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:inotify') continue;
      count += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    }
    return count;
  } catch {
    return 0;
  }
}

/** Resolves once the monitor holds `count` watches: its readiness even under -q, which hides "Watches established.". */
export async function waitWatching(monitor: Monitor, count = 1): Promise<void> {
  const { child } = monitor;
  const ended = (): boolean => child.exitCode !== null || child.signalCode !== null;
  await waitFor(() => ended() || watchesHeld(child.pid ?? -1) >= count, { timeoutMs: 10_000, what: `${child.spawnfile} to hold ${count} inotify watch(es)` });
  if (ended()) throw new Error(`${child.spawnfile} ended (${child.exitCode ?? child.signalCode}) before it held its watches; stderr: ${monitor.stderr}`);
}
