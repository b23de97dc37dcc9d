// Transfers to a local directory target with the real rsync: what `paths` and `trees` do on the target.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transport } from '../../src/rsync/transport.js';
import { parseTarget } from '../../src/rsync/target.js';
import { readPatternFile } from '../../src/sync/exclude.js';
import { compareTrees } from '../helpers/compare.js';
import { makeTree, tempDir } from '../helpers/tmp.js';

const b = (...paths: string[]): Buffer[] => paths.map((p) => Buffer.from(p));

function setup(t: TestContext, options: { excludes?: string[] } = {}): { src: string; dst: string; transport: Transport } {
  const src = tempDir(t);
  const dst = tempDir(t);
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, ...options });
  t.after(() => transport.stop());
  return { src, dst, transport };
}

test('listed paths are created, modified, chmodded, symlinked and hard-linked on the target', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'dir/old', content: 'v1' }, { path: 'keep', content: 'k' }]);
  assert.equal((await transport.fullSync()).outcome, 'ok');

  writeFileSync(join(src, 'dir/old'), 'version 2');
  chmodSync(join(src, 'keep'), 0o600);
  writeFileSync(join(src, 'new'), 'n');
  symlinkSync('dir/old', join(src, 'link'));
  linkSync(join(src, 'new'), join(src, 'dir/hard'));
  const result = await transport.transfer({ paths: b('dir/old', 'keep', 'new', 'link', 'dir/hard'), trees: [] });

  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(await compareTrees(src, dst, { hardLinks: true }), []);
  assert.equal(result.sent, 2, 'dir/old and new carry data; the hard link, the symlink and the chmod do not');
});

test('a file rewritten with the same size within the same second is still sent', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'f', content: 'aaaa' }, { path: 'tree/g', content: 'aaaa' }]);
  await transport.fullSync();
  writeFileSync(join(src, 'f'), 'bbbb');
  writeFileSync(join(src, 'tree/g'), 'bbbb');
  const result = await transport.transfer({ paths: b('f'), trees: b('tree') });
  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('a listed path missing on the source is deleted on the target, a populated directory too', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'gone/sub/deep/f', content: 'x' }, 'gone/g', 'file', 'stay']);
  await transport.fullSync();
  rmSync(join(src, 'gone'), { recursive: true });
  rmSync(join(src, 'file'));

  const result = await transport.transfer({ paths: b('gone', 'file', 'never-existed'), trees: [] });

  assert.equal(result.outcome, 'ok', result.message);
  assert.equal(existsSync(join(dst, 'gone')), false);
  assert.equal(result.deleted, 6);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('the parents of a listed path are created on the target with their attributes', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'p/q/r/file', content: 'deep' }]);
  chmodSync(join(src, 'p/q'), 0o750);
  const result = await transport.transfer({ paths: b('p/q/r/file'), trees: [] });
  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('a directory listed in paths is sent by itself, its contents are not recursed', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'd/f', content: 'one' }]);
  await transport.fullSync();
  chmodSync(join(src, 'd'), 0o700);
  writeFileSync(join(src, 'd/f'), 'two');

  await transport.transfer({ paths: b('d'), trees: [] });

  assert.deepEqual(await compareTrees(src, dst), ['content differs: d/f']);
});

test('a tree is sent whole, and what is stale inside it on the target is deleted', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'moved-in/a/b/c', content: 'c' }, 'moved-in/x']);
  makeTree(dst, [{ path: 'moved-in/stale/s', content: 's' }, 'moved-in/x', 'outside']);

  const result = await transport.transfer({ paths: [], trees: b('moved-in') });

  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(await compareTrees(src, dst), ['only in ' + dst + ': outside (file)']);
});

test('the empty tree is the whole root', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'a/b', content: 'b' }]);
  makeTree(dst, ['stale/x']);
  assert.equal((await transport.transfer({ paths: [], trees: [Buffer.alloc(0)] })).outcome, 'ok');
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('excludes apply, and a deleted directory holding excluded files is kept and reported', async (t) => {
  const { src, dst, transport } = setup(t, { excludes: ['*.tmp'] });
  makeTree(src, [{ path: 'x/a', content: 'a' }, 'x/scratch.tmp']);
  assert.equal((await transport.fullSync()).outcome, 'ok');
  assert.equal(existsSync(join(dst, 'x/scratch.tmp')), false);
  writeFileSync(join(dst, 'x/local.tmp'), 'the target\'s own');
  rmSync(join(src, 'x'), { recursive: true });

  const result = await transport.transfer({ paths: b('x'), trees: [] });

  assert.equal(result.outcome, 'ok');
  assert.equal(result.kept, 1);
  assert.match(result.message, /kept on the target/);
  assert.equal(readFileSync(join(dst, 'x/local.tmp'), 'utf8'), 'the target\'s own');
});

test('exclude files are read as rsync reads them, and still apply next to NUL-separated path lists', async (t) => {
  const rules = join(tempDir(t), 'excludes');
  writeFileSync(rules, '# build output\n/build/\n; editor files\n*.swp\n\n');
  const src = tempDir(t);
  const dst = tempDir(t);
  const transport = new Transport({ source: src, target: parseTarget(dst), excludes: readPatternFile(rules) });
  t.after(() => transport.stop());
  makeTree(src, ['build/out', 'src/a.c', 'deep/build/kept']);
  assert.equal((await transport.fullSync()).outcome, 'ok');
  makeTree(src, ['src/.a.c.swp', 'deep/new/build/x']);
  // A listed path is matched by its own name: the caller never lists paths below an excluded directory
  // (they are not watched), and trees are pruned by rsync as usual.
  assert.equal((await transport.transfer({ paths: b('src/.a.c.swp'), trees: b('deep/new') })).outcome, 'ok');
  assert.deepEqual(await compareTrees(src, dst, { ignore: (p) => /^build$|\.swp$/.test(p.toString()) }), []);
  assert.equal(existsSync(join(dst, 'build')), false);
  assert.equal(existsSync(join(dst, 'src/.a.c.swp')), false);
});

test('an aborted transfer kills rsync and is a retry', async (t) => {
  const { src, transport } = setup(t);
  mkdirSync(join(src, 'big'));
  writeFileSync(join(src, 'big/f'), Buffer.alloc(1 << 20));
  const controller = new AbortController();
  controller.abort();
  const result = await transport.transfer({ paths: [], trees: b('big') }, controller.signal);
  assert.equal(result.outcome, 'retry');
  assert.match(result.message, /stopped/);
});

test('an option value the rsync rejects is fatal for the batch, loudly, and nothing throws', async (t) => {
  const src = tempDir(t);
  const transport = new Transport({ source: src, target: parseTarget(tempDir(t)), rsyncOptions: ['-a', '--compress-level=none'] });
  const result = await transport.transfer({ paths: b('x'), trees: [] });
  assert.equal(result.outcome, 'fatal');
  assert.equal(result.exitCode, 1);
  assert.match(result.message, /usage/);
  assert.match(result.stderrTail, /compress-level/);
});

test('the transport checks the rsync options it is given itself, whoever built them', () => {
  assert.throws(() => new Transport({ source: '/tmp', target: parseTarget('/tmp/x'), rsyncOptions: ['-a', '--delete-after'] }), /"--delete-after" in the rsync options is refused/);
});
