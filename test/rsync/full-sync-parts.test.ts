// A full sync split into rsyncs side by side (src/rsync/full-sync-plan.ts) with the real rsync to a local
// target: deletes as exact as one `rsync -r --delete`, in every part and at every shallow level.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Transport, type TransportOptions } from '../../src/rsync/transport.js';
import { pino } from 'pino';
import { MAX_PART_ENTRIES, planFullSync } from '../../src/rsync/full-sync-plan.js';
import { LinkFinder, type LinkedNames } from '../../src/rsync/hard-links.js';
import { scanTree } from '../../src/state/scan.js';
import { parseTarget } from '../../src/rsync/target.js';
import { ProgressTracker } from '../../src/status/progress.js';
import { compareTrees } from '../helpers/compare.js';
import { makeTree, tempDir, type TreeEntry } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const TOPS = ['t0', 't1', 't2', 't3', 't4', 't5'];
const SUBS = ['s0', 's1', 's2'];

/** Six top-level directories of three subdirectories each, a file at every level: wide enough to split. */
function wideTree(root: string, extra: readonly TreeEntry[] = []): void {
  makeTree(root, [
    { path: 'top-file', content: 'root' },
    ...TOPS.flatMap((top) => [
      { path: `${top}/f`, content: top },
      ...SUBS.flatMap((sub) => [{ path: `${top}/${sub}/f`, content: sub }, { path: `${top}/${sub}/deep/g`, content: 'g' }]),
    ]),
    ...extra,
  ]);
}

function setup(t: TestContext, options: Partial<TransportOptions> = {}): { src: string; dst: string; transport: Transport } {
  const src = tempDir(t);
  const dst = tempDir(t);
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, rsyncOptions: ['-a'], fullSyncProcs: 4, cores: 4, ...options });
  t.after(() => transport.stop());
  return { src, dst, transport };
}

test('a wide tree is split so that every directory is listed shallow or lies in exactly one part', async (t) => {
  const src = tempDir(t);
  wideTree(src);
  const plan = await planFullSync(src, { procs: 4, filtered: false, links: [] });
  assert.ok(plan, 'the tree is wide enough to split');
  assert.deepEqual(plan.shallow.map(String).sort(), ['./', ...TOPS.map((top) => `${top}/`)]);
  const inParts = plan.parts.flat().map(String).sort();
  assert.deepEqual(inParts, TOPS.flatMap((top) => SUBS.map((sub) => `${top}/${sub}`)).sort());
  assert.ok(plan.parts.length >= 4, `${plan.parts.length} parts`);
});

test('with filters only the root is shallow: each top-level directory is judged as one run judges it', async (t) => {
  const src = tempDir(t);
  wideTree(src);
  const plan = await planFullSync(src, { procs: 4, filtered: true, links: [] });
  assert.ok(plan);
  assert.deepEqual(plan.shallow.map(String), ['./']);
  assert.deepEqual(plan.parts.flat().map(String).sort(), TOPS);
});

test('a tree the scan counted large is cut into more parts, so that no run holds more than its share of the file list', async (t) => {
  const src = tempDir(t);
  wideTree(src);
  const subtrees = TOPS.length * SUBS.length;
  const fixed = await planFullSync(src, { procs: 2, filtered: false, links: [] });
  assert.equal(fixed?.parts.length, 8, 'two runs, four groups each');
  const cut = await planFullSync(src, { procs: 2, filtered: false, links: [], entries: subtrees * MAX_PART_ENTRIES });
  assert.equal(cut?.parts.length, subtrees, 'a part per subtree');
  assert.deepEqual(cut.parts.flat().map(String).sort(), fixed!.parts.flat().map(String).sort(), 'the same subtrees, only cut finer');
  const small = await planFullSync(src, { procs: 2, filtered: false, links: [], entries: MAX_PART_ENTRIES });
  assert.equal(small?.parts.length, 8, 'a small tree keeps the fixed number of parts');
});

test('a narrow tree goes as one run', async (t) => {
  const src = tempDir(t);
  makeTree(src, [{ path: 'a/b/f', content: 'x' }, { path: 'c/f', content: 'y' }]);
  assert.equal(await planFullSync(src, { procs: 4, filtered: false, links: [] }), undefined);
});

test('a split full sync with deletes in every part converges', async (t) => {
  const { src, dst, transport } = setup(t);
  wideTree(src, [{ path: 'was-dir', content: 'a file now' }, { path: 'new-top/f', content: 'new' }]);
  wideTree(dst, [
    { path: 'gone-top/x/y', content: 'old' }, // a top-level directory gone from the source
    { path: 'gone-file', content: 'old' },
    { path: 'was-dir/inner/z', content: 'a directory on the target' }, // replaced by a file at the top
    ...TOPS.flatMap((top) => [
      { path: `${top}/stale`, content: 'shallow level' },
      { path: `${top}/stale-dir/q`, content: 'shallow level' },
      ...SUBS.flatMap((sub) => [{ path: `${top}/${sub}/stale`, content: 'part' }, { path: `${top}/${sub}/deep/gone/h`, content: 'part' }]),
    ]),
  ]);

  const result = await transport.fullSync();

  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(await compareTrees(src, dst), []);
  assert.ok(lstatSync(join(dst, 'was-dir')).isFile());
});

test('a split full sync respects excludes: excluded entries are neither sent nor deleted', async (t) => {
  const { src, dst, transport } = setup(t, { excludes: ['*.log', 'cache/'] });
  wideTree(src, [{ path: 't1/s2/skip.log', content: 'source log' }, { path: 't3/cache/c', content: 'source cache' }, { path: 'top.log', content: 'x' }]);
  wideTree(dst, [{ path: 't2/s0/kept.log', content: 'target log' }, { path: 't4/cache/k', content: 'target cache' }, { path: 't5/stale', content: 'deleted' }]);

  const result = await transport.fullSync();

  assert.equal(result.outcome, 'ok', result.message);
  assert.ok(!existsSync(join(dst, 't1/s2/skip.log')) && !existsSync(join(dst, 't3/cache')) && !existsSync(join(dst, 'top.log')), 'excluded source entries are not sent');
  assert.ok(existsSync(join(dst, 't2/s0/kept.log')) && existsSync(join(dst, 't4/cache/k')), 'excluded target entries are not deleted');
  assert.ok(!existsSync(join(dst, 't5/stale')));
  const excluded = (p: Buffer): boolean => /(^|\/)cache$|\.log$/.test(p.toString());
  assert.deepEqual(await compareTrees(src, dst, { ignore: excluded }), []);
});

test('a split full sync of a target whose delete mode is never deletes nothing and sends everything', async (t) => {
  const { src, dst, transport } = setup(t, { deletes: 'never' });
  wideTree(src, [{ path: 'new-top/f', content: 'new' }]);
  wideTree(dst, [{ path: 'gone-top/x', content: 'kept' }, { path: 't0/stale', content: 'kept' }, { path: 't3/s1/deep/stale', content: 'kept' }]);

  const result = await transport.fullSync();

  assert.equal(result.outcome, 'ok', result.message);
  for (const kept of ['gone-top/x', 't0/stale', 't3/s1/deep/stale']) assert.ok(existsSync(join(dst, kept)), `${kept} stays`);
  const extra = new Set(['gone-top', 't0/stale', 't3/s1/deep/stale']);
  assert.deepEqual(await compareTrees(src, dst, { ignore: (p) => extra.has(p.toString()) || p.toString().startsWith('gone-top/') }), []);
  assert.equal(result.deleted, 0);
});

test('with -H and no scan to say where the hard links are, the tree goes whole and links stay links', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  wideTree(src);
  linkSync(join(src, 't0/s0/f'), join(src, 't5/s2/linked'));
  const { transport, lines } = linkKeeping(t, src, dst);

  const result = await transport.fullSync();

  assert.equal(result.outcome, 'ok', result.message);
  assert.ok(!lines.some((line) => line.msg === SPLIT), 'one run');
  assert.equal(statSync(join(dst, 't0/s0/f')).ino, statSync(join(dst, 't5/s2/linked')).ino);
  assert.deepEqual(await compareTrees(src, dst, { hardLinks: true }), []);
});

/** Names linked within a subtree, across subtrees and top-level directories (three names), and within shallow directories. */
const LINKS: ReadonlyArray<readonly string[]> = [
  ['t0/s0/f', 't5/s2/linked'],
  ['t1/s0/f', 't1/s0/deep/again'],
  ['t4/s1/f', 't4/s2/three', 't0/s1/three'],
  ['top-file', 'top-link'],
  ['t2/f', 't3/f-link'],
];

function linkAll(root: string, links: ReadonlyArray<readonly string[]> = LINKS): void {
  for (const [first, ...others] of links) for (const other of others) linkSync(join(root, first!), join(root, other));
}

/** What the state record's scan before a full sync finds of the hard links (src/state/recorder.ts). */
async function scannedLinks(root: string): Promise<LinkedNames> {
  const finder = new LinkFinder();
  await scanTree({ root, linked: (path, dev, ino) => finder.add(path, dev, ino) }, () => undefined);
  return finder.found()!;
}

test('with -H and the scan\'s finding, a split full sync keeps hard links within and across parts, over stale separate copies', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  wideTree(src);
  linkAll(src);
  // The target holds every linked name as a file of its own, and stale entries to delete.
  wideTree(dst, [...LINKS.flatMap(([, ...others]) => others.map((path) => ({ path, content: 'a copy' }))), { path: 't3/s1/stale', content: 'old' }, { path: 'gone/x', content: 'old' }]);
  const { transport, lines } = linkKeeping(t, src, dst);

  const result = await transport.fullSync(undefined, ['start'], { links: await scannedLinks(src) });

  assert.equal(result.outcome, 'ok', result.message);
  assert.ok(lines.some((line) => line.msg === SPLIT), 'the tree was split');
  for (const [first, ...others] of LINKS) for (const other of others) assert.equal(statSync(join(dst, other)).ino, statSync(join(dst, first!)).ino, `${other} is linked to ${first}`);
  assert.deepEqual(await compareTrees(src, dst, { hardLinks: true }), []);
});

test('an inode named in a shallow directory and inside a part keeps the tree whole, links and all', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  wideTree(src);
  linkAll(src, [['top-file', 't2/s1/linked-from-top']]);
  const links = await scannedLinks(src);
  assert.equal(await planFullSync(src, { procs: 4, filtered: false, links }), undefined);
  const { transport, lines } = linkKeeping(t, src, dst);

  const result = await transport.fullSync(undefined, ['start'], { links });

  assert.equal(result.outcome, 'ok', result.message);
  assert.ok(!lines.some((line) => line.msg === SPLIT), 'one run');
  assert.deepEqual(await compareTrees(src, dst, { hardLinks: true }), []);
});

const SPLIT = 'full sync split into parts';

/** A transport with -H (as the default options have) whose log lines are kept. */
function linkKeeping(t: TestContext, src: string, dst: string): { transport: Transport; lines: Array<{ msg?: string }> } {
  const lines: Array<{ msg?: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg?: string }); } });
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, rsyncOptions: ['-a', '-H'], fullSyncProcs: 4, cores: 4, logger });
  t.after(() => transport.stop());
  return { transport, lines };
}

test('the standby of the next batch starts once a full sync has ended, not beside it', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  wideTree(src);
  const lines: Array<{ msg?: string; args?: string[] }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg?: string; args?: string[] }); } });
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, rsyncOptions: ['-a'], fullSyncProcs: 4, cores: 4, logger });
  t.after(() => transport.stop());
  const standbys = (): number => lines.filter((line) => line.msg === 'rsync' && line.args?.includes('--delete-missing-args') === true).length;

  const result = await transport.fullSync(undefined, ['start']);

  assert.equal(result.outcome, 'ok', result.message);
  assert.ok(lines.some((line) => line.msg === SPLIT), 'several runs');
  assert.equal(standbys(), 0, 'no standby while the full sync ran');
  await waitFor(() => standbys() === 1, { timeoutMs: 10_000 });
});

test('a level of more subtrees than are weighed one by one is shared out by count, every subtree in one part', async (t) => {
  const src = tempDir(t);
  const subtrees = ['a', 'b'].flatMap((top) => Array.from({ length: 520 }, (_, i) => `${top}/s${i}`));
  makeTree(src, subtrees.map((path) => ({ path: `${path}/f`, content: 'x' })));
  const plan = await planFullSync(src, { procs: 4, filtered: false, links: [] });
  assert.ok(plan);
  assert.deepEqual(plan.shallow.map(String).sort(), ['./', 'a/', 'b/']);
  assert.deepEqual(plan.parts.flat().map(String).sort(), [...subtrees].sort());
  assert.equal(plan.parts.length, 16);
  for (const part of plan.parts) assert.ok(part.length >= 65 && part.length <= 66, `${part.length} subtrees in a part`);
});

test('a verification (serial) of a wide tree with no count from a scan goes as one run, deletes as exact', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  wideTree(src);
  wideTree(dst, [{ path: 'gone-top/x/y', content: 'old' }, ...TOPS.map((top) => ({ path: `${top}/s0/stale`, content: 'old' }))]);
  const { transport, lines } = linkKeeping(t, src, dst);

  const result = await transport.fullSync(undefined, ['start'], { links: await scannedLinks(src), serial: true });

  assert.equal(result.outcome, 'ok', result.message);
  assert.ok(!lines.some((line) => line.msg === SPLIT), 'one run');
  assert.deepEqual(await compareTrees(src, dst, { hardLinks: true }), []);
});

test('a verification of a tree counted large is cut only as its size needs, however many procs', async (t) => {
  const src = tempDir(t);
  wideTree(src);

  const small = await planFullSync(src, { procs: 4, filtered: false, links: [], serial: true, entries: MAX_PART_ENTRIES });
  const large = await planFullSync(src, { procs: 4, filtered: false, links: [], serial: true, entries: 3 * MAX_PART_ENTRIES });

  assert.equal(small, undefined);
  assert.ok(large);
  assert.equal(large.parts.length, 3);
  const listed = large.parts.flat().map(String);
  assert.equal(new Set(listed).size, listed.length, 'each subtree in one part');
});

/**
 * A wide tree to a local target that holds it with a stale file in each top's `sub`, by a transport on a
 * machine of `cores` cores whose split lines are kept.
 */
function onCores(t: TestContext, cores: number, sub: string): { src: string; dst: string; transport: Transport; splits: () => Array<{ parts?: number; atOnce?: number }> } {
  const src = tempDir(t);
  const dst = tempDir(t);
  wideTree(src);
  wideTree(dst, TOPS.map((top) => ({ path: `${top}/${sub}/stale`, content: 'old' })));
  const lines: Array<{ msg?: string; parts?: number; atOnce?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg?: string }); } });
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, rsyncOptions: ['-a'], fullSyncProcs: 4, cores, logger });
  t.after(() => transport.stop());
  return { src, dst, transport, splits: () => lines.filter((line) => line.msg === SPLIT) };
}

test('a local target\'s split full sync runs no more parts side by side than there are cores', async (t) => {
  const { src, dst, transport, splits } = onCores(t, 2, 's1');

  const result = await transport.fullSync(undefined, ['start']);

  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(splits().map((s) => [s.parts, s.atOnce]), [[8, 2]], 'two runs at once, four groups each, as --full-sync-procs 2 would make');
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('on one core a local target\'s full sync is cut only as its size needs, the parts one after another', async (t) => {
  const { src, dst, transport, splits } = onCores(t, 1, 's2');

  const result = await transport.fullSync(undefined, ['start'], { entries: 3 * MAX_PART_ENTRIES });

  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(splits().map((s) => [s.parts, s.atOnce]), [[3, 1]]);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('parts side by side report into the pass by their item lines, without a progress line per file sent', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  wideTree(src);
  const lines: Array<{ msg?: string; args?: string[]; checked?: number; sent?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg?: string }); } });
  const progress = new ProgressTracker({ logger, fields: {} });
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, rsyncOptions: ['-a'], fullSyncProcs: 2, cores: 2, logger, progress });
  t.after(() => transport.stop());

  const result = await transport.fullSync(undefined, ['start']);

  assert.equal(result.outcome, 'ok', result.message);
  const runs = lines.filter((line) => line.msg === 'rsync');
  assert.ok(runs.length > 2, 'split into parts');
  assert.deepEqual(runs.filter((line) => line.args?.includes('--info=progress2')), []);
  const done = lines.find((line) => line.msg?.startsWith('full sync done') === true);
  const files = 1 + TOPS.length * (1 + SUBS.length * 2);
  assert.equal(done?.sent, files, 'every file sent counted');
  assert.ok((done?.checked ?? 0) >= files, `${done?.checked} checked`);
  assert.deepEqual(await compareTrees(src, dst), []);
});
