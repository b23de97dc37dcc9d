// The node model, as pure logic: names, paths, and past occupants of a name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { bytes, WatchModel, type WatchNode, type WatchRoot } from '../../src/watch/model.js';

function model(): { m: WatchModel; root: WatchRoot; top: WatchNode } {
  const m = new WatchModel();
  const root: WatchRoot = { given: Buffer.from('/r/'), path: Buffer.from('/r'), pathText: '/r', gone: false };
  const top = m.add(1, root, undefined, '/r', true);
  root.node = top;
  return { m, root, top };
}

test('paths follow a relink of an ancestor', () => {
  const { m, root, top } = model();
  const a = m.add(2, root, top, 'a', true);
  const b = m.add(3, root, a, 'b', true);
  assert.equal(m.absolutePath(b).toString(), '/r/a/b');
  m.place(a, top, 'z');
  assert.equal(bytes(m.relativeText(b)).toString(), 'z/b');
  assert.equal(m.liveCount, 3);
});

test('names are bytes: a latin1 name comes back as the same bytes', () => {
  const { m, root, top } = model();
  const odd = Buffer.from([0x66, 0xff, 0x0a]);
  const n = m.add(2, root, top, odd.toString('latin1'), true);
  assert.deepEqual(bytes(m.relativeText(n)), odd);
});

test('a directory found where another is recorded pushes that one into the past, and events naming the name meet it first', () => {
  const { m, root, top } = model();
  const old = m.add(2, root, top, 'x', true);
  const now = m.add(3, root, top, 'x', true);
  assert.equal(m.child(top, 'x'), now);
  assert.equal(m.liveCount, 3, 'the old one is still watched');
  assert.equal(m.takePast(top, 'x'), old);
  assert.equal(m.takePast(top, 'x'), now);
});

test('detaching a node takes its whole subtree out, past occupants included', () => {
  const { m, root, top } = model();
  const a = m.add(2, root, top, 'a', true);
  m.add(3, root, a, 'x', true);
  m.add(4, root, a, 'x', true);
  const gone = m.detach(a);
  assert.deepEqual(gone.map((n) => m.wd(n)).sort(), [2, 3, 4]);
  assert.equal(m.liveCount, 1);
  assert.equal(m.child(top, 'a'), undefined);
});

test('a node placed as past goes behind what is there now', () => {
  const { m, root, top } = model();
  const now = m.add(2, root, top, 'x', true);
  const moved = m.add(3, root, top, 'y', true);
  m.placeAsPast(moved, top, 'x');
  assert.equal(m.child(top, 'x'), now);
  assert.equal(m.child(top, 'y'), undefined);
  assert.equal(m.takePast(top, 'x'), moved);
});

test('isAncestor tells when a placement would make a loop', () => {
  const { m, root, top } = model();
  const a = m.add(2, root, top, 'a', true);
  const b = m.add(3, root, a, 'b', true);
  assert.ok(m.isAncestor(a, b));
  assert.ok(!m.isAncestor(b, a));
});

test('wds far apart (the kernel\'s count near INT_MAX) are found, listed and forgotten', () => {
  const { m, root, top } = model();
  const high = m.add(2 ** 31 - 1, root, top, 'high', true);
  const mid = m.add(2 ** 30, root, top, 'mid', true);
  assert.equal(m.get(2 ** 31 - 1), high);
  assert.deepEqual(m.nodes(), [top, mid, high]);
  m.forget(mid);
  assert.equal(m.get(2 ** 30), undefined);
  assert.deepEqual(m.nodes(), [top, high]);
});

test('a forgotten node\'s id serves the next new one, and nothing below or beside it names it', () => {
  const { m, root, top } = model();
  const a = m.add(2, root, top, 'a', true);
  const b = m.add(3, root, a, 'b', true);
  m.forget(a);
  assert.equal(m.get(2), undefined);
  assert.equal(m.child(top, 'a'), undefined);
  const c = m.add(4, root, top, 'c', true);
  assert.equal(c, a, 'the id is used again');
  assert.deepEqual(m.subtree(c), [c], 'the old children are not the new node\'s');
  assert.equal(m.child(c, 'b'), undefined);
  m.place(b, c, 'b2');
  assert.equal(m.absolutePath(b).toString(), '/r/c/b2');
});

test('names stay exact through many renames (the buffer of names is compacted)', () => {
  const { m, root, top } = model();
  const nodes = Array.from({ length: 200 }, (_, i) => m.add(10 + i, root, top, `n${i}`, true));
  for (let round = 0; round < 400; round++) {
    for (const [i, n] of nodes.entries()) m.place(n, top, `${'x'.repeat(round % 50)}-${i}-${round}`);
  }
  for (const [i, n] of nodes.entries()) {
    assert.equal(m.name(n), `${'x'.repeat(399 % 50)}-${i}-399`);
    assert.equal(m.child(top, m.name(n)), n);
  }
});

test('a name\'s hash is seeded anew by each process: whoever names directories cannot make them share slots', () => {
  const model = new URL('../../src/watch/model.js', import.meta.url).href;
  const hashIn = (): string => execFileSync(process.execPath, ['--input-type=module', '-e', `import { nameHash } from ${JSON.stringify(model)}; process.stdout.write(String(nameHash(1, 'a')))`], { encoding: 'utf8' });
  const hashes = new Set([hashIn(), hashIn(), hashIn()]);

  assert.ok(hashes.size > 1, `three processes hashed 'a' alike: ${[...hashes].join(', ')}`);
});
