// Transfers to a real rsync daemon on loopback: the rsync started ahead holds its own daemon session and the
// next change goes through it, and `inosync check` measures drift on a daemon target too.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureDrift } from '../../src/check/drift.js';
import { parseTarget } from '../../src/rsync/target.js';
import { Transport } from '../../src/rsync/transport.js';
import { compareTrees } from '../helpers/compare.js';
import { childrenNamed, isRunning } from '../helpers/procs.js';
import { startRsyncd } from '../helpers/rsyncd.js';
import { makeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

async function setup(t: TestContext): Promise<{ src: string; dst: string; transport: Transport; target: ReturnType<typeof parseTarget> }> {
  const daemon = await startRsyncd(t);
  const src = tempDir(t);
  const target = parseTarget(daemon.url('dst'), { passwordFile: daemon.passwordFile });
  const transport = new Transport({ source: src, target, timeoutSec: 5 });
  t.after(() => transport.stop());
  return { src, dst: join(daemon.dir, 'dst'), transport, target };
}

test('the startup sync starts the first change\'s rsync ahead, logged in to the daemon, and the change goes through it', async (t) => {
  const { src, dst, transport } = await setup(t);
  makeTree(src, [{ path: 'a/b', content: 'b' }]);
  const earlier = childrenNamed(process.pid, 'rsync');
  assert.equal((await transport.fullSync()).outcome, 'ok');
  const standby = await waitFor(() => childrenNamed(process.pid, 'rsync').find((pid) => !earlier.includes(pid) && isRunning(pid)), { what: 'an rsync started ahead' });
  writeFileSync(join(src, 'first'), '1');
  const first = await transport.transfer({ paths: [Buffer.from('first')], trees: [] });
  assert.equal(first.outcome, 'ok', first.message);
  assert.equal(isRunning(standby), false, 'the rsync started ahead did the first change and ended');
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('a remote move to a daemon target is declined, and the target is untouched', async (t) => {
  const { src, dst, transport } = await setup(t);
  makeTree(src, [{ path: 'd/f', content: 'f' }]);
  assert.equal((await transport.fullSync()).outcome, 'ok');
  assert.equal(await transport.remoteMove(Buffer.from('d'), Buffer.from('e')), false);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('drift to a daemon target is measured with its password file', async (t) => {
  const { src, transport, target } = await setup(t);
  makeTree(src, ['x']);
  assert.equal((await transport.fullSync()).outcome, 'ok');
  makeTree(src, ['y']);
  const drift = await measureDrift({ source: src, target, timeoutSec: 5 });
  assert.equal(drift.error, null);
  assert.ok(drift.items.some((i) => i.path.toString() === 'y'), 'the new file is drift');
  assert.ok(!drift.items.some((i) => i.path.toString() === 'x'), 'the synced file is not');
});
