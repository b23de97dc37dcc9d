// Numbers in messages are grouped as en-US groups them, without Intl (src/log/thousands.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thousands } from '../../src/log/thousands.js';

test('thousands groups whole numbers as toLocaleString("en-US") does', () => {
  for (const value of [0, 7, 999, 1000, 20_000, 123_456, 1_048_576, 2 ** 31 - 1, Number.MAX_SAFE_INTEGER, -1, -1234, -1_000_000]) {
    assert.equal(thousands(value), value.toLocaleString('en-US'), String(value));
  }
});
