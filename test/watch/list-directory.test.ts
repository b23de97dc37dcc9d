// The native listing that walks use: one Buffer of (kind, name, NUL) records per directory, names as exact bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENTRY, listDirectory } from '../../src/inotify/binding.js';
import { tempDir } from '../helpers/tmp.js';

function entries(records: Buffer | null): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (let at = 0; records !== null && at < records.length;) {
    const end = records.indexOf(0, at + 1);
    out.push([records[at] ?? -1, records.toString('latin1', at + 1, end)]);
    at = end + 1;
  }
  return out.sort((a, b) => (a[1] < b[1] ? -1 : 1));
}

test('listDirectory gives each entry with its kind, and only the kinds asked for', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'file'), '');
  symlinkSync('sub', join(dir, 'link'));
  const all = ENTRY.directory | ENTRY.symlink | ENTRY.other;
  assert.deepEqual(entries(listDirectory(Buffer.from(dir), all)), [[ENTRY.other, 'file'], [ENTRY.symlink, 'link'], [ENTRY.directory, 'sub']]);
  assert.deepEqual(entries(listDirectory(Buffer.from(dir), ENTRY.directory)), [[ENTRY.directory, 'sub']]);
  writeFileSync(join(dir, 'sub', 'file'), '');
  assert.equal(listDirectory(Buffer.from(join(dir, 'sub')), ENTRY.directory), null, 'files only: no directory to give');
  assert.deepEqual(entries(listDirectory(Buffer.from(join(dir, 'sub')), ENTRY.other)), [[ENTRY.other, 'file']]);
});

test('listDirectory keeps names that are not UTF-8 exact, and gives null for an empty directory', (t) => {
  const dir = Buffer.from(tempDir(t));
  const name = Buffer.from([0x66, 0xff, 0x0a, 0x2a]);
  mkdirSync(Buffer.concat([dir, Buffer.from('/'), name]));
  assert.deepEqual(entries(listDirectory(dir, ENTRY.directory)), [[ENTRY.directory, name.toString('latin1')]]);
  assert.equal(listDirectory(Buffer.concat([dir, Buffer.from('/'), name]), ENTRY.directory), null);
});

test('listDirectory throws like node:fs for a directory that is not there', (t) => {
  assert.throws(() => listDirectory(Buffer.from(join(tempDir(t), 'gone')), ENTRY.directory), { code: 'ENOENT' });
});
