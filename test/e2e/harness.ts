// Whole-agent runs for the end-to-end tests: a source tree, local and loopback-ssh targets, the real
// `inosync sync` in the background, its JSON log lines, and convergence checks with a deadline.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { waitForSameTree, type CompareOptions } from '../helpers/compare.js';
import { startLoggedCli, type LoggedCli, type LogLine } from '../helpers/run-cli.js';
import { startSshd, type SshHost } from '../helpers/sshd.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';

export interface Mirror {
  /** Scratch space outside the source (for moves in and out). */
  outside: string;
  src: string;
  /** Where each target's files land on this machine (ssh targets are on loopback). */
  dirs: string[];
  hosts: SshHost[];
  /** `--target ...` and the ssh options for them. */
  targetArgs: string[];
}

/** A source and `local` local targets plus `ssh` targets behind their own loopback sshd. */
export async function makeMirror(t: CleanupContext, counts: { local: number; ssh: number }): Promise<Mirror> {
  const base = tempDir(t, 'inosync-e2e-');
  const src = join(base, 'src');
  const outside = join(base, 'outside');
  mkdirSync(src);
  mkdirSync(outside);
  const dirs: string[] = [];
  const targetArgs: string[] = [];
  for (let i = 0; i < counts.local; i++) {
    const dir = join(base, `local${i}`);
    mkdirSync(dir);
    dirs.push(dir);
    targetArgs.push('--target', dir);
  }
  const hosts = await Promise.all(Array.from({ length: counts.ssh }, () => startSshd(t)));
  hosts.forEach((host, i) => {
    const dir = join(base, `ssh${i}`);
    mkdirSync(dir);
    dirs.push(dir);
    targetArgs.push('--target', host.spec(dir), '--ssh-port', `${host.address}=${host.port}`, '--ssh-identity', `${host.address}=${host.identity}`);
    for (let k = 1; k < host.sshOptions.length; k += 2) targetArgs.push('--ssh-option', `${host.address}=${host.sshOptions[k]!}`);
  });
  return { outside, src, dirs, hosts, targetArgs };
}

export type { LogLine };

export type Agent = LoggedCli;

/** Starts `inosync sync` on the mirror and resolves once it watches. */
export async function startAgent(t: CleanupContext, mirror: Mirror, extra: string[] = []): Promise<Agent> {
  // Its own status socket: the default one belongs to whatever else runs on the machine.
  const socket = join(dirname(mirror.src), `status-${process.hrtime.bigint()}.sock`);
  const agent = startLoggedCli(t, ['sync', '--source', mirror.src, ...mirror.targetArgs, '--retry-max-ms', '1000', '--socket', socket, ...extra]);
  await agent.waitForLog((l) => l.msg.startsWith('watching'), 'the agent to watch');
  return agent;
}

/** Waits until every target equals the source (types, content, modes, symlinks, hard links). */
export async function converged(mirror: Mirror, options: CompareOptions & { timeoutMs?: number } = {}): Promise<void> {
  await Promise.all(mirror.dirs.map((dir) => waitForSameTree(mirror.src, dir, { hardLinks: true, timeoutMs: 15_000, ...options })));
}
