// One multiplexed OpenSSH connection per ssh target, so each batch costs one round trip over an open
// connection instead of a new ssh handshake.
//
// The master runs in the background with ControlPersist=IDLE_SEC: `ssh -M -N` returns once the connection
// is authenticated and the control socket listens (that is our "ready"), and the master exits by itself
// after IDLE_SEC without clients. That bound matters: nothing can take a master down with an agent that is
// SIGKILLed, and an idle timeout is what keeps such a master from living on. The control socket sits in a
// private 0700 directory named after our pid; stop() closes the master (`ssh -O exit`) and removes the
// directory, and directories left by dead agents are removed the next time a master starts (only ones that
// are ours: a private directory of our uid holding nothing but a master's files).
// A unix socket path holds 107 bytes and ssh binds ControlPath plus a 17-byte suffix first: the directory
// goes where the path fits (/run/inosync for root, $XDG_RUNTIME_DIR, $TMPDIR, /tmp). Where none will do,
// the target is reached without a master, one ssh connection per rsync, with a warning.
// Clients (rsync's ssh, remote moves) use ControlMaster=no: if the master is gone they connect directly
// rather than fail, so a dead master costs speed, never correctness.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, type Stats } from 'node:fs';
import { lstat, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { isOurPrivateDirectory, ourUid, sameInode } from '../safety/owned-files.js';
import { isResourceShortage } from './exit-codes.js';
import type { SshTarget } from './target.js';

export interface SshMasterOptions {
  /** Seconds for ConnectTimeout, and the ServerAlive budget (interval × count, at most 6) of a silent connection. */
  timeoutSec: number;
  logger: Logger;
}

export interface MasterState {
  ok: boolean;
  /** Why the master could not be started (ssh's own words), empty when ok. */
  message: string;
}

/** Longest ServerAliveInterval (s): a user's --ssh-option ServerAliveInterval=N wins (see baseOptions). */
const KEEPALIVE_SEC = 2;
/**
 * Seconds an unused master stays up. Its clients are the batches and the standby rsync, which is ended after
 * 10 s unused (transport.ts): an idle host then costs no local process after about 25 s (a master is ~3.7 MiB
 * RSS), and the first change after that pays one handshake (~0.3 s to loopback here).
 */
export const IDLE_SEC = 15;
const DIR_PREFIX = 'inosync-ssh-';
/** mkdtemp's name for a control directory: our prefix, the agent's pid, six random characters. */
const DIR_NAME = /^inosync-ssh-(\d+)-[A-Za-z0-9]{6}$/;
const SOCKET_NAME = 'master';
/** What a control directory holds: the socket, ssh's temporary name for it while it binds, the log. */
const CONTROL_FILES = /^master(?:\.log|\.[0-9a-f]{1,16})?$/;
/** sun_path's 108 bytes less its NUL, less the `.%016llx` ssh appends while it binds the socket. */
export const MAX_CONTROL_PATH_BYTES = 107 - 17;
const ROOT_BASE = '/run/inosync';

/** Where control directories may go, best first; the first one the socket path fits in is used. */
export function controlBases(env: NodeJS.ProcessEnv = process.env, uid = ourUid()): string[] {
  const bases = [uid === 0 ? ROOT_BASE : env.XDG_RUNTIME_DIR, tmpdir(), '/tmp'];
  return [...new Set(bases.filter((base): base is string => base !== undefined && base.startsWith('/')))];
}

function controlPathFits(base: string): boolean {
  return Buffer.byteLength(join(base, `${DIR_PREFIX}${process.pid}-XXXXXX`, SOCKET_NAME)) <= MAX_CONTROL_PATH_BYTES;
}

export class SshMaster {
  private dir: string | undefined;
  /** The control directory as created: removed only while the path still names it. */
  private dirInfo: Stats | undefined;
  /** No control directory fits: every connection is made directly. */
  private direct = false;
  private starting: Promise<MasterState> | undefined;
  /** The `ssh -M` being started: until it has bound the socket and gone to the background, only its pid can stop it. */
  private launching: ChildProcess | undefined;
  private stopped = false;

  constructor(readonly target: SshTarget, private readonly options: SshMasterOptions) {}

  /**
   * ssh options every connection to this target uses. ssh keeps the FIRST value it is given for an option,
   * so the order is the policy: BatchMode first (an agent must never prompt), then the user's options, then
   * our timeouts and keep-alives as defaults the user's can override.
   */
  private baseOptions(): string[] {
    const t = this.target;
    const { timeoutSec } = this.options;
    // A connection that went silent (a black-holed host) is given up after ~3 keep-alives unanswered: a few
    // seconds, not the whole --timeout, so the host's queue goes to waiting for its return (reachability.ts).
    const alive = Math.max(1, Math.min(KEEPALIVE_SEC, Math.ceil(timeoutSec / 3)));
    return [
      '-o', 'BatchMode=yes',
      ...t.sshOptions,
      ...(t.port === undefined ? [] : ['-p', String(t.port)]),
      ...(t.identity === undefined ? [] : ['-i', t.identity]),
      ...(t.user === undefined ? [] : ['-l', t.user]),
      '-o', `ConnectTimeout=${timeoutSec}`,
      '-o', `ServerAliveInterval=${alive}`,
      '-o', 'ServerAliveCountMax=3',
    ];
  }

  /** argv (after `ssh`) of a client riding on the master, without the host. */
  clientOptions(): string[] {
    const control = this.dir === undefined ? [] : ['-o', 'ControlMaster=no', '-o', `ControlPath=${this.controlPath()}`];
    return [...control, ...this.baseOptions()];
  }

  /** The `-e` value for rsync: `ssh` and the client options, quoted the way rsync splits its -e string. */
  rsyncShell(): string {
    return ['ssh', ...this.clientOptions()].map(quoteForRsyncShell).join(' ');
  }

  /** Starts the master unless one answers on the socket; resolves when it accepts clients, or with why not. */
  async ensure(): Promise<MasterState> {
    if (this.stopped) return { ok: false, message: `the connection to ${this.target.spec} is shut down` };
    if (this.direct) return { ok: true, message: '' };
    if (this.starting === undefined && this.dir !== undefined && (await answers(this.controlPath()))) return { ok: true, message: '' };
    this.starting ??= this.launch().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  /** True when the master is up and accepts clients; makes no connection to the host. */
  async isUp(): Promise<boolean> {
    return this.dir !== undefined && this.starting === undefined && answers(this.controlPath());
  }

  /** Never throws: a spawn or file system failure (out of descriptors...) is a state that says why. */
  private async launch(): Promise<MasterState> {
    try {
      return await this.launchMaster();
    } catch (error) {
      return { ok: false, message: `ssh master to ${this.target.spec} could not be started: ${(error as Error).message}` };
    }
  }

  private async launchMaster(): Promise<MasterState> {
    if (this.dir === undefined) {
      // Made and registered for the exit-time cleanup in one synchronous step: an exit between the two
      // (a second signal) would leave a directory nobody knows of.
      const made = makeControlDir();
      if (made === undefined) {
        this.direct = true;
        this.options.logger.warn({ target: this.target.spec, bases: controlBases() }, `no directory for an ssh control socket fits in ${MAX_CONTROL_PATH_BYTES} bytes or can be created: connecting to ${this.target.spec} without a shared connection (slower; set TMPDIR to a short path)`);
        return { ok: true, message: '' };
      }
      [this.dir, this.dirInfo] = made;
      live.add(this);
    }
    const socket = this.controlPath();
    const log = join(this.dir, 'master.log');
    await rm(socket, { force: true });
    await rm(log, { force: true });
    const args = [
      '-M', '-N', '-o', 'ControlMaster=yes', '-o', `ControlPath=${socket}`, '-o', `ControlPersist=${IDLE_SEC}`,
      '-E', log, ...this.baseOptions(), '--', this.target.host,
    ];
    // No pipes: the backgrounded master would hold them open. detached: out of our terminal's signals.
    // Out of descriptors, spawn throws or emits 'error': both end as a failed start, retried later.
    const child = spawn('ssh', args, { stdio: 'ignore', detached: true, shell: false });
    this.launching = child;
    // ConnectTimeout bounds the TCP connect only; authentication gets the same budget again.
    const budgetMs = this.options.timeoutSec * 2000 + 1000;
    const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); }, budgetMs);
      child.once('error', (error) => { clearTimeout(timer); resolve({ code: null, error }); });
      child.once('exit', (code) => { clearTimeout(timer); resolve({ code }); });
    });
    this.launching = undefined;
    if (exit.code === 0 && (await answers(socket))) {
      this.options.logger.debug({ target: this.target.spec }, 'ssh master up');
      return { ok: true, message: '' };
    }
    const said = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
    const why = exit.error?.message ?? (said || (exit.code === null ? `no connection within ${budgetMs} ms` : `ssh exited with status ${exit.code}`));
    return { ok: false, message: `ssh master to ${this.target.spec} did not come up: ${why}` };
  }

  private controlPath(): string {
    return join(this.dir!, SOCKET_NAME);
  }

  private exitArgs(): string[] {
    return ['-O', 'exit', '-o', `ControlPath=${this.controlPath()}`, '--', this.target.host];
  }

  /** Closes the master and removes the control directory; no connection is made after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    if (this.dir === undefined) return;
    await this.exit();
    if (await stillOurs(this.dir, this.dirInfo!)) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    live.delete(this);
  }

  /**
   * Closes a master whose host stopped answering while ssh's keep-alives have not ended it (seen here for a
   * 20 s black hole): clients would ride it into the same hang. The next ensure() starts a new one.
   */
  async drop(): Promise<void> {
    if (this.dir === undefined || this.stopped) return;
    await this.exit();
    await rm(this.controlPath(), { force: true });
  }

  private async exit(): Promise<void> {
    if (!(await answers(this.controlPath()))) return;
    await new Promise<void>((resolve) => {
      try {
        const child = spawn('ssh', this.exitArgs(), { stdio: 'ignore', shell: false });
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('error', () => { clearTimeout(timer); resolve(); });
        child.once('exit', () => { clearTimeout(timer); resolve(); });
      } catch {
        // Out of resources: the master still exits by itself after IDLE_SEC.
        resolve();
      }
    });
  }

  /**
   * Synchronous last-resort cleanup, for process exit. An `ssh -M` still starting is killed and waited for
   * first: alive, it would bind its socket (or write its log) in the directory after we removed it.
   */
  abandon(): void {
    if (this.dir === undefined) return;
    if (this.launching?.pid !== undefined && this.launching.exitCode === null && this.launching.signalCode === null) killAndReap(this.launching.pid);
    spawnSync('ssh', this.exitArgs(), { stdio: 'ignore', timeout: 2000 });
    if (isSameDirectory(safeLstat(this.dir), this.dirInfo!)) rmSync(this.dir, { recursive: true, force: true });
  }
}

// An agent that exits without stop() (an uncaught error, process.exit) still leaves no master or socket.
const live = new Set<SshMaster>();
process.on('exit', () => {
  for (const master of live) {
    try {
      master.abandon();
    } catch {
      // One master's cleanup failing (out of descriptors) must not leave the others' behind.
    }
  }
});

/** Longest wait (ms) in an exit handler for a SIGKILLed ssh to be gone: the kernel ends it at its next return to user space. */
const KILL_WAIT_MS = 2000;

/**
 * SIGKILLs a detached child's process group (it leads it: a ProxyCommand of its goes too) and waits,
 * synchronously, until the child is a zombie (nothing left to run, its files closed): a signal only pends
 * while a system call in flight (a bind, an open) completes. Unreaped, its pid and group are still ours.
 */
function killAndReap(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    return; // gone already
  }
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (const until = Date.now() + KILL_WAIT_MS; Date.now() < until && isRunning(pid);) Atomics.wait(nap, 0, 0, 5);
}

/** False once the process is a zombie or gone (Linux /proc: the state follows the command name). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** True when a master accepts connections on the control socket. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}

/**
 * A fresh private directory (mkdtemp: 0700, a name nobody had) in the first base the control path fits in,
 * with its identity. Synchronous, so that the caller registers it before anything else can run. Undefined
 * when none fits or can be used. Running out of descriptors is no reason to give up on a base: that error is
 * thrown, and the start is retried.
 */
function makeControlDir(): [string, Stats] | undefined {
  for (const base of controlBases().filter(controlPathFits)) {
    try {
      if (base === ROOT_BASE) mkdirSync(base, { recursive: true, mode: 0o700 });
      removeDirsOfDeadAgents(base);
      const dir = mkdtempSync(join(base, `${DIR_PREFIX}${process.pid}-`));
      return [dir, lstatSync(dir)];
    } catch (error) {
      if (isResourceShortage(error)) throw error;
    }
  }
  return undefined;
}

function safeLstat(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function isSameDirectory(now: Stats | undefined, made: Stats): boolean {
  return now !== undefined && isOurPrivateDirectory(now) && sameInode(now, made);
}

async function stillOurs(dir: string, made: Stats): Promise<boolean> {
  return isSameDirectory(await lstat(dir).catch(() => undefined), made);
}

/**
 * Control directories of agents that were killed (their masters exit on the idle timeout by themselves).
 * Only what is ours is removed: our name with a dead pid, a private directory of our uid (not a symlink),
 * holding nothing but a master's files.
 */
function removeDirsOfDeadAgents(base: string): void {
  for (const name of safeReaddir(base)) {
    const pid = Number(DIR_NAME.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const dir = join(base, name);
    const info = safeLstat(dir);
    if (info === undefined || !isOurPrivateDirectory(info) || !safeReaddir(dir).every((entry) => CONTROL_FILES.test(entry))) continue;
    rmSync(dir, { recursive: true, force: true });
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * rsync splits its -e string on spaces itself (no shell): inside single quotes everything is literal and a
 * doubled quote is one quote character.
 */
export function quoteForRsyncShell(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "''")}'`;
}
