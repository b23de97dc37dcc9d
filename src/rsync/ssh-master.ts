// One multiplexed OpenSSH connection per ssh target, so each batch costs one round trip over an open
// connection instead of a new ssh handshake.
//
// The master is our own child (`ssh -M -N`, in the foreground), its control socket in a private 0700
// directory we create and remove. We own its pid, so stopping it needs no `ssh -O exit` round trip, and a
// master that died (host rebooted, ServerAlive gave up) is simply started again before the next batch.
// Clients (rsync's ssh, remote moves) use ControlMaster=no: if the socket is gone they connect directly
// rather than fail, so a dead master costs speed, never correctness.
// ControlPersist is not used: it would detach the master from us and outlive the agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { SshTarget } from './target.js';

export interface SshMasterOptions {
  /** Seconds for ConnectTimeout, and the ServerAlive budget (interval × count) of a silent connection. */
  timeoutSec: number;
  logger: Logger;
}

export interface MasterState {
  ok: boolean;
  /** Why the master could not be started (ssh's own words), empty when ok. */
  message: string;
}

const POLL_MS = 15;

export class SshMaster {
  private dir: string | undefined;
  private child: ChildProcess | undefined;
  private starting: Promise<MasterState> | undefined;
  private stopped = false;

  constructor(readonly target: SshTarget, private readonly options: SshMasterOptions) {}

  /** ssh options every connection to this target uses: timeouts, keep-alives, identity, the user's options. */
  private baseOptions(): string[] {
    const t = this.target;
    const { timeoutSec } = this.options;
    const alive = Math.max(1, Math.ceil(timeoutSec / 3));
    return [
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${timeoutSec}`,
      '-o', `ServerAliveInterval=${alive}`,
      '-o', 'ServerAliveCountMax=3',
      ...(t.port === undefined ? [] : ['-p', String(t.port)]),
      ...(t.identity === undefined ? [] : ['-i', t.identity]),
      ...(t.user === undefined ? [] : ['-l', t.user]),
      ...t.sshOptions,
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

  /** Starts the master if it is not running; resolves when it accepts clients, or with why it could not. */
  ensure(): Promise<MasterState> {
    if (this.stopped) return Promise.resolve({ ok: false, message: `the connection to ${this.target.spec} is shut down` });
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      return Promise.resolve({ ok: true, message: '' });
    }
    this.starting ??= this.launch().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async launch(): Promise<MasterState> {
    if (this.dir === undefined) {
      this.dir = await mkdtemp(join(tmpdir(), 'inosync-ssh-'));
      live.add(this);
    }
    const socket = this.controlPath();
    await rm(socket, { force: true });
    const args = ['-M', '-N', '-o', 'ControlMaster=yes', '-o', `ControlPath=${socket}`, ...this.baseOptions(), '--', this.target.host];
    const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-2048); });
    let exited = false;
    let spawnError = '';
    child.once('exit', () => { exited = true; });
    child.once('error', (error) => { exited = true; spawnError = error.message; });

    // ConnectTimeout bounds the TCP connect only; authentication gets the same budget again.
    const deadline = performance.now() + this.options.timeoutSec * 2000 + 1000;
    while (!exited && performance.now() < deadline) {
      if (await exists(socket)) {
        this.options.logger.debug({ target: this.target.spec, pid: child.pid }, 'ssh master up');
        return { ok: true, message: '' };
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (!exited) child.kill('SIGKILL');
    const why = (spawnError || stderr.trim() || (exited ? 'ssh exited' : 'timed out')).split('\n').slice(-3).join(' | ');
    return { ok: false, message: `ssh master to ${this.target.spec} did not come up: ${why}` };
  }

  private controlPath(): string {
    return join(this.dir!, 'master');
  }

  /** Closes the master and removes the control directory. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    const child = this.child;
    this.child = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(timer);
    }
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    live.delete(this);
  }

  /** Synchronous last-resort cleanup, for process exit. */
  abandon(): void {
    this.child?.kill('SIGTERM');
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

// An agent that exits without stop() (an uncaught error, process.exit) still leaves no master or socket.
const live = new Set<SshMaster>();
process.on('exit', () => { for (const master of live) master.abandon(); });

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * rsync splits its -e string on spaces itself (no shell): inside single quotes everything is literal and a
 * doubled quote is one quote character.
 */
export function quoteForRsyncShell(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "''")}'`;
}
