import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAP_SLACK, HeapTrim } from '../../src/cli/heap-trim.js';
import { waitFor } from '../helpers/wait.js';

/** A HeapTrim over a heap size the test sets, counting its collections (each brings the heap back to `live`). */
function trimOver(live: number): { trim: HeapTrim; heap: { used: number }; collections: number[] } {
  const heap = { used: live };
  const collections: number[] = [];
  const trim = new HeapTrim({ collect: () => { heap.used = live; }, heapUsed: () => heap.used, collected: (before) => collections.push(before) });
  return { trim, heap, collections };
}

// A storm whose crowded directories went whole is a batch of about a hundred marks: the heap it grew decides.
test('a batch that has grown the heap by HEAP_SLACK since the last collection brings one', async () => {
  const { trim, heap, collections } = trimOver(9e6);
  heap.used = 9e6 + HEAP_SLACK;
  trim.afterBatch();
  await waitFor(() => collections.length === 1, { what: 'the collection' });
  assert.deepEqual(collections, [9e6 + HEAP_SLACK]);
  trim.close();
});

test('a batch that has grown the heap less brings none', async () => {
  const { trim, heap, collections } = trimOver(9e6);
  heap.used = 9e6 + HEAP_SLACK - 1;
  trim.afterBatch();
  // The trim's timer (the first one waits 0 ms) would run before this one of the same delay.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(collections, []);
  trim.close();
});
