// Real sshd instances on loopback for tests (needs root): each on its own 127.0.0.N and free port, with its
// own host key, user key and config in a temp dir. `block()` makes the host hang (packets black-holed by
// nftables, as a crashed host or a pulled cable does) instead of refusing; `unblock()` restores it.
//
//   const host = await startSshd(t);                 // stopped and cleaned up when the test ends
//   const target = parseTarget(host.spec('/srv/x'), host.defaults);
//   await host.stop(); await host.start();           // refused, then back (same address, port, keys)
//   await host.block(); await host.unblock();        // hangs, then back; stalled connections resume
//
// The config sets `SetEnv SHLVL=1` so root's slow ~/.bashrc is skipped for ssh commands: a test-rig
// speed-up only.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { CleanupContext } from './tmp.js';
import { waitFor } from './wait.js';

export interface SshHost {
  /** 127.0.0.N */
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Private key that the host accepts. */
  readonly identity: string;
  /** Client options for a throw-away host: no known_hosts, no prompts, quiet. */
  readonly sshOptions: string[];
  /** The same, as parseTarget defaults. */
  readonly defaults: { port: number; identity: string; sshOptions: string[] };
  /** `user@address:path` */
  spec(path: string): string;
  /** argv for `ssh` to run `command` on the host (tests only: the command is a shell string). */
  sshArgs(command: string): string[];
  /** Starts sshd again after stop() (same address, port and keys); resolves when it accepts connections. */
  start(): Promise<void>;
  /** Stops sshd by its pid (clean "connection refused" from then on). Existing sessions die with it. */
  stop(): Promise<void>;
  /** Black-holes the host: connections hang instead of failing. */
  block(): Promise<void>;
  unblock(): Promise<void>;
  /** stop(), unblock() and remove the temp dir; registered as test cleanup by startSshd. */
  close(): Promise<void>;
}

const CLIENT_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];

export async function startSshd(t: CleanupContext, options: { startTimeoutMs?: number } = {}): Promise<SshHost> {
  if (process.getuid?.() !== 0) throw new Error('startSshd needs root (sshd must run as root to log users in)');
  const dir = mkdtempSync(join(tmpdir(), 'inosync-sshd-'));
  const address = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
  const port = await freePort(address);
  const user = userInfo().username;
  const identity = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identity]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${identity}.pub`));
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `ListenAddress ${address}`,
    `Port ${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'MaxSessions 50',
    'MaxStartups 50',
    'LogLevel ERROR',
    'SetEnv SHLVL=1',
    '',
  ].join('\n'));
  mkdirSync('/run/sshd', { recursive: true });

  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let daemon: ChildProcess | undefined;
  let table: string | undefined;
  let closed = false;

  const host: SshHost = {
    address, port, user, identity,
    sshOptions: CLIENT_OPTIONS,
    defaults: { port, identity, sshOptions: CLIENT_OPTIONS },
    spec: (path) => `${user}@${address}:${path}`,
    sshArgs: (command) => [...CLIENT_OPTIONS, '-o', 'BatchMode=yes', '-p', String(port), '-i', identity, '--', `${user}@${address}`, command],
    async start() {
      if (daemon !== undefined) return;
      // -D: stay in the foreground as our child, so its pid is ours to stop; -e: errors to our stderr pipe.
      const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      daemon = child;
      const deadline = Date.now() + startTimeoutMs;
      while (!(await greetsWith(address, port, 'SSH-'))) {
        if (child.exitCode !== null || Date.now() > deadline) {
          await host.stop();
          throw new Error(`sshd on ${address}:${port} did not start: ${stderr.trim() || 'timed out'}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      const child = daemon;
      daemon = undefined;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      // Connection handlers are sshd's children in their own sessions: end them too, like a host going down.
      // The listener is frozen first: a connection it forks between the listing and its own end would
      // outlive the "host" (a client connecting just then got its files through).
      child.kill('SIGSTOP');
      // Stopped, or dead on its own meanwhile (a zombie, or reaped): either way it forks no more.
      await waitFor(() => (['T', 'Z', undefined].includes(processState(child.pid!)) ? true : undefined), { what: 'sshd to be frozen', timeoutMs: 5000, intervalMs: 1 });
      for (const pid of childrenOf(child.pid!)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      child.kill('SIGKILL');
      await gone;
    },
    async block() {
      if (table !== undefined) return;
      table = `inosync_block_${port}_${process.pid}`;
      const ruleset = [
        `table ip ${table} {`,
        '  chain out {',
        '    type filter hook output priority 0; policy accept;',
        `    ip daddr ${address} tcp dport ${port} drop`,
        `    ip saddr ${address} tcp sport ${port} drop`,
        '  }',
        '}',
        '',
      ].join('\n');
      execFileSync('nft', ['-f', '-'], { input: ruleset });
    },
    async unblock() {
      if (table === undefined) return;
      execFileSync('nft', ['delete', 'table', 'ip', table]);
      table = undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      await host.unblock();
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => host.close());
  await host.start();
  return host;
}

/** A port nobody listens on at `address` right now: `wanted` if it is free (else a rejection), or one the kernel picks. */
export function freePort(address: string, wanted = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(wanted, address, () => {
      const bound = server.address();
      server.close(() => (typeof bound === 'object' && bound !== null ? resolve(bound.port) : reject(new Error('no port'))));
    });
  });
}

/** True once something at address:port greets with a line starting with `banner` (an SSH or rsyncd greeting). */
export function greetsWith(address: string, port: number, banner: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith(banner)));
  });
}

/** The state letter of /proc/PID/stat (T: stopped); undefined once it is gone. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // comm may hold spaces and parentheses: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
