// Pure logic of a split full sync with -H: which subtrees must share a run (full-sync-plan.ts) and what the
// scan keeps of the hard links it meets (hard-links.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepLinksTogether } from '../../src/rsync/full-sync-plan.js';
import { LinkFinder, MAX_LINKED_NAMES } from '../../src/rsync/hard-links.js';

const b = (path: string): Buffer => Buffer.from(path);
const names = (...paths: string[]): Buffer[] => paths.map(b);
const shown = (units: Buffer[][] | undefined): string[][] | undefined => units?.map((unit) => unit.map(String));

const TOP = names('a', 'b', 'c', 'd');
const DEEP = names('a/x', 'a/y', 'b/x', 'b/y');

test('without links every subtree is a unit of its own', () => {
  assert.deepEqual(shown(keepLinksTogether(TOP, [])), [['a'], ['b'], ['c'], ['d']]);
});

test('a link inside one subtree joins nothing', () => {
  assert.deepEqual(shown(keepLinksTogether(TOP, [names('a/f', 'a/deep/g')])), [['a'], ['b'], ['c'], ['d']]);
});

test('subtrees sharing an inode are one unit, and links chain', () => {
  assert.deepEqual(shown(keepLinksTogether(TOP, [names('a/f', 'c/f')])), [['a', 'c'], ['b'], ['d']]);
  assert.deepEqual(shown(keepLinksTogether(TOP, [names('a/f', 'b/f'), names('b/g', 'd/g')])), [['a', 'b', 'd'], ['c']]);
  assert.deepEqual(shown(keepLinksTogether(TOP, [names('a/1', 'b/1', 'c/1')])), [['a', 'b', 'c'], ['d']]);
});

test('names in shallow directories alone need nothing; one in a shallow directory and one in a subtree cannot split', () => {
  assert.deepEqual(shown(keepLinksTogether(TOP, [names('top-file', 'top-link')])), [['a'], ['b'], ['c'], ['d']]);
  assert.deepEqual(shown(keepLinksTogether(DEEP, [names('a/f', 'b/f')])), [['a/x'], ['a/y'], ['b/x'], ['b/y']], 'a/ and b/ are shallow here');
  assert.equal(keepLinksTogether(TOP, [names('top-file', 'b/f')]), undefined);
  assert.equal(keepLinksTogether(DEEP, [names('a/f', 'b/x/f')]), undefined);
});

test('subtrees below the top are found by their own prefix', () => {
  assert.deepEqual(shown(keepLinksTogether(DEEP, [names('a/x/1/2/f', 'b/y/g')])), [['a/x', 'b/y'], ['a/y'], ['b/x']]);
  // A name that only starts like a subtree's is not in it.
  assert.equal(keepLinksTogether(DEEP, [names('a/xx/f', 'b/y/g')]), undefined);
});

test('the finder keeps inodes named twice or more, told apart by device too', () => {
  const finder = new LinkFinder();
  finder.add(b('a/f'), 1n, 10n);
  finder.add(b('b/f'), 1n, 10n);
  finder.add(b('c/f'), 2n, 10n); // same inode number, another filesystem: another file, its other names outside
  finder.add(b('d/f'), 1n, 11n);
  finder.add(b('e/f'), 1n, 11n);
  finder.add(b('e/g'), 1n, 11n);
  assert.deepEqual(finder.found()?.map((group) => group.map(String)), [['a/f', 'b/f'], ['d/f', 'e/f', 'e/g']]);
});

test('past its bound the finder says it does not know, and holds nothing', () => {
  const finder = new LinkFinder();
  for (let i = 0; i <= MAX_LINKED_NAMES; i++) finder.add(b(`d/${i}`), 1n, BigInt(i >> 1));
  assert.equal(finder.found(), undefined);
});
