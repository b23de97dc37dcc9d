// Pure policy of delete modes and per-target filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullSyncDeletes, liveDeletes, parseDeleteMode } from '../../src/sync/delete-mode.js';
import { PathSet } from '../../src/sync/path-set.js';
import { inView, marksInView, ownView, watchExclude } from '../../src/sync/target-filter.js';

test('which deletes each mode makes: startup/verification full syncs, live batches, a collapsed backlog', () => {
  const table = (['always', 'never', 'startup', 'running'] as const).map((mode) => [
    mode, fullSyncDeletes(mode, ['start']), liveDeletes(mode), fullSyncDeletes(mode, ['backlog']), fullSyncDeletes(mode, ['start', 'backlog']),
  ]);
  assert.deepEqual(table, [
    ['always', true, true, true, true],
    ['never', false, false, false, false],
    ['startup', true, false, false, true],
    ['running', false, true, true, true],
  ]);
  assert.equal(fullSyncDeletes(undefined), true, 'the default is always');
  assert.throws(() => parseDeleteMode('sometimes', '--delete'), /not a delete mode/);
});

test('watching is the union of the views: left out only when every target leaves it out', () => {
  const sync = { excludes: ['*.log', 'cache/'] };
  const targets = [{ includes: ['keep.log', 'cache/'], excludes: ['tmp/'] }, { excludes: ['docs/'] }];
  const excluded = watchExclude(sync, targets)!;
  const out = (path: string, isDir = false): boolean => excluded(Buffer.from(path), isDir);
  assert.equal(out('cache', true), false, 'an include of one target needs it watched');
  assert.equal(out('tmp', true), false, 'left out by one target only');
  assert.equal(out('docs', true), false);
  assert.equal(out('a.log'), true, 'every target leaves it out');
  assert.equal(out('x/keep.log'), false);
  assert.equal(watchExclude(sync, [{}])!(Buffer.from('cache'), true), true, 'no target rules: the sync\'s');
});

test('a target\'s view leaves out what lies below a directory it excludes, and deletes of unknown type it may keep', () => {
  const view = ownView({ excludes: ['*.log'] }, { excludes: ['docs/'] })!;
  const typeOf = (): undefined => undefined;
  assert.equal(inView(view, Buffer.from('docs/deep/file.txt'), typeOf), false);
  assert.equal(inView(view, Buffer.from('docs'), typeOf), false, 'gone, and "docs/" would match it as a directory');
  assert.equal(inView(view, Buffer.from('docs'), () => 'file'), true, 'a file named docs is not a directory');
  assert.equal(inView(view, Buffer.from('a/b.log'), typeOf), false);
  assert.equal(inView(view, Buffer.alloc(0), typeOf), true);
  const marks = new PathSet();
  marks.add(Buffer.from('docs/x'), 'path');
  marks.add(Buffer.from('src'), 'tree');
  assert.deepEqual(marksInView(marks, view, typeOf).entries().map((e) => e.path.toString()), ['src']);
  assert.equal(ownView({ excludes: ['*.log'] }, {}), undefined, 'no rules of its own: the watched tree is its view');
});
