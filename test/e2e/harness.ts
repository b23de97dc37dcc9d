// Whole-agent runs for the end-to-end tests: a source tree, local and loopback-ssh targets, the real
// `inosync sync` in the background, its JSON log lines, and convergence checks with a deadline.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { queryStatus } from '../../src/status/client.js';
import type { HostStatus } from '../../src/status/types.js';
import { waitForSameTree, type CompareOptions } from '../helpers/compare.js';
import { startLoggedCli, type LoggedCli, type LogLine } from '../helpers/run-cli.js';
import { startSshd, type SshHost } from '../helpers/sshd.js';
import { bytesPath, oddNames, tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

export interface Mirror {
  /** Scratch space outside the source (for moves in and out). */
  outside: string;
  src: string;
  /** Where each target's files land on this machine (ssh targets are on loopback). */
  dirs: string[];
  hosts: SshHost[];
  /** `--target ...` and the ssh options for them. */
  targetArgs: string[];
  /** Agents started on this mirror: stopped before its directories are removed. */
  agents: Agent[];
  /** The agents' --state-dir: the mirror's own, not the machine's. */
  stateDir: string;
}

/** A source and `local` local targets plus `ssh` targets behind their own loopback sshd. */
export async function makeMirror(t: CleanupContext, counts: { local: number; ssh: number }): Promise<Mirror> {
  const agents: Agent[] = [];
  // Cleanup hooks run in the order they were registered, so the removal of the directories (registered
  // here, first) stops the mirror's agents itself: an agent still running would keep writing into them.
  const base = tempDir({ after: (remove) => t.after(async () => {
    await Promise.all(agents.map(stopAgent));
    await remove();
  }) }, 'inosync-e2e-');
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
  return { outside, src, dirs, hosts, targetArgs, agents, stateDir: join(base, 'state') };
}

/** Sends target `index` of the mirror to another directory (a filesystem of its own, a missing path). */
export function retarget(mirror: Mirror, index: number, dir: string): void {
  const old = mirror.dirs[index]!;
  const at = mirror.targetArgs.findIndex((arg, i) => mirror.targetArgs[i - 1] === '--target' && (arg === old || arg.endsWith(`:${old}`)));
  mirror.targetArgs[at] = mirror.targetArgs[at]!.slice(0, mirror.targetArgs[at]!.length - old.length) + dir;
  mirror.dirs[index] = dir;
}

/** What the agent's status says about one host. */
export async function hostStatus(agent: Agent, target: string): Promise<HostStatus> {
  const status = await queryStatus(agent.socket);
  const host = status.syncs.flatMap((s) => s.hosts).find((h) => h.target === target);
  if (host === undefined) throw new Error(`no host ${target} in the status`);
  return host;
}

export type { LogLine };

export interface Agent extends LoggedCli {
  /** Its status socket (for `inosync status`, or queryStatus). */
  socket: string;
}

/** Starts `inosync sync` on the mirror and resolves once it watches. */
export async function startAgent(t: CleanupContext, mirror: Mirror, extra: string[] = [], options: { env?: NodeJS.ProcessEnv; leftovers?: boolean } = {}): Promise<Agent> {
  // Its own status socket: the default one belongs to whatever else runs on the machine.
  const socket = join(dirname(mirror.src), `status-${process.hrtime.bigint()}.sock`);
  const agent = { ...startLoggedCli(t, ['sync', '--source', mirror.src, ...mirror.targetArgs, '--retry-max-ms', '1000', '--socket', socket, '--state-dir', mirror.stateDir, ...extra], { ...options, leftovers: options.leftovers ?? true }), socket };
  mirror.agents.push(agent);
  // Generous: a loaded CI machine has been seen to take over 10 s to start an agent beside other tests.
  await agent.waitForLog((l) => l.msg.startsWith('watching'), 'the agent to watch', 30_000);
  return agent;
}

/**
 * Stops an agent and its rsync children: SIGTERM, then a second SIGTERM once it is stopping (which
 * aborts the drain and kills its children), and SIGKILL only if it is still there after that.
 */
export async function stopAgent(agent: Agent): Promise<void> {
  const { child, exited } = agent.cli;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await agent.waitForLog((l) => l.msg.startsWith('stopping'), 'the agent to stop', 5_000).catch(() => undefined);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), 5_000); });
  if (await Promise.race([exited, late]) === 'late') child.kill('SIGKILL');
  clearTimeout(timer);
  await exited;
}

/** Waits until every target equals the source (types, content, modes, symlinks, hard links). */
export async function converged(mirror: Mirror, options: CompareOptions & { timeoutMs?: number } = {}): Promise<void> {
  await Promise.all(mirror.dirs.map((dir) => waitForSameTree(mirror.src, dir, { hardLinks: true, timeoutMs: 15_000, ...options })));
}

/** Every path under `root`, relative, directories with a trailing '/'. */
export function listing(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = `${prefix}${entry.name}`;
    return entry.isDirectory() ? [`${path}/`, ...listing(root, `${path}/`)] : [path];
  });
}

/** Waits briefly until `dir` holds exactly `expected` (rsync's temporary files of a last batch go), else fails showing the difference. */
export async function expectListing(dir: string, expected: readonly string[], name: string): Promise<void> {
  const want = [...expected].sort();
  const same = (): boolean => JSON.stringify(listing(dir).sort()) === JSON.stringify(want);
  await waitFor(same, { what: `${name} to hold ${want.length} paths`, timeoutMs: 3_000 }).catch(() => assert.deepEqual(listing(dir).sort(), want, name));
}

/** Odd names created, renamed and deleted on the mirror's source, converging after each step; nothing runs them. */
export async function hostileNames(mirror: Mirror): Promise<void> {
  const { src, outside } = mirror;
  const names = [Buffer.from('with  spaces '), ...Object.values(oddNames), Buffer.alloc(255, 0x6e)];
  for (const name of names) writeFileSync(bytesPath(src, name), name);
  const oddDir = Buffer.concat([Buffer.from('--dir '), oddNames.newline, oddNames.nonUtf8]);
  mkdirSync(bytesPath(src, oddDir, oddNames.shell), { recursive: true });
  writeFileSync(bytesPath(src, oddDir, oddNames.shell, oddNames.leadingDash), 'deep');
  await converged(mirror);
  renameSync(bytesPath(src, oddNames.star), bytesPath(src, oddDir, oddNames.star));
  renameSync(bytesPath(src, oddDir), bytesPath(src, Buffer.concat([oddDir, oddNames.star])));
  await converged(mirror);
  rmSync(bytesPath(src, Buffer.concat([oddDir, oddNames.star])), { recursive: true });
  await converged(mirror);
  const pwned = (dir: string): boolean => readdirSync(dir).includes('pwned');
  for (const dir of [src, ...mirror.dirs, process.cwd(), outside]) assert.equal(pwned(dir), false, `no "pwned" in ${dir}`);
}
