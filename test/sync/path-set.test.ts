import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathSet } from '../../src/sync/path-set.js';

const b = (s: string): Buffer => Buffer.from(s);
const listed = (set: PathSet): string[] => set.entries().map((e) => `${e.mark}:${e.path.toString('latin1')}`).sort();

test('a directory to send whole swallows marks below it, already there or added later', () => {
  const set = new PathSet();
  set.add(b('a/b/c'), 'path');
  set.add(b('a/x'), 'path');
  set.add(b('a'), 'tree');
  assert.equal(set.add(b('a/b/d'), 'path'), false);
  assert.equal(set.add(b('a/b'), 'tree'), false);
  assert.deepEqual(listed(set), ['tree:a']);
  assert.equal(set.size, 1);
});

test('a path mark on a directory keeps the marks below it', () => {
  const set = new PathSet();
  set.add(b('d/f'), 'path');
  set.add(b('d'), 'path');
  assert.deepEqual(listed(set), ['path:d', 'path:d/f']);
  assert.equal(set.size, 2);
});

test('a tree on the root is the whole source', () => {
  const set = new PathSet();
  set.add(b('x'), 'path');
  set.add(Buffer.alloc(0), 'tree');
  assert.deepEqual(set.toBatch(), { paths: [], trees: [Buffer.alloc(0)] });
  assert.equal(set.coveredByTree(b('any/thing')), true);
});

test('names keep every byte: newline, non-UTF-8, leading dash', () => {
  const set = new PathSet();
  const odd = Buffer.concat([b('dir/-x\n'), Buffer.from([0xff, 0xfe])]);
  set.add(odd, 'path');
  assert.deepEqual(set.entries()[0]!.path, odd);
});

test('detach and merge move marks from one directory to another', () => {
  const set = new PathSet();
  set.add(b('old/a'), 'path');
  set.add(b('old/sub'), 'tree');
  set.add(b('keep'), 'path');
  const moved = set.detach(b('old'));
  assert.equal(set.size, 1);
  set.merge(moved, b('new/place'));
  assert.deepEqual(listed(set), ['path:keep', 'path:new/place/a', 'tree:new/place/sub']);
  assert.equal(set.size, 3);
});

test('unmark drops one mark and prunes what is left empty', () => {
  const set = new PathSet();
  set.add(b('a/b/c'), 'path');
  assert.equal(set.unmark(b('a/b/c')), true);
  assert.equal(set.size, 0);
  assert.deepEqual(set.entries(), []);
  assert.equal(set.unmark(b('a/b/c')), false);
});

test('copyAt leaves the original untouched', () => {
  const set = new PathSet();
  set.add(b('d/f'), 'path');
  const copy = set.copyAt(b('d'));
  copy.add(b('g'), 'path');
  assert.deepEqual(listed(copy), ['path:f', 'path:g']);
  assert.deepEqual(listed(set), ['path:d/f']);
});

test('crowded directories are those with many files marked and nothing marked deeper in those files', () => {
  const set = new PathSet();
  for (let i = 0; i < 3; i++) set.add(b(`busy/f${i}`), 'path');
  set.add(b('busy/sub/deep'), 'path');
  set.add(b('quiet/f'), 'path');
  for (let i = 0; i < 3; i++) set.add(b(`f${i}`), 'path');
  set.add(b('whole'), 'tree');
  const crowded = set.crowdedDirectories(3).map(({ path, marked }) => `${path.toString('latin1')}:${marked}`).sort();
  assert.deepEqual(crowded, [':3', 'busy:3']);
});

test('markedAbove: a mark of its own on the parent, a directory higher up or the root; not on the path or below', () => {
  const set = new PathSet();
  assert.equal(set.markedAbove(b('a/b/c')), false);
  set.add(b('a/b/c'), 'tree');
  set.add(b('a/b/c/d'), 'path');
  assert.equal(set.markedAbove(b('a/b/c')), false, 'the path itself is not above it');
  assert.equal(set.markedAbove(b('a/b/c/d/e')), true);
  set.add(b('a'), 'path');
  assert.equal(set.markedAbove(b('a/b/c')), true);
  assert.equal(set.markedAbove(b('a')), false);
  assert.equal(set.markedAbove(b('z/y')), false);
  set.add(Buffer.alloc(0), 'path');
  assert.equal(set.markedAbove(b('z/y')), true, 'the root is above everything');
  assert.equal(set.markedAbove(Buffer.alloc(0)), false);
});

test('merge gives the same set as adding the other set\'s marks one by one, at the root or at a place, and copies them', () => {
  // A small deterministic generator: the same sets on every run.
  let seed = 13;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const names = ['a', 'b', 'c'];
  const randomPath = (): string => Array.from({ length: 1 + next(3) }, () => names[next(names.length)]).join('/');
  const randomSet = (): PathSet => {
    const set = new PathSet();
    for (let i = next(8); i > 0; i--) set.add(b(randomPath()), next(4) === 0 ? 'tree' : 'path');
    return set;
  };
  for (let round = 0; round < 300; round++) {
    const [into, other] = [randomSet(), randomSet()];
    const at = next(3) === 0 ? randomPath() : '';
    const expected = new PathSet();
    for (const { path, mark } of into.entries()) expected.add(path, mark);
    for (const { path, mark } of other.entries()) expected.add(at === '' ? path : Buffer.concat([b(`${at}/`), path]), mark);
    into.merge(other, b(at));
    assert.deepEqual(listed(into), listed(expected), `round ${round}`);
    assert.equal(into.size, expected.size, `round ${round}: size`);
    const before = listed(other);
    into.add(b(`${at === '' ? '' : `${at}/`}c/new`), 'path');
    into.clear();
    assert.deepEqual(listed(other), before, 'the merged set is left as it was');
  }
});
