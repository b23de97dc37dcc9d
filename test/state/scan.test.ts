// The local scan of the source: record order, excludes, bytes for names, racy stats left unknown, whether any
// entry may hold an xattr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanTree } from '../../src/state/scan.js';
import { comparePaths, decodeEntry, type Entry } from '../../src/state/entry.js';
import { excludeFn } from '../../src/sync/exclude.js';
import { tempDir } from '../helpers/tmp.js';
import { addAcl, noXattrTools, setXattr } from '../helpers/xattrs.js';

async function collect(root: string, patterns: string[] = [], now?: () => bigint, besideSince?: bigint): Promise<Entry[]> {
  const exclude = excludeFn(patterns);
  const entries: Entry[] = [];
  await scanTree({ root, ...(exclude ? { exclude } : {}), ...(now ? { now } : {}), ...(besideSince === undefined ? {} : { besideSince }) }, (bytes, end, count) => {
    const before = entries.length;
    for (let at = 0, decoded; (decoded = decodeEntry(bytes.subarray(0, end), at)) !== undefined; at = decoded.next) entries.push(decoded.entry);
    assert.equal(entries.length - before, count, 'the count handed on is the entries encoded');
  });
  return entries;
}

const LATER = (): bigint => BigInt(Date.now() + 3_600_000) * 1_000_000n;

test('entries come in record order: a directory, then all below it, then its next sibling', async (t) => {
  const root = tempDir(t);
  for (const dir of ['a', 'a/x', 'a-b', 'a.c']) mkdirSync(join(root, dir));
  for (const file of ['a/x/f', 'a/z', 'a-b/g', 'b']) writeFileSync(join(root, file), file);
  const paths = (await collect(root, [], LATER)).map((e) => e.path.toString());
  assert.deepEqual(paths, ['', 'a', 'a/x', 'a/x/f', 'a/z', 'a-b', 'a-b/g', 'a.c', 'b']);
  const sorted = [...paths].sort((x, y) => comparePaths(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(paths, sorted);
});

test('excluded names are left out with all below them; names are bytes', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'cache'));
  writeFileSync(join(root, 'cache', 'big'), '');
  writeFileSync(join(root, 'x.tmp'), '');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x6e, 0xff])]), '');
  const entries = await collect(root, ['cache/', '*.tmp'], LATER);
  assert.deepEqual(entries.map((e) => e.path), [Buffer.alloc(0), Buffer.from([0x6e, 0xff])]);
});

test('a file changed within the racy window is recorded unknown, an older one with its stat', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'dir'));
  writeFileSync(join(root, 'dir', 'below'), 'z');
  writeFileSync(join(root, 'fresh'), 'x');
  writeFileSync(join(root, 'old'), 'y');
  utimesSync(join(root, 'old'), new Date(1_000_000), new Date(1_000_000));
  // The clock as the scan sees it: 1 ms after the newest of those writes (however slow this machine is).
  const newest = [join(root, 'fresh'), join(root, 'dir')].map((p) => statSync(p, { bigint: true }).mtimeNs).reduce((a, b) => (a > b ? a : b));
  const byName = new Map((await collect(root, [], () => newest + 1_000_000n)).map((e) => [e.path.toString(), e]));
  assert.equal(byName.get('fresh')?.kind, 'unknown');
  assert.equal(byName.get('dir')?.kind, 'dir', 'a racy directory is still walked');
  assert.equal(byName.get('dir')?.mtimeNs, -1n, '...with an mtime that matches nothing');
  assert.ok(byName.has('dir/below'));
  // ctime (set now by utimes) is racy too: only the clock moved forward makes it a plain file.
  const later = new Map((await collect(root, [], LATER)).map((e) => [e.path.toString(), e]));
  assert.equal(later.get('old')?.kind, 'file');
  assert.equal(later.get('old')?.mtimeNs, 1_000_000_000_000n);
});

test('a stat is racy by the clock as read before its own listing, not a later one (listings are fetched ahead)', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'd'));
  writeFileSync(join(root, 'd', 'below'), 'z');
  writeFileSync(join(root, 'fresh'), 'x');
  const fresh = statSync(join(root, 'fresh'), { bigint: true }).mtimeNs;
  // The root's listing reads the clock first; 'd' (listed on its own, before 'fresh' is encoded) an hour later.
  let reads = 0;
  const byName = new Map((await collect(root, [], () => (reads++ === 0 ? fresh + 1_000_000n : LATER()))).map((e) => [e.path.toString(), e]));
  assert.ok(reads >= 2, 'the subdirectory was listed by a call of its own');
  assert.equal(byName.get('fresh')?.kind, 'unknown');
  assert.equal(byName.get('d/below')?.kind, 'file');
});

test('beside an rsync, what changed since it started is unknown: a file, and a directory with its subtree unwalked', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'dir'));
  mkdirSync(join(root, 'dir', 'sub'));
  writeFileSync(join(root, 'dir', 'sub', 'f'), 'z');
  writeFileSync(join(root, 'file'), 'x');
  const newest = [join(root, 'file'), join(root, 'dir')].map((p) => statSync(p, { bigint: true }).ctimeNs).reduce((a, b) => (a > b ? a : b));

  // rsync started just before the newest change (the clock read after it does not matter).
  const started = await collect(root, [], LATER, newest - 1_000_000n);
  // ...or an hour after all of them: nothing changed since.
  const before = await collect(root, [], () => newest, newest + 3_600_000_000_000n);

  assert.deepEqual(started.map((e) => [e.path.toString(), e.kind]), [['', 'dir'], ['dir', 'unknown'], ['file', 'unknown']]);
  assert.deepEqual(before.map((e) => [e.path.toString(), e.kind]), [['', 'dir'], ['dir', 'dir'], ['dir/sub', 'dir'], ['dir/sub/f', 'file'], ['file', 'file']]);
});

test('the scan tells whether any entry may hold an xattr or an ACL: deep in the tree, on the root, never through a symlink', { skip: noXattrTools }, async (t) => {
  const xattrsOfTree = async (root: string): Promise<boolean> => (await scanTree({ root }, () => undefined)).xattrs;
  const root = tempDir(t);
  const outside = tempDir(t);
  mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
  for (const file of ['a/b/c/deep', 'a/f', 'g']) writeFileSync(join(root, file), file);
  writeFileSync(join(outside, 'target'), 'x');
  setXattr(join(outside, 'target'), 'user.mark', 'outside');
  symlinkSync(join(outside, 'target'), join(root, 'a', 'link'));
  assert.equal(await xattrsOfTree(root), false, 'none, and the symlink to a file that has one is not followed');
  setXattr(join(root, 'a', 'b', 'c', 'deep'), 'user.mark', '1');
  assert.equal(await xattrsOfTree(root), true, 'a file deep in the tree');

  const acl = tempDir(t);
  mkdirSync(join(acl, 'd'));
  addAcl(join(acl, 'd'), 'u:nobody:rx');
  assert.equal(await xattrsOfTree(acl), true, 'a directory with an ACL');

  const top = tempDir(t);
  writeFileSync(join(top, 'f'), '');
  setXattr(top, 'user.mark', 'root');
  assert.equal(await xattrsOfTree(top), true, 'the root itself');
});
