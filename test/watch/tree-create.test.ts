// New directories: watched first, listed next, so nothing written into them right away is missed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WALK_BATCH } from '../../src/watch/walk.js';
import { tempDir } from '../helpers/tmp.js';
import { all, saw, watchTree } from './harness.js';

test('files written right after mkdir -p are all reported', async (t) => {
  const root = tempDir(t);
  const { changes } = await watchTree(t, { roots: [root] });
  mkdirSync(join(root, 'a/b/c/d'), { recursive: true });
  const files = ['a/f1', 'a/b/f2', 'a/b/c/f3', 'a/b/c/d/f4'];
  for (const f of files) writeFileSync(join(root, f), 'x');
  await changes.until(all(...files.map((f) => saw('created', f))), { what: 'a created change for every file' });
});

test('a directory created after start is watched: later writes inside it are reported', async (t) => {
  const root = tempDir(t);
  const { tree, changes } = await watchTree(t, { roots: [root] });
  mkdirSync(join(root, 'late'));
  await changes.until(saw('created', 'late'));
  assert.equal(tree.watchCount, 2);
  writeFileSync(join(root, 'late/file'), 'x');
  await changes.until(saw('closed', 'late/file'));
});

test('an excluded directory is not watched and its contents are not reported', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'skip/deep'), { recursive: true });
  mkdirSync(join(root, 'keep'));
  const { tree, changes } = await watchTree(t, {
    roots: [root],
    exclude: (rel) => rel.toString() === 'skip' || rel.toString().startsWith('skip/'),
  });
  assert.equal(tree.watchCount, 2, 'root and keep/, not skip/ nor skip/deep/');
  writeFileSync(join(root, 'skip/deep/f'), 'x');
  mkdirSync(join(root, 'skip2'));
  writeFileSync(join(root, 'skip/f'), 'x');
  writeFileSync(join(root, 'keep/f'), 'x');
  await changes.until(saw('closed', 'keep/f'));
  assert.ok(!changes.items.some((c) => c.path.toString().startsWith('skip/')), 'no change below the excluded directory');
  assert.equal(tree.watchCount, 3, 'skip2/ is watched');
});

test('a directory with more subdirectories than a walk batch takes has every one watched', async (t) => {
  const root = tempDir(t);
  const names = Array.from({ length: WALK_BATCH + 100 }, (_, i) => `d${i}`);
  for (const name of names) mkdirSync(join(root, 'wide', name, 'sub'), { recursive: true });
  const { tree, changes } = await watchTree(t, { roots: [root] });
  assert.equal(tree.watchCount, 2 + names.length * 2, 'root, wide/, and each d*/ and d*/sub/');
  const files = names.filter((_, i) => i % 1000 === 0 || i === names.length - 1).map((name) => `wide/${name}/sub/f`);
  for (const f of files) writeFileSync(join(root, f), 'x');
  await changes.until(all(...files.map((f) => saw('closed', f))), { what: 'a closed change for each file' });
});
