// watchAndList, the batch call walks use: each path watched, then listed as (kind, name, NUL) records with
// exact bytes, each listing ended by a 0 byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, ENTRY, listDirectories, openInotify, STAT_NLINK_AT, STAT_RECORD_BYTES, syscallError, type NativeInotify } from '../../src/inotify/binding.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';
import { addAcl, noXattrTools, setXattr } from '../helpers/xattrs.js';

const ALL = ENTRY.directory | ENTRY.symlink | ENTRY.other;

function instance(t: CleanupContext): NativeInotify {
  const inotify = openInotify(() => undefined);
  t.after(() => inotify.close());
  return inotify;
}

/** NUL-terminated paths, as the call takes them. */
function batch(...paths: Array<string | Buffer>): Buffer {
  return Buffer.concat(paths.flatMap((p) => [Buffer.from(p), Buffer.alloc(1)]));
}

/** Each directory's entries, sorted (listings are not), taken up to its 0 byte. */
function listings(records: Buffer): Array<Array<[number, string]>> {
  const out: Array<Array<[number, string]>> = [];
  let current: Array<[number, string]> = [];
  for (let at = 0; at < records.length;) {
    if (records[at] === 0) {
      out.push(current.sort((a, b) => (a[1] < b[1] ? -1 : 1)));
      current = [];
      at++;
      continue;
    }
    const end = records.indexOf(0, at + 1);
    current.push([records[at] ?? -1, records.toString('latin1', at + 1, end)]);
    at = end + 1;
  }
  return out;
}

test('watchAndList watches each path and lists it, giving only the kinds asked for', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'file'), '');
  writeFileSync(join(dir, 'sub', 'file'), '');
  symlinkSync('sub', join(dir, 'link'));
  const inotify = instance(t);
  const all = inotify.watchAndList(batch(dir, join(dir, 'sub')), constants.IN_CREATE, ALL);
  assert.deepEqual(listings(all.records), [
    [[ENTRY.other, 'file'], [ENTRY.symlink, 'link'], [ENTRY.directory, 'sub']],
    [[ENTRY.other, 'file']],
  ]);
  const [dirWd, dirError, subWd, subError] = all.results;
  assert.deepEqual([dirError, subError], [0, 0]);
  assert.equal(inotify.addWatch(dir, constants.IN_CREATE), dirWd, 'the directory is watched');
  assert.equal(inotify.addWatch(join(dir, 'sub'), constants.IN_CREATE), subWd);
  const dirs = inotify.watchAndList(batch(dir, join(dir, 'sub')), constants.IN_CREATE, ENTRY.directory);
  assert.deepEqual(listings(dirs.records), [[[ENTRY.directory, 'sub']], []], 'files only: no directory to give');
});

test('watchAndList keeps names that are not UTF-8 exact', (t) => {
  const dir = Buffer.from(tempDir(t));
  const name = Buffer.from([0x66, 0xff, 0x0a, 0x2a]);
  const sub = Buffer.concat([dir, Buffer.from('/'), name]);
  mkdirSync(sub);
  const { results, records } = instance(t).watchAndList(batch(dir, sub), constants.IN_CREATE, ALL);
  assert.deepEqual(listings(records), [[[ENTRY.directory, name.toString('latin1')]], []]);
  assert.ok((results[2] ?? 0) > 0, 'the non-UTF-8 path is watched too');
});

test('watchAndList gives a missing path its errno and goes on with the rest of the batch', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'there'));
  const gone = join(dir, 'gone');
  const { results, records } = instance(t).watchAndList(batch(gone, join(dir, 'there')), constants.IN_CREATE, ALL);
  assert.ok((results[0] ?? 0) < 0, 'no watch for the missing path');
  assert.ok((results[2] ?? 0) > 0, 'the next path is watched');
  assert.deepEqual(listings(records), [[], []]);
  const error = syscallError(-(results[0] ?? 0), 'inotify_add_watch', Buffer.from(gone));
  assert.equal(error.code, 'ENOENT');
  assert.match(error.message, /^ENOENT: no such file or directory, inotify_add_watch '.*gone'$/);
});

test('watchAndList refuses paths that do not end with a NUL byte', (t) => {
  assert.throws(() => instance(t).watchAndList(Buffer.from(tempDir(t)), constants.IN_CREATE, ALL), {
    name: 'TypeError', message: /NUL-terminated/,
  });
});

test('listDirectories lists without watches; with ENTRY.stats each name is followed by its lstat, as a state entry keeps it, and its link count', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'file'), 'four');
  symlinkSync('file', join(dir, 'link'));
  const { results, records } = listDirectories(batch(`${dir}/`, join(dir, 'absent'), join(dir, 'sub')), ALL | ENTRY.stats);
  assert.deepEqual([...results], [0, 2, 0], 'ENOENT for the absent one');
  const seen = new Map<string, Buffer>();
  let at = 0;
  for (; records[at] !== 0; at += STAT_RECORD_BYTES) {
    const end = records.indexOf(0, at + 1);
    seen.set(records.toString('latin1', at + 1, end), records.subarray(end + 1, end + 1 + STAT_RECORD_BYTES));
    at = end + 1;
  }
  assert.deepEqual(records.subarray(at), Buffer.from([0, 0, 0]), 'the absent and the empty directory: a 0 byte each');
  assert.deepEqual([...seen.keys()].sort(), ['file', 'link', 'sub']);
  for (const [name, stat] of seen) {
    const expected = lstatSync(join(dir, name), { bigint: true });
    const [mode, uid, gid] = [0, 4, 8].map((o) => stat.readUInt32LE(o));
    assert.deepEqual([mode, uid, gid], [Number(expected.mode), Number(expected.uid), Number(expected.gid)], name);
    assert.deepEqual([stat.readBigUInt64LE(12), stat.readBigInt64LE(20), stat.readBigInt64LE(28), stat.readBigUInt64LE(36), stat.readUInt32LE(STAT_NLINK_AT)],
      [expected.size, expected.mtimeNs, expected.ctimeNs, expected.ino, Number(expected.nlink)], name);
  }
});

test('listDirectories with ENTRY.xattrs counts the listed directories and entries that hold an xattr or an ACL, symlinks not followed', { skip: noXattrTools }, (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  for (const name of ['sub', 'acl']) mkdirSync(join(dir, name));
  for (const name of ['plain', 'marked']) writeFileSync(join(dir, name), name);
  writeFileSync(join(outside, 'marked'), 'x');
  setXattr(join(outside, 'marked'), 'user.mark', 'outside');
  symlinkSync(join(outside, 'marked'), join(dir, 'link'));
  const count = (...paths: string[]): number => listDirectories(batch(...paths), ALL | ENTRY.xattrs).xattrs;
  assert.equal(count(dir, join(dir, 'sub')), 0);
  assert.equal(listDirectories(batch(dir), ALL).xattrs, 0, 'not asked: none counted');
  setXattr(join(dir, 'marked'), 'user.mark', '1');
  addAcl(join(dir, 'acl'), 'u:nobody:rx');
  assert.equal(count(dir), 2, 'a file with an xattr, a directory with an ACL');
  setXattr(join(dir, 'sub'), 'user.mark', 'listed');
  assert.equal(count(join(dir, 'sub')), 1, 'a listed directory itself');
  assert.equal(count(join(dir, 'absent')), 0, 'nothing of a directory that cannot be listed (the caller counts it as unknown)');
});
