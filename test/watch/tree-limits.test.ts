// Kernel limits hit for real: the event queue (overflow -> rescan) and the watch limit (a clear error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WatchTree } from '../../src/watch/tree.js';
import { QueueOverflowError, RootError } from '../../src/watch/errors.js';
import { directoryPaths, makeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { cannotLowerQueueLimit, withQueueLimit } from '../helpers/queue-limit.js';
import { saw, watchTree } from './harness.js';

const asRoot = { skip: process.getuid?.() !== 0 && 'needs root' };

test('a real queue overflow becomes a rescan of the root, and directories created meanwhile get watched', { skip: cannotLowerQueueLimit }, async (t) => {
  const root = tempDir(t);
  makeTree(root, ['sub/']);
  // max_queued_events is read when the instance opens, which start() does before it returns its promise.
  const started = withQueueLimit(16, () => watchTree(t, { roots: [root] }));
  const { tree, changes, warnings } = await started;
  for (let i = 0; i < 100; i++) writeFileSync(join(root, `f${i}`), '');
  mkdirSync(join(root, 'missed')); // its IN_CREATE is lost to the overflow
  await changes.until(saw('rescan', ''), { what: 'a rescan of the root' });
  const [warning] = await warnings.until((w) => w.length > 0);
  assert.ok(warning instanceof QueueOverflowError);
  assert.match(warning.fix, /fs\.inotify\.max_queued_events=/);
  await waitFor(() => tree.watchCount === 3, { what: 'missed/ to be watched by the rescan' });
  writeFileSync(join(root, 'missed/f'), '');
  await changes.until(saw('closed', 'missed/f'));
});

test('a real watch limit rejects start() with the limit, its value, the directories needed and the fix', asRoot, async (t) => {
  const root = tempDir(t);
  makeTree(root, directoryPaths(120)); // 121 directories with the root
  const child = fileURLToPath(new URL('./fixtures/start-tree.js', import.meta.url));
  // A user namespace has its own watch limit (Linux >= 5.11): lower it there, not on the machine.
  const proc = spawn('unshare', ['--user', '--map-root-user', process.execPath, child, '50', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /watch limit reached \(ENOSPC\)/);
  assert.match(stderr, /fs\.inotify\.max_user_watches is [\d,]+ \(this user namespace allows only 50: user\.max_inotify_watches\)/);
  assert.match(stderr, /need 121 directories/);
  assert.match(stderr, /fix: .*sysctl -w user\.max_inotify_watches=\d+ .*\/etc\/sysctl\.d\//);
});

test('a missing root rejects start() with a RootError', async (t) => {
  const missing = join(tempDir(t), 'nope');
  const tree = new WatchTree({ roots: [missing] });
  await assert.rejects(tree.start(), (error: unknown) => error instanceof RootError && /does not exist/.test(error.message) && error.exitCode !== 0);
  assert.equal(tree.watchCount, 0);
});
