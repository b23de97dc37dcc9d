// Counting what rsync did from its per-item lines, without trusting any other line on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countLine, emptyCounts, OUT_FORMAT_ARG } from '../../src/rsync/itemize.js';

const marker = OUT_FORMAT_ARG.slice('--out-format='.length, OUT_FORMAT_ARG.indexOf('%i'));
const line = (text: string): Buffer => Buffer.from(marker + text);

test('sent files, changed attributes, links and deletions are counted apart', () => {
  const counts = emptyCounts();
  for (const l of ['>f+++++++++ 120', '<f.st...... 30', '.f...p..... 0', 'cd+++++++++ 0', 'cL+++++++++ 0', 'hf+++++++++ 0', '*deleting 0', '*deleting 0']) {
    assert.equal(countLine(counts, line(l)), true);
  }
  assert.deepEqual(counts, { changed: 6, deleted: 2, sent: 2, bytes: 150 });
});

test('lines without the marker (verbose output, a name with a newline) are not counted', () => {
  const counts = emptyCounts();
  assert.equal(countLine(counts, Buffer.from('>f+++++++++ 10')), false);
  assert.equal(countLine(counts, Buffer.from('sending incremental file list')), false);
  assert.deepEqual(counts, emptyCounts());
});
