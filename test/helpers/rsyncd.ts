// Real rsync daemons on loopback for tests (needs root): each on its own 127.0.0.N, in its own temp dir, with
// one module `mirror` (its files in `dir`) that two users may use: `user` (password in `passwordFile`) and
// `otherUser` (password `otherPassword`, for RSYNC_PASSWORD).
//
//   const daemon = await startRsyncd(t);               // stopped by its pid and removed when the test ends
//   daemon.url('www')                 rsync://backup@127.0.0.N:PORT/mirror/www
//   daemon.moduleSpec('www', 'web')   web@127.0.0.N::mirror/www  (only with { port: 873 }: no port in that form)
//
// `use chroot = yes`: a module without a chroot has its symlinks rewritten by the daemon (absolute ones lose
// their leading '/', upward ones are clamped at the module's root), so it can never mirror a tree exactly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, greetsWith } from './sshd.js';
import type { CleanupContext } from './tmp.js';

export interface RsyncDaemon {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly module: string;
  /** The module's directory on this machine. */
  readonly dir: string;
  /** A client password file (mode 0600) with the right password. */
  readonly passwordFile: string;
  readonly otherUser: string;
  readonly otherPassword: string;
  /** `rsync://USER@address:port/module[/path]`, USER being `user` unless given. */
  url(path?: string, login?: string): string;
  /** `USER@address::module[/path]`: reaches port 873 only. */
  moduleSpec(path?: string, login?: string): string;
  /** Stops the daemon by its pid and removes its directory. */
  close(): Promise<void>;
}

export interface RsyncdOptions {
  /** `read only = yes` for the module. */
  readOnly?: boolean;
  /** A fixed port (873 for host::module specs); else the kernel picks one. */
  port?: number;
}

export async function startRsyncd(t: CleanupContext, options: RsyncdOptions = {}): Promise<RsyncDaemon> {
  if (process.getuid?.() !== 0) throw new Error('startRsyncd needs root (the module is written as uid root)');
  // A fixed port may be taken on one address (another test's daemon): another address is tried then.
  for (let attempt = 1; ; attempt++) {
    const address = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
    try {
      const port = await freePort(address, options.port);
      const daemon = await launch(address, port, options.readOnly ?? false);
      t.after(() => daemon.close());
      return daemon;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

async function launch(address: string, port: number, readOnly: boolean): Promise<RsyncDaemon> {
  const base = mkdtempSync(join(tmpdir(), 'inosync-rsyncd-'));
  const dir = join(base, 'module');
  mkdirSync(dir);
  const user = 'backup';
  const password = `pw-${process.hrtime.bigint()}`;
  const otherUser = 'web';
  const otherPassword = `other-${password}`;
  const secrets = join(base, 'secrets');
  writeFileSync(secrets, `${user}:${password}\n${otherUser}:${otherPassword}\n`, { mode: 0o600 });
  const passwordFile = join(base, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const config = join(base, 'rsyncd.conf');
  writeFileSync(config, [
    'use chroot = yes',
    `pid file = ${join(base, 'rsyncd.pid')}`,
    '[mirror]',
    `path = ${dir}`,
    `read only = ${readOnly ? 'yes' : 'no'}`,
    `auth users = ${user}, ${otherUser}`,
    `secrets file = ${secrets}`,
    'uid = root',
    'gid = root',
    '',
  ].join('\n'));
  let stderr = '';
  const child: ChildProcess = spawn('rsync', ['--daemon', '--no-detach', `--config=${config}`, `--port=${port}`, `--address=${address}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(base, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await greetsWith(address, port, '@RSYNCD:'))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`rsync --daemon on ${address}:${port} did not start: ${stderr.trim() || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const sub = (path?: string): string => (path === undefined ? '' : `/${path}`);
  return {
    address, port, user, password, module: 'mirror', dir, passwordFile, otherUser, otherPassword,
    url: (path, login = user) => `rsync://${login}@${address}:${port}/mirror${sub(path)}`,
    moduleSpec: (path, login = user) => `${login}@${address}::mirror${sub(path)}`,
    close,
  };
}
