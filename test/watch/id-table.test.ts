// The id table of the watch model, as pure logic: lookups through collisions, removals and resizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdTable } from '../../src/watch/id-table.js';

test('ids whose keys collide are all found, before and after removals and resizes', () => {
  // Keys of ids: id % 7, hashed to a handful of homes: long runs of collisions.
  const key = (id: number): number => id % 7;
  const hash = (k: number): number => Math.imul(k, 0x9e3779b1);
  const table = new IdTable((id) => hash(key(id)));
  const same = (id: number, wanted: number): boolean => id === wanted;
  const present = new Set<number>();
  for (let id = 1; id <= 5000; id++) {
    table.insert(id, hash(key(id)));
    present.add(id);
  }
  for (let id = 1; id <= 5000; id += 3) {
    table.remove(id, hash(key(id)));
    present.delete(id);
  }
  for (let id = 1; id <= 5000; id++) assert.equal(table.find(hash(key(id)), id, same), present.has(id) ? id : 0, `id ${id}`);
  for (const id of present) table.remove(id, hash(key(id)));
  for (let id = 1; id <= 5000; id++) assert.equal(table.find(hash(key(id)), id, same), 0);
});
