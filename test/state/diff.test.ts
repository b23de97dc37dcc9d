// The startup difference as a merge-join of a record and a scan (entries made by hand, read back from files).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffRecord } from '../../src/state/diff.js';
import { EntryReader, EntryWriter } from '../../src/state/files.js';
import { comparePaths, decodeEntry, unknownEntry, type Entry, type EntryKind } from '../../src/state/entry.js';

function entry(path: string, kind: EntryKind = 'file', change: Partial<Entry> = {}): Entry {
  return { path: Buffer.from(path), kind, mode: kind === 'dir' ? 0o40755 : 0o100644, uid: 0, gid: 0, size: 4n, mtimeNs: 1n, ctimeNs: 1n, ino: BigInt(path.length + 1), ...change };
}

const dir = mkdtempSync(join(tmpdir(), 'inosync-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** The entries in record order, as an entry file read back. */
async function stream(entries: Entry[]): Promise<EntryReader> {
  const path = join(dir, `entries-${files++}`);
  const writer = new EntryWriter(path, { kind: 'scan' });
  for (const e of [...entries].sort((a, b) => comparePaths(a.path, b.path))) writer.add(e);
  writer.close();
  return EntryReader.open(path);
}

async function marks(record: Entry[], source: Entry[], limit = 1000): Promise<string[] | undefined> {
  const [was, now] = [await stream(record), await stream(source)];
  const set = await diffRecord(was.cursor(), now.cursor(), limit);
  await Promise.all([was.close(), now.close()]);
  return set?.entries().map((e) => `${e.mark} ${e.path.toString()}`).sort();
}

const base = [entry('', 'dir'), entry('a', 'dir'), entry('a/x'), entry('a/y'), entry('b')];

test('an unchanged tree has no difference', async () => {
  assert.deepEqual(await marks(base, base), []);
});

test('a created file is a path, a created directory a tree with nothing below it listed', async () => {
  assert.deepEqual(await marks(base, [...base, entry('c'), entry('d', 'dir'), entry('d/e')]), ['path c', 'tree d']);
});

test('a deleted directory is one path (deleted with all below), not one per entry', async () => {
  assert.deepEqual(await marks(base, [entry('', 'dir'), entry('b')]), ['path a']);
});

test('a file modified with the same size and a new mtime, and one with a new mode, are paths', async () => {
  const source = base.map((e) => (e.path.toString() === 'a/x' ? { ...e, mtimeNs: 2n } : e.path.toString() === 'b' ? { ...e, mode: 0o100600 } : e));
  assert.deepEqual(await marks(base, source), ['path a/x', 'path b']);
});

test('a renamed directory is its old name deleted and its new one sent whole', async () => {
  const source = [entry('', 'dir'), entry('a-renamed', 'dir'), entry('a-renamed/x'), entry('a-renamed/y'), entry('b')];
  assert.deepEqual(await marks(base, source), ['path a', 'tree a-renamed']);
});

test('a file turned directory is a tree; a directory turned file a path', async () => {
  const source = [entry('', 'dir'), entry('a'), entry('b', 'dir'), entry('b/z')];
  assert.deepEqual(await marks(base, source), ['path a', 'tree b']);
});

test('what the record does not know, or the scan could not read, is sent whole', async () => {
  const record = [entry('', 'dir'), unknownEntry(Buffer.from('a')), entry('b')];
  assert.deepEqual(await marks(record, base), ['tree a']);
  assert.deepEqual(await marks(base, [entry('', 'dir'), unknownEntry(Buffer.from('a')), entry('b')]), ['tree a']);
});

test('a forgotten path the source no longer has is still sent (deleted on the target)', async () => {
  assert.deepEqual(await marks([...base, unknownEntry(Buffer.from('gone'))], base), ['path gone']);
});

test('a difference past the limit is given up (a full sync is cheaper)', async () => {
  const many = Array.from({ length: 20 }, (_, i) => entry(`n${i}`));
  assert.equal(await marks(base, [...base, ...many], 10), undefined);
});

test('names that sort around the slash keep subtrees together ("a" < "a/x" < "a-b")', async () => {
  const source = [...base, entry('a-b'), entry('a.b', 'dir'), entry('a.b/c')];
  assert.deepEqual(await marks(base, source), ['path a-b', 'tree a.b']);
});

test('a record of many chunks, with entries of the longest paths across the chunk boundaries, reads back whole', async () => {
  // Paths of 1 to 4096 bytes: about 8 MiB, eight chunks, entries cut at every boundary.
  const long = (i: number): string => `d${i % 7}/${String(i).padStart(4, '0')}${'x'.repeat((i * 997) % 4090)}`.slice(0, 4096);
  const entries = [entry('', 'dir'), ...Array.from({ length: 7 }, (_, d) => entry(`d${d}`, 'dir')), ...Array.from({ length: 4000 }, (_, i) => entry(long(i)))];
  const reader = await stream(entries);
  const read: string[] = [];
  for (const c = reader.cursor(); !c.done; c.next()) read.push(decodeEntry(c.bytes, c.at)!.entry.path.toString());
  await reader.close();
  assert.deepEqual(read, entries.map((e) => e.path).sort(comparePaths).map(String));
  const changed = entries.map((e, i) => (i === 2500 ? { ...e, size: 5n } : e));
  assert.deepEqual(await marks(entries, changed, 10), [`path ${long(2500 - 8)}`]);
});
