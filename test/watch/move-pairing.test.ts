// Move pairing, as pure logic: records are made up, the clock is injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants as C, type RawEvent } from '../../src/inotify/binding.js';
import { MovePairing, type Sequenced } from '../../src/watch/move-pairing.js';
import type { CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const record = (mask: number, name: string, cookie = 0, wd = 1): RawEvent => ({ wd, mask, cookie, name: Buffer.from(name) });
const from = (name: string, cookie: number): RawEvent => record(C.IN_MOVED_FROM, name, cookie);
const to = (name: string, cookie: number): RawEvent => record(C.IN_MOVED_TO, name, cookie);
const create = (name: string): RawEvent => record(C.IN_CREATE, name);

/** One read's buffer, as the kernel writes it: each name NUL-padded to a multiple of 16 bytes. */
function records(events: readonly RawEvent[]): Buffer {
  return Buffer.concat(events.map(({ wd, mask, cookie, name }) => {
    const len = name.length === 0 ? 0 : (Math.floor(name.length / 16) + 1) * 16;
    const head = Buffer.alloc(16);
    head.writeInt32LE(wd, 0);
    head.writeUInt32LE(mask, 4);
    head.writeUInt32LE(cookie, 8);
    head.writeUInt32LE(len, 12);
    return Buffer.concat([head, name, Buffer.alloc(len - name.length)]);
  }));
}

function describe(item: Sequenced): string {
  if (item.kind === 'event') return `${item.event.name}`;
  return `${item.from.name}->${item.to?.name.toString() ?? '(gone)'}`;
}

function pairing(t: CleanupContext): { pairing: MovePairing; out: string[]; clock: { now: number } } {
  const out: string[] = [];
  const clock = { now: 1000 };
  const p = new MovePairing({ windowMs: 20, deliver: (item) => out.push(describe(item)), now: () => clock.now });
  t.after(() => p.stop());
  return { pairing: p, out, clock };
}

test('halves in one read are paired', (t) => {
  const { pairing: p, out } = pairing(t);
  p.push(records([create('a'), from('x', 7), to('y', 7), create('b')]));
  assert.deepEqual(out, ['a', 'x->y', 'b']);
});

test('halves in different reads are paired, and what came between waits behind the MOVED_FROM', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push(records([create('a'), from('x', 7)]));
  assert.deepEqual(out, ['a']);
  clock.now += 5;
  p.push(records([create('b'), to('y', 7), create('c')]));
  assert.deepEqual(out, ['a', 'x->y', 'b', 'c']);
  assert.equal(p.waiting, 0);
});

test('a MOVED_FROM left alone past its window leaves alone, then the rest follows in order', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push(records([from('x', 7), create('a')]));
  clock.now += 19;
  p.expire();
  assert.deepEqual(out, []);
  clock.now += 1;
  p.expire();
  assert.deepEqual(out, ['x->(gone)', 'a']);
});

test('many lone MOVED_FROMs from one read share one window instead of waiting one after another', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push(records(Array.from({ length: 100 }, (_, i) => from(`f${i}`, i + 1))));
  clock.now += 20;
  p.expire();
  assert.equal(out.length, 100);
});

test('a MOVED_FROM whose window ran out while a read was being handled still pairs with the next read', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push(records([from('x', 7)]));
  clock.now += 100; // the rest of that read took long to handle
  p.push(records([to('y', 7)]));
  assert.deepEqual(out, ['x->y']);
});

test('a lone MOVED_TO is an ordinary event', (t) => {
  const { pairing: p, out } = pairing(t);
  p.push(records([to('in', 9), create('a')]));
  assert.deepEqual(out, ['in', 'a']);
});

test('the window is awaited on a real timer when nothing else arrives', async (t) => {
  const out: string[] = [];
  const p = new MovePairing({ windowMs: 5, deliver: (item) => out.push(describe(item)) });
  t.after(() => p.stop());
  p.push(records([from('x', 3)]));
  await waitFor(() => out.length > 0, { what: 'the lone MOVED_FROM to leave', timeoutMs: 2000 });
  assert.deepEqual(out, ['x->(gone)']);
});

test('a big read is handled a slice at a time, the loop free between slices; reads meanwhile queue behind it in order', async (t) => {
  const out: string[] = [];
  const p = new MovePairing({ windowMs: 20, slice: 2, deliver: (item) => out.push(describe(item)) });
  t.after(() => p.stop());
  p.push(records([create('a'), create('b'), create('c'), create('d'), create('e')]));
  assert.deepEqual(out, ['a', 'b'], 'one slice, then the loop is let go');
  p.push(records([create('f')]));
  assert.deepEqual(out, ['a', 'b'], 'a read while a pass is unfinished waits its turn');
  await waitFor(() => out.length === 6, { what: 'the rest of the pass' });
  assert.deepEqual(out, ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('a backlog past its bound is dropped for an overflow, as the kernel drops events', (t) => {
  const out: RawEvent[] = [];
  const p = new MovePairing({ windowMs: 20, maxBacklog: 3, deliver: (item) => { if (item.kind === 'event') out.push(item.event); } });
  t.after(() => p.stop());
  p.push(records([from('held', 9), create('a')]));
  p.push(records([create('b'), create('c')]));
  assert.equal(out.length, 1);
  assert.equal((out[0]?.mask ?? 0) & C.IN_Q_OVERFLOW, C.IN_Q_OVERFLOW);
});

test('records wait as the drains that brought them: names keep their bytes, order holds across many drains', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  const odd = Buffer.from([0x66, 0xff, 0x0a, 0x80]);
  p.push(records([from('x', 7)]));
  for (let i = 0; i < 200; i++) p.push(records([create(`d${i}`), create('sixteen-bytes-xx')]));
  p.push(records([record(C.IN_CREATE, ''), { wd: 1, mask: C.IN_CREATE, cookie: 0, name: odd }]));
  assert.equal(p.waiting, 403);
  const delivered: RawEvent[] = [];
  const q = new MovePairing({ windowMs: 20, deliver: (item) => { if (item.kind === 'event') delivered.push(item.event); }, now: () => clock.now });
  t.after(() => q.stop());
  q.push(records([create('a'), record(C.IN_CREATE, ''), { wd: 3, mask: C.IN_CREATE, cookie: 0, name: odd }]));
  assert.deepEqual(delivered.map((e) => [e.wd, e.name]), [[1, Buffer.from('a')], [1, Buffer.alloc(0)], [3, odd]]);
  clock.now += 5;
  p.push(records([to('y', 7)]));
  assert.equal(out.length, 403);
  assert.deepEqual(out.slice(0, 3), ['x->y', 'd0', 'sixteen-bytes-xx']);
  assert.equal(out[399], 'd199');
  assert.equal(p.waiting, 0);
});
