// Deletes: of a populated directory inside the tree, and of the root itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RootGoneError } from '../../src/watch/errors.js';
import { makeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { all, saw, watchTree } from './harness.js';

test('deleting a populated directory reports its contents and the directory deleted, and drops its watches', async (t) => {
  const root = tempDir(t);
  makeTree(root, ['doomed/a/f', 'doomed/b/', 'doomed/g', 'stay/']);
  const { tree, changes } = await watchTree(t, { roots: [root] });
  assert.equal(tree.watchCount, 5);
  rmSync(join(root, 'doomed'), { recursive: true });
  await changes.until(all(saw('deleted', 'doomed/a/f'), saw('deleted', 'doomed/g'), saw('deleted', 'doomed/a'), saw('deleted', 'doomed')));
  await waitFor(() => tree.watchCount === 2, { what: 'the watches of doomed/ to go' });
});

test('deleting the root is an error event naming the root', async (t) => {
  const parent = tempDir(t);
  const root = join(parent, 'root');
  makeTree(root, ['sub/f']);
  const { tree, errors } = await watchTree(t, { roots: [root] });
  rmSync(root, { recursive: true });
  const [error] = await errors.until((e) => e.length > 0, { what: 'the root-gone error' });
  assert.ok(error instanceof RootGoneError);
  assert.equal(error.how, 'deleted');
  assert.equal(error.message, `watch root ${JSON.stringify(root)} was deleted: its changes can no longer be watched`);
  await waitFor(() => tree.watchCount === 0, { what: 'every watch to go' });
});

test('moving the root away is an error event, and its watches are removed', async (t) => {
  const parent = tempDir(t);
  const root = join(parent, 'root');
  makeTree(root, ['sub/']);
  const { tree, errors } = await watchTree(t, { roots: [root] });
  renameSync(root, join(parent, 'elsewhere'));
  const [error] = await errors.until((e) => e.length > 0, { what: 'the root-gone error' });
  assert.ok(error instanceof RootGoneError);
  assert.equal(error.how, 'moved');
  assert.equal(tree.watchCount, 0);
});
