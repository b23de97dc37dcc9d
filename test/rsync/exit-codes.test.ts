// What each rsync exit status means for a batch: done, send again later, or a loud failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyExit, worse } from '../../src/rsync/exit-codes.js';

const table: Array<[number | null, 'ok' | 'retry' | 'fatal', string]> = [
  [0, 'ok', 'success'],
  [24, 'ok', 'source files vanished during the transfer: their delete events follow'],
  [23, 'retry', 'partial transfer is not success'],
  [10, 'retry', 'socket I/O'],
  [12, 'retry', 'protocol data stream: connection lost'],
  [30, 'retry', 'I/O timeout (a hung host)'],
  [35, 'retry', 'connect timeout'],
  [255, 'retry', 'ssh could not connect'],
  [null, 'retry', 'killed by a signal (watchdog, abort)'],
  [1, 'fatal', 'usage error'],
  [2, 'fatal', 'protocol incompatibility'],
  [4, 'fatal', 'feature not supported by the receiver'],
  [25, 'fatal', '--max-delete stopped deletions'],
  [77, 'fatal', 'unknown status: loud, never silently ok'],
];

for (const [code, outcome, why] of table) {
  test(`exit ${code ?? 'by signal'} is ${outcome}: ${why}`, () => {
    const meaning = classifyExit(code, code === null ? 'SIGKILL' : null);
    assert.equal(meaning.outcome, outcome);
    assert.ok(meaning.meaning.length > 0);
  });
}

test('an unknown status names itself in the message', () => {
  assert.match(classifyExit(77, null).meaning, /unknown rsync exit status 77/);
});

test('a batch made of several runs takes the worst outcome', () => {
  assert.equal(worse('ok', 'retry'), 'retry');
  assert.equal(worse('fatal', 'retry'), 'fatal');
  assert.equal(worse('ok', 'ok'), 'ok');
});
