// Runs one child process (rsync, ssh, or a user's hook) under a watchdog: argv only (no shell), stdin fed
// from a buffer, stdout and stderr read line by line, and the whole process group killed on abort, on a
// deadline, or when it stalls. A contained child (a hook) is also ended with everything it started: when it
// exits, and when the agent dies, even by SIGKILL (see `contained`).
//
// A stall is "the child read nothing for `stallMs`", sampled from /proc/PID/io (rchar): a live rsync always
// reads something (source files, or the peer's data and keep-alives, which --timeout makes it send), while
// one talking to a black-holed host reads nothing. rsync's own --timeout and ssh's ServerAlive should end
// such a child first; this is the last line of defence when they do not. Sooner than that, a child quiet
// for `silence.afterMs` has its host asked whether it still answers (a cheap probe, see probe.ts): ssh's
// keep-alives have been seen to leave a connection to a black-holed host hanging for as long as the outage.
// A host that gives no reply ends the child (killed: 'silent'); one that does is asked again only after as
// long a quiet again.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ChildSpec {
  command: string;
  args: string[];
  stdin?: Buffer;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Kill when the child has read nothing for this long. */
  stallMs?: number;
  /** Kill when the child runs longer than this. */
  deadlineMs?: number;
  /** Kill when the child has read nothing for `afterMs` and `answers()` then says its host is silent. */
  silence?: Silence;
  onStdoutLine?: (line: Buffer) => void;
  onStderrLine?: (line: string) => void;
  /**
   * A program of the user's (a hook), which may start others and leave them in the background: its run
   * ends when it exits (not when the last holder of its stdout or stderr lets go), and whatever it left is
   * killed then. Run as root with util-linux's unshare, it gets a PID namespace of its own that dies with
   * it and with the agent (see PID_NAMESPACE); otherwise only its process group is killed, and what it
   * put in a session of its own, or left behind when the agent was SIGKILLed, may survive.
   */
  contained?: boolean;
}

export interface Silence {
  afterMs: number;
  answers: () => Promise<boolean>;
}

export interface ChildResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** Last few KB of stderr, for messages. */
  stderrTail: string;
  /** Set when we killed it, and why. */
  killed?: 'aborted' | 'stalled' | 'deadline' | 'silent';
  /** Set when the program could not be started at all (ENOENT...). */
  spawnError?: Error;
}

/**
 * setpriv(1), from util-linux, starts each child with a parent-death signal and execs the program in place
 * (same pid, no shell). Were the agent killed outright (SIGKILL, the OOM killer), an rsync it started would
 * otherwise finish its batch on its own, and could rename an older copy of a file over the newer one that the
 * restarted agent has sent meanwhile. Without setpriv, children are started directly.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find(isExecutable);
/** What setpriv and unshare exit with when they cannot run the program (as a shell does), as the spawn error it stands for. */
const EXEC_FAILURES: Partial<Record<number, string>> = { 126: 'EACCES', 127: 'ENOENT' };
const EXEC_FAILURE_MESSAGE = /^(setpriv|unshare): failed to execute/;

/**
 * A contained child runs as `unshare --pid --fork --kill-child -- PROGRAM ARGS`, under setpriv's parent-death
 * signal: were the agent killed, unshare gets SIGKILL, its --kill-child kills the program (the namespace's
 * init), and the kernel then kills every process of that namespace, backgrounded, re-parented or in a
 * session of its own. (A parent-death signal alone reaches only the direct child.) It needs CAP_SYS_ADMIN:
 * checked once, by running unshare so.
 */
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find(isExecutable);
const PID_NAMESPACE = UNSHARE === undefined ? [] : [UNSHARE, '--pid', '--fork', '--kill-child', '--'];
let pidNamespace: Promise<readonly string[]> | undefined;
/** How long a contained child's stdout and stderr may stay open after it exited, held by what it left. */
const PIPE_GRACE_MS = 500;
/**
 * The same for any other child. An ssh master holds the stdio of every client riding it (passed over its
 * control socket) until the host acknowledges the session's end, which a black-holed host never does: an
 * rsync's stderr pipe then stays open long after the rsync and its ssh client died.
 */
const HELD_PIPE_GRACE_MS = 2000;

const TAIL_BYTES = 4096;
const TERM_GRACE_MS = 2000;
const SAMPLE_MS = 1000;

/** A child started ahead of its input: spawned and connected, waiting on stdin until it is run. */
export interface PreparedChild {
  /** False once it has exited (or could not start) before being run. */
  readonly waiting: boolean;
  /** Gives it its stdin and waits for its end, under the watchdog from now on. */
  run(stdin: Buffer, signal?: AbortSignal): Promise<ChildResult>;
  /** Kills it unused; resolves once it has exited. */
  discard(): Promise<void>;
}

export async function runChild(spec: ChildSpec): Promise<ChildResult> {
  const prepared = spec.contained ? spawnChild(spec, await pidNamespaceWrapper()) : prepareChild(spec);
  return prepared.run(spec.stdin ?? Buffer.alloc(0), spec.signal);
}

/** Spawns the child now; its stdin, and the watchdog's clocks, wait for run(). */
export function prepareChild(spec: Omit<ChildSpec, 'stdin' | 'signal' | 'contained'>): PreparedChild {
  return spawnChild(spec, []);
}

/** The PID namespace's wrapper when it works here (root, unshare present and allowed), else none. */
function pidNamespaceWrapper(): Promise<readonly string[]> {
  pidNamespace ??= new Promise((resolve) => {
    const [unshare, ...args] = PID_NAMESPACE;
    if (unshare === undefined || process.getuid?.() !== 0) {
      resolve([]);
      return;
    }
    execFile(unshare, [...args, unshare, '--version'], { timeout: 5000 }, (error) => resolve(error ? [] : PID_NAMESPACE));
  });
  return pidNamespace;
}

function spawnChild(spec: Omit<ChildSpec, 'stdin' | 'signal'>, wrapper: readonly string[]): PreparedChild {
  const program = [...wrapper, spec.command, ...spec.args];
  const [command, args] = SETPRIV === undefined ? [program[0] as string, program.slice(1)] : [SETPRIV, ['--pdeathsig', 'KILL', '--', ...program]];
  // detached: its own process group, so ssh started by rsync (and a local rsync's receiver) die with it.
  // spawn() throws for some failures (ENOMEM) and, out of descriptors (EMFILE), returns a child without
  // pipes that only emits 'error': either way the result carries a spawnError and the agent goes on.
  let child: ChildProcess | undefined;
  let thrown: Error | undefined;
  try {
    child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: spec.env ?? process.env,
      detached: true,
      shell: false,
    });
  } catch (error) {
    thrown = error instanceof Error ? error : new Error(String(error));
  }
  let stderrTail = '';
  let killed: ChildResult['killed'];
  let spawnError: Error | undefined;
  let termTimer: NodeJS.Timeout | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let onExit: (() => void) | undefined;
  /** Resolves discard()'s promises. */
  const gone: Array<() => void> = [];
  /** Whether run() gave it its input; and whether the process itself has exited (its pipes may close later). */
  let fed = false;
  let exited = false;
  const exits: Array<() => void> = [];

  const kill = (why: NonNullable<ChildResult['killed']>): void => {
    const pid = child?.pid;
    if (killed !== undefined || pid === undefined || exit !== undefined) return;
    killed = why;
    signalGroup(pid, 'SIGTERM');
    termTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), TERM_GRACE_MS);
  };
  const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (exit !== undefined) return;
    const failure = code === null ? undefined : EXEC_FAILURES[code];
    if (failure !== undefined && EXEC_FAILURE_MESSAGE.test(stderrTail)) {
      spawnError = Object.assign(new Error(`spawn ${spec.command} ${failure}`), { code: failure, path: spec.command });
    }
    exit = { code, signal };
    clearTimeout(termTimer);
    onExit?.();
    for (const resolve of gone.splice(0)) resolve();
  };

  if (child?.stdout && child.stderr && child.stdin) {
    splitLines(child.stdout, (line) => spec.onStdoutLine?.(line));
    splitLines(child.stderr, (line) => {
      const text = line.toString('utf8');
      stderrTail = (stderrTail + text + '\n').slice(-TAIL_BYTES);
      spec.onStderrLine?.(text);
    });
    child.stdin.on('error', () => { /* the child exited before reading all of stdin: its exit status tells */ });
  }
  if (child === undefined) {
    spawnError = thrown;
    ended(null, null);
  } else {
    const started = child;
    started.on('error', (error) => { spawnError = error; ended(null, null); });
    started.on('close', (code, signal) => ended(code, signal));
    started.on('exit', (code, signal) => {
      exited = true;
      for (const resolve of exits.splice(0)) resolve();
      if (spec.contained && started.pid !== undefined) signalGroup(started.pid, 'SIGKILL'); // what it left in its process group
      setTimeout(() => {
        // Still held open by a process that left the group: the run is over all the same.
        started.stdout?.destroy();
        started.stderr?.destroy();
        ended(code, signal);
      }, spec.contained ? PIPE_GRACE_MS : HELD_PIPE_GRACE_MS).unref();
    });
  }
  const pid = child?.pid;

  return {
    get waiting() {
      return exit === undefined && killed === undefined;
    },
    run(stdin, signal) {
      fed = true;
      const started = performance.now();
      return new Promise((resolvePromise) => {
        const onAbort = (): void => kill('aborted');
        if (signal?.aborted) queueMicrotask(onAbort);
        else signal?.addEventListener('abort', onAbort, { once: true });
        const deadline = spec.deadlineMs === undefined ? undefined : setTimeout(() => kill('deadline'), spec.deadlineMs);
        const stall = spec.stallMs === undefined || pid === undefined ? undefined : watchStall(pid, spec.stallMs, kill, spec.silence);
        onExit = () => {
          clearTimeout(deadline);
          stall?.stop();
          signal?.removeEventListener('abort', onAbort);
          const result: ChildResult = { exitCode: exit?.code ?? null, signal: exit?.signal ?? null, durationMs: performance.now() - started, stderrTail: stderrTail.trimEnd() };
          if (killed !== undefined) result.killed = killed;
          if (spawnError !== undefined) result.spawnError = spawnError;
          resolvePromise(result);
        };
        if (exit === undefined) child?.stdin?.end(stdin);
        else onExit();
      });
    },
    discard() {
      // Never fed, it has read no list and can have done nothing on either side: killed outright, and gone once
      // it has exited. rsync's handler of SIGTERM sleeps 400 ms before it exits (time for an ssh prompt to restore
      // the terminal), which a tree run waited for after every standby; a session held by an ssh master would
      // keep its pipes open ~100 ms longer, for nothing.
      if (!fed && pid !== undefined && exit === undefined && killed === undefined) {
        killed = 'aborted';
        signalGroup(pid, 'SIGKILL');
        return exited ? Promise.resolve() : new Promise((resolve) => { exits.push(resolve); });
      }
      kill('aborted');
      termTimer?.unref();
      return exit === undefined ? new Promise((resolve) => { gone.push(resolve); }) : Promise.resolve();
    },
  };
}

/** Whether `path` is a program this process may run (to look up helpers at known places, without a PATH search). */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    let data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let newline: number;
    while ((newline = data.indexOf(0x0a)) >= 0) {
      onLine(data.subarray(0, newline));
      data = data.subarray(newline + 1);
    }
    pending = Buffer.from(data);
  });
  stream.on('end', () => { if (pending.length > 0) onLine(pending); });
}

function watchStall(pid: number, stallMs: number, kill: (why: 'stalled' | 'silent') => void, silence?: Silence): { stop(): void } {
  let last = -1;
  let quietSince = performance.now();
  /** When the host was last asked (or the quiet began); undefined while a question is out. */
  let askedAt: number | undefined = quietSince;
  const timer = setInterval(() => {
    readFile(`/proc/${pid}/io`, 'utf8').then((io) => {
      const rchar = Number(/^rchar: (\d+)/m.exec(io)?.[1] ?? -1);
      const now = performance.now();
      if (rchar !== last) {
        last = rchar;
        quietSince = now;
        if (askedAt !== undefined) askedAt = now;
      } else if (now - quietSince >= stallMs) kill('stalled');
      else if (silence && askedAt !== undefined && now - askedAt >= silence.afterMs) {
        askedAt = undefined;
        silence.answers().catch(() => true).then((answers) => {
          askedAt = performance.now();
          if (!answers) kill('silent');
        });
      }
    }, () => { /* exited, or /proc/PID/io unreadable: the deadline and rsync's own timeouts remain */ });
  }, SAMPLE_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
