// The model follows the disk: after a storm of mkdir, rename, move out and in, rename over, rm -r, and names
// reused at once, exactly the directories on disk are watched, by the model and by the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { saw, watchTree } from './harness.js';

/** Every directory below and including root, symlinks not followed. */
function directoriesOnDisk(root: string): string[] {
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    for (const entry of readdirSync(found[i] as string, { withFileTypes: true })) {
      if (entry.isDirectory()) found.push(join(found[i] as string, entry.name));
    }
  }
  return found.sort();
}

/** A small seeded generator (mulberry32): the same storm on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

for (const seed of [42, 7]) {
  test(`after a storm of directory operations the watched directories are exactly those on disk (seed ${seed})`, async (t) => {
    await storm(t, seed);
  });
}

async function storm(t: CleanupContext, seed: number): Promise<void> {
  const root = tempDir(t);
  const outside = tempDir(t);
  const { tree } = await watchTree(t, { roots: [root] });
  const rand = random(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)] as T;
  let counter = 0;
  for (let step = 0; step < 400; step++) {
    const dirs = directoriesOnDisk(root);
    const dir = pick(dirs);
    const op = rand();
    if (op < 0.35 || dirs.length < 4) {
      mkdirSync(join(dir, `d${counter++}`, `e${counter++}`), { recursive: true });
    } else if (op < 0.55 && dir !== root) {
      const target = pick(dirs.filter((d) => d !== dir && !d.startsWith(`${dir}/`)));
      renameSync(dir, join(target, `r${counter++}`));
    } else if (op < 0.65 && dir !== root) {
      const away = join(outside, `o${counter++}`);
      renameSync(dir, away);
      if (rand() < 0.5) renameSync(away, join(pick(directoriesOnDisk(root)), `back${counter++}`));
    } else if (op < 0.72 && dir !== root) {
      rmSync(dir, { recursive: true });
    } else if (op < 0.8 && dir !== root) { // renamed, and the name taken again at once
      renameSync(dir, `${dir}_${counter++}`);
      mkdirSync(join(dir, `s${counter++}`), { recursive: true });
    } else if (op < 0.85 && dir !== root) { // renamed over an empty directory
      const empty = dirs.find((d) => d !== root && d !== dir && !d.startsWith(`${dir}/`) && !dir.startsWith(`${d}/`) && readdirSync(d).length === 0);
      if (empty) renameSync(dir, empty);
    } else if (op < 0.9 && dir !== root) { // deleted, and made again at once
      rmSync(dir, { recursive: true });
      mkdirSync(dir);
    } else {
      writeFileSync(join(dir, `f${counter++}`), 'x');
    }
    if (step % 50 === 0) await new Promise((resolve) => setImmediate(resolve)); // let some events in mid-storm
  }
  const expected = directoriesOnDisk(root);
  const watched = (): string[] => tree.watchedPaths().map((p) => p.toString()).sort();
  await waitFor(() => watched().join('\n') === expected.join('\n'), { what: 'the watched set to match the disk', timeoutMs: 10_000 })
    .catch(() => assert.deepEqual(watched(), expected));
  // And the kernel holds no watch the model forgot (moved-out directories keep theirs unless removed).
  await waitFor(() => kernelWatches() === expected.length, { what: `the kernel to hold ${expected.length} watches (holds ${kernelWatches()})` });
}

/** Watches the kernel holds for this process's inotify instances (one test file = one process). */
function kernelWatches(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue;
      count += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}

test('a symlink to a directory is an entry, not a subtree', async (t) => {
  const root = tempDir(t);
  const target = tempDir(t);
  makeTree(root, [{ path: 'link', symlinkTo: target }]);
  const { tree, changes } = await watchTree(t, { roots: [root] });
  assert.equal(tree.watchCount, 1);
  symlinkSync(target, join(root, 'link2'));
  writeFileSync(join(target, 'through-link'), 'x');
  writeFileSync(join(root, 'marker'), 'x');
  await changes.until(saw('closed', 'marker'));
  assert.equal(tree.watchCount, 1);
  assert.ok(saw('created', 'link2')(changes.items));
  assert.ok(!changes.items.some((c) => c.path.toString().includes('through-link')));
});

test('a file root is watched itself: its writes are changes of path ""', async (t) => {
  const file = join(tempDir(t), 'log.txt');
  writeFileSync(file, 'a');
  const { tree, changes, events } = await watchTree(t, { roots: [file] });
  assert.equal(tree.watchCount, 1);
  writeFileSync(file, 'b');
  await changes.until(saw('closed', ''));
  assert.ok(events.items.every((e) => e.dir.toString() === file && e.name.length === 0));
});

test('close() from a listener in the middle of a burst stops the tree without throwing', async (t) => {
  const root = tempDir(t);
  const { tree, changes } = await watchTree(t, { roots: [root] });
  tree.once('change', () => tree.close());
  mkdirSync(join(root, 'a/b/c/d'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, `a/b/f${i}`), '');
  await changes.until((c) => c.length > 0); // resolves after the rest of that drain ran
  assert.equal(tree.watchCount, 0);
  assert.equal(changes.items.length, 1);
});

test('with followSymlinks, a symlink back to an ancestor is not followed round and round', async (t) => {
  const root = tempDir(t);
  makeTree(root, ['a/b/', { path: 'a/b/up', symlinkTo: root }, { path: 'a/side', symlinkTo: join(root, 'a/b') }]);
  const { tree, changes, warnings } = await watchTree(t, { roots: [root], followSymlinks: true });
  assert.equal(tree.watchCount, 3);
  writeFileSync(join(root, 'a/b/f'), 'x');
  await changes.until(saw('closed', 'a/b/f'));
  assert.equal(changes.items.filter((c) => c.kind === 'rescan').length, 0);
  assert.equal(warnings.items.length, 0);
});
