import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSet } from '../../src/sync/changeset.js';
import type { PathSet } from '../../src/sync/path-set.js';
import type { Change, ChangeKind } from '../../src/watch/types.js';

const root = Buffer.from('/src');

function change(kind: ChangeKind, path: string, extra: Partial<Change> = {}): Change {
  return { kind, root, path: Buffer.from(path), isDir: false, ...extra };
}

function setup(t: TestContext, quietMs = 20, maxDelayMs = 500, storm?: { marks: number; quietMs: number }): { set: ChangeSet; released: string[][] } {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const released: string[][] = [];
  const set = new ChangeSet({
    quietMs,
    maxDelayMs,
    ...(storm ? { storm } : {}),
    onReady: (marks: PathSet) => released.push(marks.entries().map((e) => `${e.mark}:${e.path.toString('latin1')}`).sort()),
  });
  t.after(() => set.close());
  return { set, released };
}

test('changes are released together once the quiet window passes', (t) => {
  const { set, released } = setup(t);
  set.add(change('created', 'a'));
  t.mock.timers.tick(10);
  set.add(change('attributes', 'b'));
  t.mock.timers.tick(15);
  assert.deepEqual(released, []);
  t.mock.timers.tick(10);
  assert.deepEqual(released, [['path:a', 'path:b']]);
});

test('a steady stream of changes is still released within the maximum delay', (t) => {
  const { set, released } = setup(t, 20, 100);
  for (let i = 0; i < 20; i++) {
    set.add(change('attributes', `f${i}`));
    t.mock.timers.tick(10);
  }
  assert.ok(released.length >= 1);
  assert.ok(released[0]!.length <= 11);
});

test('a storm (many changes held) waits for the longer storm quiet window; a few changes do not', (t) => {
  const { set, released } = setup(t, 1, 1000, { marks: 3, quietMs: 50 });
  set.add(change('attributes', 'a'));
  t.mock.timers.tick(1);
  assert.deepEqual(released, [['path:a']], 'one change goes after the short window');
  for (const name of ['b', 'c', 'd']) set.add(change('attributes', name));
  t.mock.timers.tick(1);
  assert.deepEqual(released.length, 1, 'three changes at once are a storm: held past the short window');
  t.mock.timers.tick(48);
  assert.deepEqual(released.length, 1);
  t.mock.timers.tick(1);
  assert.deepEqual(released[1], ['path:b', 'path:c', 'path:d']);
});

test('a storm that never pauses is still released within the maximum delay', (t) => {
  const { set, released } = setup(t, 1, 100, { marks: 3, quietMs: 50 });
  for (let i = 0; i < 60; i++) {
    set.add(change('attributes', `f${i}`));
    t.mock.timers.tick(2);
  }
  assert.ok(released.length >= 1, 'released before the stream ended');
  assert.ok(released.every((batch) => batch.length <= 51));
});

test('a file being written waits for its writer to close it', (t) => {
  const { set, released } = setup(t);
  set.add(change('created', 'log'));
  set.add(change('modified', 'log'));
  t.mock.timers.tick(100);
  assert.deepEqual(released, []);
  set.add(change('closed', 'log'));
  t.mock.timers.tick(20);
  assert.deepEqual(released, [['path:log']]);
});

test('a file held open and written continuously is sent within the maximum delay', (t) => {
  const { set, released } = setup(t, 20, 300);
  for (let i = 0; i < 35; i++) {
    set.add(change('modified', 'app.log'));
    t.mock.timers.tick(10);
  }
  assert.deepEqual(released[0], ['path:app.log']);
});

test('writes to an open file do not hold back other changes', (t) => {
  const { set, released } = setup(t, 20, 1000);
  set.add(change('attributes', 'other'));
  for (let i = 0; i < 5; i++) {
    set.add(change('modified', 'app.log'));
    t.mock.timers.tick(10);
  }
  assert.deepEqual(released, [['path:other']]);
});

test('a new directory is sent whole and swallows what was seen inside it', (t) => {
  const { set, released } = setup(t);
  set.add(change('created', 'd', { isDir: true }));
  set.add(change('created', 'd/e', { isDir: true }));
  set.add(change('closed', 'd/e/f'));
  t.mock.timers.tick(20);
  assert.deepEqual(released, [['tree:d']]);
});

test('create then delete leaves one mark that brings the target in line either way', (t) => {
  const { set, released } = setup(t);
  set.add(change('created', 'tmp'));
  set.add(change('closed', 'tmp'));
  set.add(change('deleted', 'tmp'));
  t.mock.timers.tick(20);
  // Not dropped: the target may have had a file of that name before; the transport deletes what is missing.
  assert.deepEqual(released, [['path:tmp']]);
});

test('a rename is the old name brought in line and the new one sent', (t) => {
  const { set, released } = setup(t);
  set.add(change('moved', 'new', { from: Buffer.from('old') }));
  set.add(change('moved', 'dir2', { from: Buffer.from('dir1'), isDir: true }));
  t.mock.timers.tick(20);
  assert.deepEqual(released, [['path:dir1', 'path:old', 'path:new', 'tree:dir2'].sort()]);
});

test('a rescan marks the directory to be sent whole', (t) => {
  const { set, released } = setup(t);
  set.add(change('closed', 'd/f'));
  set.add(change('rescan', 'd', { isDir: true }));
  t.mock.timers.tick(20);
  assert.deepEqual(released, [['tree:d']]);
});

test('rename moves held marks (including files being written) under the new name', (t) => {
  const { set, released } = setup(t);
  set.add(change('closed', 'a/f'));
  set.add(change('modified', 'a/log'));
  set.rename(Buffer.from('a'), Buffer.from('b'));
  set.flush();
  assert.deepEqual(released, [['path:b/f', 'path:b/log']]);
});

test('flush releases everything at once, files still open included', (t) => {
  const { set, released } = setup(t);
  set.add(change('modified', 'open'));
  set.flush();
  assert.deepEqual(released, [['path:open']]);
  assert.equal(set.size, 0);
});

test('a directory created and removed within the window is brought in line, not sent whole', (t) => {
  const { set, released } = setup(t);
  set.add(change('created', 'd', { isDir: true }));
  set.add(change('closed', 'd/f'));
  set.add(change('deleted', 'd', { isDir: true }));
  t.mock.timers.tick(20);
  assert.deepEqual(released, [['path:d']]);
});
