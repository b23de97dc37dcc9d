import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/sync/backoff.js';

const options = { baseMs: 100, capMs: 1000, jitter: 0.5 };

test('the delay doubles with each failure up to the cap', () => {
  const noJitter = (): number => 0;
  assert.deepEqual([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, options, noJitter)), [100, 200, 400, 800, 1000, 1000]);
});

test('jitter takes at most its share off the nominal delay', () => {
  assert.equal(backoffDelay(3, options, () => 0.999999), 200);
  assert.equal(backoffDelay(3, options, () => 0.5), 300);
});
