// --remote-moves never writes outside a target. The source may replace a directory the targets still hold
// as a symlink (to anywhere) and move a tree under the new name; replaying that rename on a target that has
// not had the change yet would resolve through the stale symlink. A move is replayed only behind the changes
// above its names and only through real directories on the target (checked there, at the moment of the move).
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transport } from '../../src/rsync/transport.js';
import { parseTarget } from '../../src/rsync/target.js';
import { queryStatus } from '../../src/status/client.js';
import type { HostStatus } from '../../src/status/types.js';
import { SyncEngine, type SyncTransport } from '../../src/sync/engine.js';
import type { BatchResult } from '../../src/sync/host-queue.js';
import { converged, makeMirror, startAgent, type Agent } from '../e2e/harness.js';
import { childrenNamed, watchedInodes } from '../helpers/procs.js';
import { startSshd, type SshHost } from '../helpers/sshd.js';
import { makeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let sshHost: SshHost;
const closing: Array<() => void | Promise<void>> = [];
before(async () => { sshHost = await startSshd({ after: (fn) => closing.push(fn) }); });
after(async () => { for (const fn of closing) await fn(); });

async function hostStatus(agent: Agent): Promise<HostStatus> {
  return (await queryStatus(agent.socket)).syncs[0]!.hosts[0]!;
}

/**
 * The scenario: `d` (a symlink to the test's outside directory) is synced; then, while a batch is
 * still being sent, `rm d; mkdir d; mv x d/.ssh`. The batch is held deterministically: the rsync the agent
 * started ahead for its next batch is stopped before the change that feeds it, and let go once the move
 * and the changes to `d` wait behind it.
 */
async function replaceSymlinkAndMoveUnder(t: TestContext, counts: { local: number; ssh: number }): Promise<void> {
  const mirror = await makeMirror(t, counts);
  symlinkSync(mirror.outside, join(mirror.src, 'd'));
  makeTree(mirror.src, [{ path: 'x/authorized_keys', content: 'ssh-ed25519 AAAA the-source-owner\n' }]);
  const agent = await startAgent(t, mirror, ['--remote-moves']);
  await converged(mirror);
  await agent.waitForLog((l) => l.msg === 'synced', 'the full sync');
  const pid = agent.cli.child.pid!;
  const standby = await waitFor(() => { const found = childrenNamed(pid, 'rsync'); return found.length === 1 ? found[0] : undefined; }, { what: 'the rsync started ahead' });
  process.kill(standby, 'SIGSTOP');
  try {
    writeFileSync(join(mirror.src, 'busy'), 'a batch that is still being sent');
    await waitFor(async () => (await hostStatus(agent)).inFlight, { what: 'the batch to be in flight' });
    rmSync(join(mirror.src, 'd'));
    mkdirSync(join(mirror.src, 'd'));
    const inode = statSync(join(mirror.src, 'd')).ino;
    await waitFor(() => watchedInodes(pid).has(inode), { what: 'the new d to be watched (so the rename is seen as one)' });
    renameSync(join(mirror.src, 'x'), join(mirror.src, 'd/.ssh'));
    // d's changes and the move (replayed or sent): two items behind the batch in flight.
    await waitFor(async () => (await hostStatus(agent)).pending >= 2, { what: 'the changes to wait behind the batch' });
  } finally {
    process.kill(standby, 'SIGCONT');
  }
  await converged(mirror);
  assert.deepEqual(readdirSync(mirror.outside), [], 'nothing may be written outside the target');
}

test('a move under a symlink the source turned into a directory stays inside a local target', async (t) => {
  await replaceSymlinkAndMoveUnder(t, { local: 1, ssh: 0 });
});

test('a move under a symlink the source turned into a directory stays inside an ssh target', async (t) => {
  await replaceSymlinkAndMoveUnder(t, { local: 0, ssh: 1 });
});

/** A transport that records what it is asked and says yes to everything, moves included. */
class AgreeingTransport implements SyncTransport {
  readonly moves: string[] = [];
  readonly trees: string[] = [];
  private readonly ok: BatchResult = { outcome: 'ok', exitCode: 0, files: 0, deleted: 0, durationMs: 0, message: 'ok' };
  async fullSync(): Promise<BatchResult> { return this.ok; }
  async transfer(batch: { paths: Buffer[]; trees: Buffer[] }): Promise<BatchResult> {
    this.trees.push(...batch.trees.map((p) => p.toString()));
    return this.ok;
  }
  async remoteMove(from: Buffer, to: Buffer): Promise<boolean> {
    this.moves.push(`${from.toString()} -> ${to.toString()}`);
    return true;
  }
  async stop(): Promise<void> {}
}

test('a rename under a directory whose change the engine still holds is sent as a change, never replayed first', async (t) => {
  const src = tempDir(t);
  symlinkSync(tempDir(t), join(src, 'd'));
  makeTree(src, ['x/authorized_keys']);
  const transport = new AgreeingTransport();
  // Held for a minute: the changes to d are still in the change set when the rename comes.
  const engine = new SyncEngine({ source: src, targets: [parseTarget(tempDir(t))], remoteMoves: true, quietMs: 60_000, maxDelayMs: 60_000, transport: () => transport });
  t.after(() => engine.stop());
  await engine.start();
  await waitFor(() => engine.settled, { what: 'the full sync' });
  rmSync(join(src, 'd'));
  mkdirSync(join(src, 'd'));
  const inode = statSync(join(src, 'd')).ino;
  await waitFor(() => watchedInodes(process.pid).has(inode), { what: 'the new d to be watched' });
  renameSync(join(src, 'x'), join(src, 'd/.ssh'));
  // Held: d (whole) and x (gone) when sent as a change; d alone, and a move replayed at once, when not.
  await waitFor(() => engine.snapshot().held >= 2 || transport.moves.length > 0, { what: 'the rename to be taken' });
  await engine.stop(5_000);
  assert.deepEqual(transport.moves, []);
  assert.deepEqual(transport.trees, ['d']);
});

/** A target holding symlinks to an outside directory at several depths, and a tree to move. */
function targetWithLinksOut(t: TestContext): { dst: string; outside: string } {
  const dst = tempDir(t);
  const outside = tempDir(t);
  makeTree(outside, [{ path: 'y/kept', content: 'outside data' }]);
  makeTree(dst, [{ path: 'x/authorized_keys', content: 'key' }, { path: 'real/sub/f', content: 'f' }]);
  symlinkSync(outside, join(dst, 'd'));
  symlinkSync(outside, join(dst, 'real/link'));
  return { dst, outside };
}

async function refusesThroughSymlinks(transport: Transport, dst: string, outside: string): Promise<void> {
  const move = (from: string, to: string): Promise<boolean> => transport.remoteMove(Buffer.from(from), Buffer.from(to));
  assert.equal(await move('x', 'd/.ssh'), false, 'destination below a symlink');
  assert.equal(await move('x', 'real/link/.ssh'), false, 'destination below a symlink deeper down');
  assert.equal(await move('d/y', 'taken-in'), false, 'source below a symlink');
  assert.equal(await move('real/link/y', 'real/sub/y'), false, 'source below a symlink deeper down');
  assert.deepEqual(readdirSync(outside), ['y']);
  assert.deepEqual(readdirSync(join(outside, 'y')), ['kept']);
  assert.deepEqual(readdirSync(dst).sort(), ['d', 'real', 'x']);
  // Real directories on the way are fine.
  assert.equal(await move('x', 'real/sub/x'), true);
  assert.deepEqual(readdirSync(join(dst, 'real/sub')).sort(), ['f', 'x']);
}

test('remoteMove on a local target refuses a name below a symlink, source or destination', async (t) => {
  const { dst, outside } = targetWithLinksOut(t);
  const transport = new Transport({ source: tempDir(t), target: parseTarget(dst), timeoutSec: 5 });
  t.after(() => transport.stop());
  await refusesThroughSymlinks(transport, dst, outside);
});

test('remoteMove on an ssh target refuses a name below a symlink, source or destination', async (t) => {
  const { dst, outside } = targetWithLinksOut(t);
  const transport = new Transport({ source: tempDir(t), target: parseTarget(sshHost.spec(dst), sshHost.defaults), timeoutSec: 5 });
  t.after(() => transport.stop());
  await refusesThroughSymlinks(transport, dst, outside);
});
