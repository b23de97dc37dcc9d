// A target's state record on disk: what a load trusts, and what it refuses or repairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, chownSync, renameSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/logger.js';
import { privateDirectory } from '../../src/safety/state-dir.js';
import { EntryWriter } from '../../src/state/files.js';
import { comparePaths, decodeEntry, type Entry } from '../../src/state/entry.js';
import { TargetState, type Identity, type TrustedRecord } from '../../src/state/store.js';
import { InosyncError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

const identity: Identity = { source: '/srv/www', dev: '1', ino: '2', target: 'mirror:/srv/www', excludes: [], rsyncOptions: [] };

function entry(path: string): Entry {
  return { path: Buffer.from(path), kind: 'file', mode: 0o100644, uid: 0, gid: 0, size: 1n, mtimeNs: 1n, ctimeNs: 1n, ino: 1n };
}

/** A record holding `paths` as confirmed (a scan installed after a full sync), in state dir `dir`. */
async function recorded(dir: string, paths: string[], who: Identity = identity): Promise<TargetState> {
  const state = TargetState.open(dir, who, silentLogger);
  assert.equal(typeof await state.load(), 'string', 'no record at first');
  const scan = join(dir, 'scan');
  const writer = new EntryWriter(scan, { kind: 'scan' });
  for (const path of [...paths].sort((a, b) => comparePaths(Buffer.from(a), Buffer.from(b)))) writer.add(entry(path));
  writer.close();
  const generation = state.rotate();
  await state.install(scan, generation);
  return state;
}

async function read(record: TrustedRecord | string): Promise<string[]> {
  assert.notEqual(typeof record, 'string', `trusted: ${String(record)}`);
  const seen: string[] = [];
  for (const c = (record as TrustedRecord).cursor(); !c.done; c.next()) {
    const e = decodeEntry(c.bytes.subarray(0, c.end), c.at)!.entry;
    seen.push(`${e.kind} ${e.path.toString()}`);
  }
  await (record as TrustedRecord).close();
  return seen;
}

test('a confirmed record is trusted; forgotten paths stand, unknown, for themselves and all below', async (t) => {
  const dir = tempDir(t);
  const state = await recorded(dir, ['', 'a', 'a/x', 'b']);
  state.forget([Buffer.from('a')]);
  state.sync();
  state.close();
  assert.deepEqual(await read(await TargetState.open(dir, identity, silentLogger).load()), ['file ', 'unknown a', 'file b']);
});

test('a corrupted journal tail is cut at the last good record, which still counts', async (t) => {
  const dir = tempDir(t);
  const state = await recorded(dir, ['', 'a', 'b']);
  state.forget([Buffer.from('a')]);
  state.sync();
  state.close();
  const [key] = readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'scan');
  const journal = readdirSync(join(dir, key!)).find((n) => n.startsWith('journal.'))!;
  const path = join(dir, key!, journal);
  const good = statSync(path).size;
  appendFileSync(path, Buffer.from([9, 0, 0, 0, 1, 2, 3, 4, 1, 0x62])); // a record of 'b' with a wrong checksum
  assert.deepEqual(await read(await TargetState.open(dir, identity, silentLogger).load()), ['file ', 'unknown a', 'file b']);
  assert.equal(statSync(path).size, good, 'the tail was cut');
});

test('a record of another target, other excludes or other rsync options is not trusted, and removed', async (t) => {
  for (const other of [{ excludes: ['*.tmp'] }, { rsyncOptions: ['-a'] }, { ino: '3' }]) {
    const dir = tempDir(t);
    (await recorded(dir, ['', 'a'])).close();
    const why = await TargetState.open(dir, { ...identity, ...other }, silentLogger).load();
    assert.equal(typeof why, 'string');
    assert.match(why as string, new RegExp(`another ${Object.keys(other)[0]}`));
    assert.equal(typeof await TargetState.open(dir, identity, silentLogger).load(), 'string', 'the foreign files were removed');
  }
});

test('a snapshot with a flipped byte fails its checksum when read', async (t) => {
  const dir = tempDir(t);
  (await recorded(dir, ['', 'a', 'b'])).close();
  const [key] = readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'scan');
  const snapshot = join(dir, key!, 'snapshot');
  const bytes = readFileSync(snapshot);
  bytes[bytes.length - 25]! ^= 0xff; // in the last entry's inode number
  writeFileSync(snapshot, bytes);
  const record = await TargetState.open(dir, identity, silentLogger).load();
  await assert.rejects(read(record), /checksum|count|malformed/);
});

test('a symlink planted at the snapshot path is not followed (and what it points to is left alone)', async (t) => {
  const dir = tempDir(t);
  (await recorded(dir, ['', 'a'])).close();
  const [key] = readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'scan');
  const elsewhere = join(tempDir(t), 'precious');
  writeFileSync(elsewhere, 'not ours');
  const snapshot = join(dir, key!, 'snapshot');
  writeFileSync(snapshot, '');
  symlinkSync(elsewhere, `${snapshot}.link`);
  renameSync(`${snapshot}.link`, snapshot);
  assert.equal(typeof await TargetState.open(dir, identity, silentLogger).load(), 'string', 'not trusted');
  assert.equal(readFileSync(elsewhere, 'utf8'), 'not ours');
});

test('a state directory that is a symlink, writable by others or owned by another user is refused', (t) => {
  const base = tempDir(t);
  const real = join(base, 'real');
  mkdirSync(real, { mode: 0o700 });
  symlinkSync(real, join(base, 'link'));
  assert.throws(() => privateDirectory(join(base, 'link')), (e: unknown) => e instanceof InosyncError && /not a directory/.test(e.message));
  const open = join(base, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  assert.throws(() => privateDirectory(open), /writable by other users/);
  const theirs = join(base, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, 12345, 12345);
  assert.throws(() => privateDirectory(theirs), /owned by uid 12345/);
  const fresh = join(base, 'new', 'state');
  privateDirectory(fresh);
  assert.equal(statSync(fresh).mode & 0o777, 0o700);
  assert.ok(existsSync(fresh));
});
