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
  p.push([create('a'), from('x', 7), to('y', 7), create('b')]);
  assert.deepEqual(out, ['a', 'x->y', 'b']);
});

test('halves in different reads are paired, and what came between waits behind the MOVED_FROM', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push([create('a'), from('x', 7)]);
  assert.deepEqual(out, ['a']);
  clock.now += 5;
  p.push([create('b'), to('y', 7), create('c')]);
  assert.deepEqual(out, ['a', 'x->y', 'b', 'c']);
  assert.equal(p.waiting, 0);
});

test('a MOVED_FROM left alone past its window leaves alone, then the rest follows in order', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push([from('x', 7), create('a')]);
  clock.now += 19;
  p.expire();
  assert.deepEqual(out, []);
  clock.now += 1;
  p.expire();
  assert.deepEqual(out, ['x->(gone)', 'a']);
});

test('many lone MOVED_FROMs from one read share one window instead of waiting one after another', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push(Array.from({ length: 100 }, (_, i) => from(`f${i}`, i + 1)));
  clock.now += 20;
  p.expire();
  assert.equal(out.length, 100);
});

test('a MOVED_FROM whose window ran out while a read was being handled still pairs with the next read', (t) => {
  const { pairing: p, out, clock } = pairing(t);
  p.push([from('x', 7)]);
  clock.now += 100; // the rest of that read took long to handle
  p.push([to('y', 7)]);
  assert.deepEqual(out, ['x->y']);
});

test('a lone MOVED_TO is an ordinary event', (t) => {
  const { pairing: p, out } = pairing(t);
  p.push([to('in', 9), create('a')]);
  assert.deepEqual(out, ['in', 'a']);
});

test('the window is awaited on a real timer when nothing else arrives', async (t) => {
  const out: string[] = [];
  const p = new MovePairing({ windowMs: 5, deliver: (item) => out.push(describe(item)) });
  t.after(() => p.stop());
  p.push([from('x', 3)]);
  await waitFor(() => out.length > 0, { what: 'the lone MOVED_FROM to leave', timeoutMs: 2000 });
  assert.deepEqual(out, ['x->(gone)']);
});

test('a big read is handled a slice at a time, the loop free between slices; reads meanwhile queue behind it in order', async (t) => {
  const out: string[] = [];
  const p = new MovePairing({ windowMs: 20, slice: 2, deliver: (item) => out.push(describe(item)) });
  t.after(() => p.stop());
  p.push([create('a'), create('b'), create('c'), create('d'), create('e')]);
  assert.deepEqual(out, ['a', 'b'], 'one slice, then the loop is let go');
  p.push([create('f')]);
  assert.deepEqual(out, ['a', 'b'], 'a read while a pass is unfinished waits its turn');
  await waitFor(() => out.length === 6, { what: 'the rest of the pass' });
  assert.deepEqual(out, ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('a backlog past its bound is dropped for an overflow, as the kernel drops events', (t) => {
  const out: RawEvent[] = [];
  const p = new MovePairing({ windowMs: 20, maxBacklog: 3, deliver: (item) => { if (item.kind === 'event') out.push(item.event); } });
  t.after(() => p.stop());
  p.push([from('held', 9), create('a')]);
  p.push([create('b'), create('c')]);
  assert.equal(out.length, 1);
  assert.equal((out[0]?.mask ?? 0) & C.IN_Q_OVERFLOW, C.IN_Q_OVERFLOW);
});
