// Renames and moves: paths follow a renamed directory, moves across the tree's edge are creates and deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, tempDir } from '../helpers/tmp.js';
import { all, saw, watchTree } from './harness.js';
import { waitFor } from '../helpers/wait.js';

test('renaming a populated directory: later writes inside it carry the new path', async (t) => {
  const root = tempDir(t);
  makeTree(root, ['old/sub/f', 'old/g']);
  const { changes } = await watchTree(t, { roots: [root] });
  renameSync(join(root, 'old'), join(root, 'new'));
  await changes.until(saw('moved', 'new', 'old'));
  writeFileSync(join(root, 'new/sub/f'), 'x');
  writeFileSync(join(root, 'new/h'), 'x');
  await changes.until(all(saw('closed', 'new/sub/f'), saw('created', 'new/h')));
  assert.ok(!changes.items.some((c) => c.path.toString().startsWith('old/')), 'no change under the old name');
});

test('a directory moved in is watched and its contents reported as created', async (t) => {
  const root = tempDir(t);
  const outside = tempDir(t);
  makeTree(outside, ['in/a/f1', 'in/b/', 'in/f2']);
  const { tree, changes } = await watchTree(t, { roots: [root] });
  renameSync(join(outside, 'in'), join(root, 'in'));
  await changes.until(all(saw('created', 'in'), saw('created', 'in/a'), saw('created', 'in/a/f1'), saw('created', 'in/b'), saw('created', 'in/f2')));
  assert.equal(tree.watchCount, 4);
  writeFileSync(join(root, 'in/a/new'), 'x');
  await changes.until(saw('created', 'in/a/new'));
});

test('a directory moved out is deleted and its watches dropped', async (t) => {
  const root = tempDir(t);
  const outside = tempDir(t);
  makeTree(root, ['out/a/f', 'out/b/', 'stay/']);
  const { tree, changes } = await watchTree(t, { roots: [root] });
  assert.equal(tree.watchCount, 5);
  renameSync(join(root, 'out'), join(outside, 'out'));
  await changes.until(saw('deleted', 'out'));
  assert.equal(tree.watchCount, 2);
  writeFileSync(join(outside, 'out/a/later'), 'x');
  mkdirSync(join(root, 'stay/x'));
  await changes.until(saw('created', 'stay/x'));
  assert.ok(!changes.items.some((c) => c.path.toString().includes('later')), 'nothing reported from outside the tree');
});

test('a directory moved from one root to another is deleted in the first and created, whole, in the second', async (t) => {
  const a = tempDir(t);
  const b = tempDir(t);
  makeTree(a, ['box/inner/f', 'box/g']);
  const { tree, changes } = await watchTree(t, { roots: [a, b] });
  assert.equal(tree.watchCount, 4);
  renameSync(join(a, 'box'), join(b, 'box'));
  const inRoot = (root: string) => (c: { root: Buffer }) => c.root.equals(Buffer.from(root));
  await changes.until((cs) => saw('deleted', 'box')(cs.filter(inRoot(a))) &&
    all(saw('created', 'box'), saw('created', 'box/inner'), saw('created', 'box/inner/f'), saw('created', 'box/g'))(cs.filter(inRoot(b))));
  writeFileSync(join(b, 'box/inner/h'), 'x');
  await changes.until((cs) => saw('created', 'box/inner/h')(cs.filter(inRoot(b))));
  assert.equal(tree.watchCount, 4);
});

test('a directory renamed to an excluded name is no longer watched', async (t) => {
  const root = tempDir(t);
  makeTree(root, ['work/sub/']);
  const { tree, changes } = await watchTree(t, { roots: [root], exclude: (rel) => rel.toString().endsWith('.tmp') });
  assert.equal(tree.watchCount, 3);
  renameSync(join(root, 'work'), join(root, 'work.tmp'));
  await changes.until(saw('deleted', 'work'));
  await waitFor(() => tree.watchCount === 1, { what: 'the watches of work/ to go' });
});

test('events in a directory seen before its parent\'s rename carry the new path as their dir', async (t) => {
  const root = tempDir(t);
  makeTree(root, ['old/sub/f']);
  const { changes, events } = await watchTree(t, { roots: [root] });
  writeFileSync(join(root, 'old/sub/f'), 'before');
  await changes.until(saw('closed', 'old/sub/f'));
  renameSync(join(root, 'old'), join(root, 'new'));
  await changes.until(saw('moved', 'new', 'old'));
  writeFileSync(join(root, 'new/sub/f'), 'after');
  await changes.until(saw('closed', 'new/sub/f'));
  const dirs = events.items.filter((e) => e.name.toString() === 'f').map((e) => e.dir.toString());
  assert.equal(dirs[0], `${root}/old/sub/`);
  assert.equal(dirs.at(-1), `${root}/new/sub/`);
});
