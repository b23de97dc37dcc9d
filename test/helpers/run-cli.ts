// Runs the built `inosync` CLI as a real process: to completion (runCli) or in the background (startCli).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { guardLeftovers } from './leftovers.js';
import type { CleanupContext } from './tmp.js';
import { waitFor } from './wait.js';

/** The CLI as installed: the package's `bin`, which runs the bundle of src/cli/main.ts (see scripts/bundle.ts). */
export const cliPath = fileURLToPath(new URL('../../src/cli/launcher.cjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions extends Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid'> {
  /** Kill it and reject after this long; default 20 s. */
  timeoutMs?: number;
  /** Run the CLI through this command (e.g. ['unshare', '--user', ...]); the node command follows. */
  prefix?: string[];
  input?: string | Buffer;
  /** Run this installed command (e.g. a bin from `npm install -g`) instead of the package's launcher. */
  bin?: string;
}

function command(args: readonly string[], prefix: readonly string[] = [], bin?: string): [string, string[]] {
  const argv = [...prefix, ...(bin === undefined ? [process.execPath, cliPath] : [bin]), ...args];
  return [argv[0] as string, argv.slice(1)];
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const { timeoutMs = 20_000, prefix, input, bin, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const [file, argv] = command(args, prefix, bin);
    const child = spawn(file, argv, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdin?.end(input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`inosync ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface BackgroundCli {
  child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process ends (at once if it already has). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface BackgroundOptions extends Omit<CliOptions, 'timeoutMs' | 'input'> {
  /** An agent run: stopped by SIGTERM when the test ends, which fails if it left a process or a temp file (leftovers.ts). */
  leftovers?: boolean;
}

/** Starts the CLI in the background; it is SIGKILLed when the test ends if still running. */
export function startCli(t: CleanupContext, args: readonly string[], options: BackgroundOptions = {}): BackgroundCli {
  const { prefix, bin, leftovers = false, ...spawnOptions } = options;
  const [file, argv] = command(args, prefix, bin);
  const guard = leftovers ? guardLeftovers(t, spawnOptions.env) : undefined;
  const child = spawn(file, argv, { ...spawnOptions, ...(guard === undefined ? {} : { env: guard.env }), stdio: ['ignore', 'pipe', 'pipe'] });
  guard?.follow(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => { output.stdout += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { output.stderr += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    get stdout() { return output.stdout; },
    get stderr() { return output.stderr; },
    exited,
  };
}

/** One JSON log line of the agent (stderr off a TTY). */
export interface LogLine {
  level: number;
  msg: string;
  host?: string;
  kind?: string;
  sent?: number;
  files?: number;
  [key: string]: unknown;
}

export interface LoggedCli {
  cli: BackgroundCli;
  /** Every JSON log line so far. */
  logs(): LogLine[];
  /** Resolves with the first line matching; rejects at the deadline or when the process exits first. */
  waitForLog(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

const LOG_TAIL_LINES = 40;

/** Starts the CLI in the background and reads its JSON log lines. */
export function startLoggedCli(t: CleanupContext, args: readonly string[], options: Parameters<typeof startCli>[2] = {}): LoggedCli {
  const cli = startCli(t, args, options);
  const logs = (): LogLine[] => cli.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  return {
    cli,
    logs,
    waitForLog: (predicate, what, timeoutMs = 10_000) => waitFor(() => {
      if (cli.child.exitCode !== null) throw new Error(`the agent exited (${cli.child.exitCode}) before ${what}:\n${cli.stderr}`);
      return logs().find(predicate);
    }, { what, timeoutMs, intervalMs: 20 }).catch((error: unknown) => {
      // A deadline missed on a CI machine is diagnosed from what the agent said meanwhile.
      throw new Error(`${(error as Error).message}; the agent's last log lines:\n${cli.stderr.split('\n').slice(-LOG_TAIL_LINES).join('\n')}`);
    }),
  };
}
