// Faults made for real on a live mirror, each lasting a while and then mended: a host stopped, a host
// black-holed (packets dropped, no reset), a target filesystem that fills up, one remounted read-only.
// While each lasts, the log and `inosync status` name it; afterwards every target equals the source, and the
// other target was never held back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForSameTree } from '../helpers/compare.js';
import { smallTmpfs, type SmallDisk } from '../helpers/mounts.js';
import type { CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { converged, hostStatus, makeMirror, retarget, startAgent, type Agent, type Mirror } from './harness.js';

// Short timeouts: a dead connection is given up within seconds (the harness caps retries at 1 s).
const FAST = ['--timeout', '3'];

function writeFiles(dir: string, prefix: string, count: number, size = 100): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `${prefix}${i}`), Buffer.alloc(size, 0x61 + (i % 26)));
}

/** The ssh target of host `i` (the ssh targets come after the local ones), as the agent names it. */
function specOf(mirror: Mirror, i: number): string {
  return mirror.hosts[i]!.spec(mirror.dirs[mirror.dirs.length - mirror.hosts.length + i]!);
}

/** Waits until the agent's status shows the host failing, and returns that status. */
function failing(agent: Agent, spec: string, test: (lastError: string) => boolean): ReturnType<typeof hostStatus> {
  return waitFor(async () => {
    const host = await hostStatus(agent, spec);
    return host.lastError !== null && test(host.lastError) ? host : undefined;
  }, { what: `the status to show ${spec} failing`, timeoutMs: 20_000, intervalMs: 50 });
}

/** A local target and an ssh target on a tmpfs of its own (`kib` KiB), synced once. */
async function onSmallDisk(t: CleanupContext, kib: number): Promise<{ mirror: Mirror; disk: SmallDisk; agent: Agent }> {
  const mirror = await makeMirror(t, { local: 1, ssh: 1 });
  const disk = smallTmpfs(t, kib);
  retarget(mirror, 1, disk.dir);
  const agent = await startAgent(t, mirror, FAST);
  await converged(mirror);
  return { mirror, disk, agent };
}

test('a host stopped mid-stream is shown down and converges once it is back; the other host is not held', async (t) => {
  const mirror = await makeMirror(t, { local: 0, ssh: 2 });
  const agent = await startAgent(t, mirror, FAST);
  await agent.waitForLog((l) => l.msg === 'synced' && l.host === specOf(mirror, 0), 'the first full sync');
  await mirror.hosts[0]!.stop();
  writeFiles(join(mirror.src, 'during'), 'f', 50);
  // ssh's own words: refused (a new connection) or closed (the one in flight when sshd went).
  const down = await failing(agent, specOf(mirror, 0), (e) => /Connection refused|closed/i.test(e));
  assert.equal(down.state, 'down');
  await waitForSameTree(mirror.src, mirror.dirs[1]!, { timeoutMs: 15_000 });
  await mirror.hosts[0]!.start();
  await converged(mirror);
  await agent.waitForLog((l) => l.msg.startsWith('host answers again') && l.host === specOf(mirror, 0), 'the return to be noticed');
});

test('a host black-holed mid-stream is given up within seconds, shown down, and converges once restored', async (t) => {
  const mirror = await makeMirror(t, { local: 0, ssh: 2 });
  const agent = await startAgent(t, mirror, FAST);
  writeFiles(join(mirror.src, 'before'), 'f', 20);
  await converged(mirror);
  await mirror.hosts[0]!.block();
  writeFiles(join(mirror.src, 'during'), 'f', 50, 20_000);
  await agent.waitForLog((l) => l.msg.startsWith('rsync failed') && l.host === specOf(mirror, 0), 'the black-holed batch to fail', 30_000);
  // The tools' own words for a silent host vary (rsync's I/O timeout, a master gone on its keep-alives).
  const down = await failing(agent, specOf(mirror, 0), (e) => e.length > 0);
  assert.equal(down.state, 'down');
  await waitForSameTree(mirror.src, mirror.dirs[1]!, { timeoutMs: 15_000 });
  await mirror.hosts[0]!.unblock();
  await converged(mirror);
});

test('a black-holed host that ssh keep-alives would not give up on soon is given up once it stops answering probes', async (t) => {
  const mirror = await makeMirror(t, { local: 0, ssh: 2 });
  const host = mirror.hosts[0]!;
  // The user's keep-alive interval wins over ours, and rsync's own timeout is long: only the watchdog is left.
  const agent = await startAgent(t, mirror, ['--timeout', '120', '--ssh-option', `${host.address}=ServerAliveInterval=600`]);
  writeFiles(join(mirror.src, 'before'), 'f', 20);
  await converged(mirror);
  // The trees may agree while the startup full sync's rsync has yet to exit: blocked then, that run is what
  // fails (its connection dropped: a plain 255), and the batch below waits on probes without an rsync to fail.
  await waitFor(async () => (await hostStatus(agent, specOf(mirror, 0))).state === 'idle', { what: 'the host to be idle before it is blocked' });
  await host.block();
  writeFiles(join(mirror.src, 'during'), 'f', 50, 20_000);
  // The watchdog ends the rsync in flight; when another run to the host was in flight too (a standby, a
  // verification), that one may be ended first, and the batch then fails on the probe before its connection.
  await agent.waitForLog((l) => l.msg.startsWith('rsync failed') && l.host === specOf(mirror, 0) && /stopped answering|no answer within/.test(String(l.error)), 'the silent batch to be given up', 30_000);
  const down = await failing(agent, specOf(mirror, 0), (e) => e.length > 0);
  assert.equal(down.state, 'down');
  await waitForSameTree(mirror.src, mirror.dirs[1]!, { timeoutMs: 15_000 });
  await host.unblock();
  await converged(mirror);
});

test('a target filesystem that fills up is named full, with its fix, and converges once given room', async (t) => {
  const { mirror, disk, agent } = await onSmallDisk(t, 256);
  writeFiles(join(mirror.src, 'big'), 'f', 8, 100_000);
  const full = await failing(agent, specOf(mirror, 0), (e) => /No space left on device/.test(e));
  assert.equal(full.cause?.kind, 'full');
  assert.match(full.cause.fix, /free space/);
  assert.ok(agent.logs().some((l) => l.cause === 'full' && l.host === specOf(mirror, 0) && typeof l.said === 'string' && /No space left/.test(l.said)), 'the log names the cause');
  await waitForSameTree(mirror.src, mirror.dirs[0]!, { timeoutMs: 15_000 });
  disk.resize(4096);
  await converged(mirror);
  await waitFor(async () => (await hostStatus(agent, specOf(mirror, 0))).cause === null, { what: 'the cause to be cleared' });
});

test('a target filesystem remounted read-only is named so, and converges once it is writable again', async (t) => {
  const { mirror, disk, agent } = await onSmallDisk(t, 4096);
  disk.readOnly();
  writeFiles(join(mirror.src, 'while-ro'), 'f', 5);
  const readOnly = await failing(agent, specOf(mirror, 0), (e) => /Read-only file system/.test(e));
  assert.equal(readOnly.cause?.kind, 'read-only');
  assert.ok(agent.logs().some((l) => l.cause === 'read-only' && l.host === specOf(mirror, 0)), 'the log names the cause');
  await waitForSameTree(mirror.src, mirror.dirs[0]!, { timeoutMs: 15_000 });
  disk.readWrite();
  await converged(mirror);
});
