// Names are bytes: a newline, a leading dash, '*' and invalid UTF-8 come out exactly as they went in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { bytesPath, oddNames, tempDir } from '../helpers/tmp.js';
import { all, saw, watchTree } from './harness.js';

const names = [oddNames.newline, oddNames.leadingDash, oddNames.star, oddNames.nonUtf8];

test('odd file names round-trip exactly in changes and events', async (t) => {
  const root = tempDir(t);
  const { changes, events } = await watchTree(t, { roots: [root] });
  for (const name of names) writeFileSync(bytesPath(root, name), 'x');
  await changes.until(all(...names.map((name) => saw('closed', name))));
  for (const name of names) {
    assert.ok(events.items.some((e) => e.name.equals(name) && e.dir.equals(Buffer.from(`${root}/`))), `event for ${name.toString('hex')}`);
  }
});

test('a directory with a non-UTF-8 name is watched, and paths below it keep its bytes', async (t) => {
  const root = tempDir(t);
  const { changes } = await watchTree(t, { roots: [root] });
  mkdirSync(bytesPath(root, oddNames.nonUtf8));
  writeFileSync(bytesPath(root, oddNames.nonUtf8, oddNames.newline), 'x');
  await changes.until(saw('created', bytesPath(oddNames.nonUtf8, oddNames.newline)));
});
