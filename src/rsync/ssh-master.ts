// One multiplexed OpenSSH connection per ssh target, so each batch costs one round trip over an open
// connection instead of a new ssh handshake.
//
// The master runs in the background with ControlPersist=IDLE_SEC: `ssh -M -N` returns once the connection
// is authenticated and the control socket listens (that is our "ready"), and the master exits by itself
// after IDLE_SEC without clients. That bound matters: nothing can take a master down with an agent that is
// SIGKILLed, and an idle timeout is what keeps such a master from living on. The control socket sits in a
// private 0700 directory named after our pid; stop() closes the master (`ssh -O exit`) and removes the
// directory, and directories left by dead agents are removed the next time a master starts.
// Clients (rsync's ssh, remote moves) use ControlMaster=no: if the master is gone they connect directly
// rather than fail, so a dead master costs speed, never correctness.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
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
/** Seconds an unused master stays up. */
export const IDLE_SEC = 60;
const DIR_PREFIX = 'inosync-ssh-';

export class SshMaster {
  private dir: string | undefined;
  private starting: Promise<MasterState> | undefined;
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
    if (this.starting === undefined && this.dir !== undefined && (await answers(this.controlPath()))) return { ok: true, message: '' };
    this.starting ??= this.launch().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  /** True when the master is up and accepts clients; makes no connection to the host. */
  async isUp(): Promise<boolean> {
    return this.dir !== undefined && this.starting === undefined && answers(this.controlPath());
  }

  private async launch(): Promise<MasterState> {
    if (this.dir === undefined) {
      removeDirsOfDeadAgents();
      this.dir = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
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
    const child = spawn('ssh', args, { stdio: 'ignore', detached: true, shell: false });
    // ConnectTimeout bounds the TCP connect only; authentication gets the same budget again.
    const budgetMs = this.options.timeoutSec * 2000 + 1000;
    const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); }, budgetMs);
      child.once('error', (error) => { clearTimeout(timer); resolve({ code: null, error }); });
      child.once('exit', (code) => { clearTimeout(timer); resolve({ code }); });
    });
    if (exit.code === 0 && (await answers(socket))) {
      this.options.logger.debug({ target: this.target.spec }, 'ssh master up');
      return { ok: true, message: '' };
    }
    const said = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
    const why = exit.error?.message ?? (said || (exit.code === null ? `no connection within ${budgetMs} ms` : `ssh exited with status ${exit.code}`));
    return { ok: false, message: `ssh master to ${this.target.spec} did not come up: ${why}` };
  }

  private controlPath(): string {
    return join(this.dir!, 'master');
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
    await rm(this.dir, { recursive: true, force: true });
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
      const child = spawn('ssh', this.exitArgs(), { stdio: 'ignore', shell: false });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('error', () => { clearTimeout(timer); resolve(); });
      child.once('exit', () => { clearTimeout(timer); resolve(); });
    });
  }

  /** Synchronous last-resort cleanup, for process exit. */
  abandon(): void {
    if (this.dir === undefined) return;
    spawnSync('ssh', this.exitArgs(), { stdio: 'ignore', timeout: 2000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// An agent that exits without stop() (an uncaught error, process.exit) still leaves no master or socket.
const live = new Set<SshMaster>();
process.on('exit', () => { for (const master of live) master.abandon(); });

/** True when a master accepts connections on the control socket. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}

/** Control directories of agents that were killed: their masters exit on the idle timeout by themselves. */
function removeDirsOfDeadAgents(): void {
  for (const name of safeReaddir(tmpdir())) {
    const pid = Number(new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
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
