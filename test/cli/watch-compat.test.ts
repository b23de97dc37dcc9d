// `inosync watch` beside Debian's inotifywait on the same workload with the same options: the same lines
// where inotifywait is right, a superset where it is known to miss (files written right after mkdir -p).
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { sideBySide, startMonitor, withoutListingNoise, type Monitor } from './watch-harness.js';

const END = 'zz-end';

/** The lines up to the sentinel's first (one tool may have printed more of its events than the other). */
const untilEnd = (lines: string[]): string[] => lines.slice(0, lines.findIndex((l) => l.includes(END)) + 1);

/** Creates the sentinel file and waits until both tools printed it: everything before it is in their output. */
async function finish(root: string, ...monitors: Monitor[]): Promise<void> {
  writeFileSync(join(root, END), '');
  await Promise.all(monitors.map((m) => m.waitStdout(END)));
  await Promise.all(monitors.map((m) => m.stop()));
}

test('default output, every event: the same lines for create, write, chmod, rename and delete', async (t) => {
  const root = tempDir(t);
  const { ours, theirs } = await sideBySide(t, ['-m', root]);
  writeFileSync(join(root, 'a b'), 'x');
  appendFileSync(join(root, 'a b'), 'y');
  chmodSync(join(root, 'a b'), 0o600);
  renameSync(join(root, 'a b'), join(root, 'c'));
  readFileSync(join(root, 'c'));
  unlinkSync(join(root, 'c'));
  mkdirSync(join(root, 'dir'));
  rmdirSync(join(root, 'dir'));
  await finish(root, ours, theirs);
  assert.deepEqual(withoutListingNoise(untilEnd(ours.lines())), withoutListingNoise(untilEnd(theirs.lines())));
  assert.ok(ours.lines().includes(`${root}/ CLOSE_WRITE,CLOSE a b`));
  assert.ok(ours.lines().includes(`${root}/ CREATE,ISDIR dir`));
});

test("--format '%w%f %e' -r: the same lines in existing subdirectories, renamed ones included", async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'sub/deep'), { recursive: true });
  const args = ['-mr', '--format', '%w%f %e', '-e', 'create,modify,delete,moved_from,moved_to,attrib,close_write,delete_self', root];
  const { ours, theirs } = await sideBySide(t, args);
  writeFileSync(join(root, 'sub/deep/f'), 'x');
  renameSync(join(root, 'sub/deep/f'), join(root, 'sub/g'));
  renameSync(join(root, 'sub'), join(root, 'moved'));
  writeFileSync(join(root, 'moved/deep/h'), 'y');
  rmSync(join(root, 'moved/deep'), { recursive: true });
  await finish(root, ours, theirs);
  assert.deepEqual(untilEnd(ours.lines()), untilEnd(theirs.lines()));
  assert.ok(ours.lines().includes(`${root}/moved/deep/h CLOSE_WRITE,CLOSE`));
});

test('mkdir -p then immediate writes: inosync reports every file, a superset of inotifywait (which may miss them: its BUGS section)', async (t) => {
  const root = tempDir(t);
  const { ours, theirs } = await sideBySide(t, ['-mr', '--format', '%w%f %e', '-e', 'create,close_write', root]);
  for (let i = 0; i < 20; i++) {
    mkdirSync(join(root, `d${i}/a/b/c`), { recursive: true });
    writeFileSync(join(root, `d${i}/a/b/c/file`), 'x');
  }
  const expected = Array.from({ length: 20 }, (_, i) => [`${root}/d${i}/a/b/c/file CREATE`, `${root}/d${i}/a/b/c/file CLOSE_WRITE,CLOSE`]).flat();
  // A new directory's listing may come after later kernel events: wait for every expected line, not a sentinel.
  await waitFor(() => { const seen = new Set(ours.lines()); return expected.every((l) => seen.has(l)); }, { timeoutMs: 10_000, what: 'inosync to report every file' });
  await finish(root, ours, theirs);
  const ourLines = new Set(ours.lines());
  for (const line of untilEnd(theirs.lines()).slice(0, -1)) assert.ok(ourLines.has(line), `inotifywait printed "${line}", inosync did not`);
});

test('--csv: the same quoting of commas, quotes, spaces and newlines', async (t) => {
  const root = tempDir(t);
  const { ours, theirs } = await sideBySide(t, ['-m', '--csv', '-e', 'create,delete', root]);
  for (const name of ['plain', 'a,b', 'say "hi"', ' lead', 'trail ', 'new\nline']) {
    writeFileSync(join(root, name), '');
    unlinkSync(join(root, name));
  }
  await finish(root, ours, theirs);
  assert.deepEqual(ours.stdout, theirs.stdout);
  assert.match(ours.stdout.toString(), /,CREATE,"say ""hi"""\n/);
});

test("--format '%w%f%0' --no-newline: the same NUL-separated bytes, odd names included", async (t) => {
  const root = tempDir(t);
  const { ours, theirs } = await sideBySide(t, ['-m', '--format', '%w%f%0', '--no-newline', '-e', 'create', root]);
  for (const name of ['new\nline', '-rf --x', '*', Buffer.from([0x66, 0xff, 0x6f])]) writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name)]), '');
  await finish(root, ours, theirs);
  assert.deepEqual(ours.stdout, theirs.stdout);
  assert.ok(ours.stdout.includes(Buffer.concat([Buffer.from(`${root}/f`), Buffer.from([0xff]), Buffer.from('o\0')])));
});

test("--format with %T (--timefmt), %c (move cookie), %:e, %% and unknown conversions: the same bytes", async (t) => {
  const root = tempDir(t);
  const args = ['-m', '--timefmt', '%F', '--format', '%T|%w|%f|%:e|%c|%%|%q', '-e', 'create,moved_from,moved_to', root];
  const { ours, theirs } = await sideBySide(t, args);
  writeFileSync(join(root, 'a'), '');
  renameSync(join(root, 'a'), join(root, 'b'));
  await finish(root, ours, theirs);
  assert.deepEqual(ours.stdout, theirs.stdout);
  assert.match(ours.stdout.toString(), /^\d{4}-\d\d-\d\d\|.*\|a\|MOVED_FROM\|[0-9a-f]+\|%\|%q$/m);
});

test('-e filters, --exclude and --includei: the same lines', async (t) => {
  const root = tempDir(t);
  const runs = [
    ['-m', '-e', 'close_write', '-e', 'moved_to', root],
    ['-m', '--exclude', '\\.(swp|tmp)$', '-e', 'create', root],
    ['-m', '--includei', '(\\.TXT|zz-end)$', '-e', 'create,delete', root],
  ];
  const pairs = await Promise.all(runs.map((args) => sideBySide(t, args)));
  for (const name of ['a.txt', 'b.swp', 'c.TXT', 'd.tmp']) {
    writeFileSync(join(root, name), 'x');
    renameSync(join(root, name), join(root, `m-${name}`));
    unlinkSync(join(root, `m-${name}`));
  }
  writeFileSync(join(root, END), '');
  for (const { ours, theirs } of pairs) {
    await Promise.all([ours.waitStdout(END), theirs.waitStdout(END)]);
    await Promise.all([ours.stop(), theirs.stop()]);
    assert.deepEqual(ours.lines(), theirs.lines());
    assert.ok(ours.lines().length > 1);
  }
});

test('without -m: the first event is printed and ends the wait with 0; -t with no event ends it with 2', async (t) => {
  const root = tempDir(t);
  const { ours, theirs } = await sideBySide(t, ['-e', 'create', root]);
  writeFileSync(join(root, 'first'), '');
  const [a, b] = await Promise.all([ours.exited, theirs.exited]);
  assert.deepEqual([a.code, b.code], [0, 0]);
  assert.deepEqual(ours.lines(), theirs.lines());
  const quiet = await sideBySide(t, ['-t', '1', '-e', 'delete', root]);
  const [c, d] = await Promise.all([quiet.ours.exited, quiet.theirs.exited]);
  assert.deepEqual([c.code, d.code], [2, 2]);
});

test('watching every event, inosync\'s own listing of the tree is not an event: `DIR -t 1` times out (2) as inotifywait does', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'sub/deep'), { recursive: true });
  const ours = startMonitor(t, 'inosync', ['-r', '-t', '1', root]);
  assert.deepEqual([(await ours.exited).code, ours.stdout.toString()], [2, '']);
});

test('without -m, an event not asked for that ends the watch (delete_self) ends the wait with 1, silently', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'gone');
  mkdirSync(dir);
  const { ours, theirs } = await sideBySide(t, ['-e', 'modify', dir]);
  rmdirSync(dir);
  const [a, b] = await Promise.all([ours.exited, theirs.exited]);
  assert.deepEqual([a.code, b.code], [1, 1]);
  assert.deepEqual([ours.stdout.length, theirs.stdout.length], [0, 0]);
});

test('-m -t: the timeout counts from the last event; exit 2', async (t) => {
  const root = tempDir(t);
  const { ours, theirs } = await sideBySide(t, ['-m', '-t', '4', '-e', 'create', root]); // 4 s: both start before either gives up, on a loaded machine too
  writeFileSync(join(root, 'x'), '');
  const [a, b] = await Promise.all([ours.exited, theirs.exited]);
  assert.deepEqual([a.code, b.code], [2, 2]);
  assert.deepEqual(ours.lines(), theirs.lines());
});

test('non-recursive: events in subdirectories are not reported, events on them as entries are', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'sub'));
  const { ours, theirs } = await sideBySide(t, ['-m', '-e', 'create,attrib', root]);
  writeFileSync(join(root, 'sub/unseen'), '');
  chmodSync(join(root, 'sub'), 0o700);
  await finish(root, ours, theirs);
  assert.deepEqual(ours.lines(), theirs.lines());
  assert.deepEqual(ours.lines(), [`${root}/ ATTRIB,ISDIR sub`, `${root}/ CREATE ${END}`]);
});

test('a single file: %w is the file, %f empty; MODIFY, ATTRIB, CLOSE_WRITE, DELETE_SELF as inotifywait prints them', async (t) => {
  const root = tempDir(t);
  const file = join(root, 'watched.log');
  writeFileSync(file, '');
  const { ours, theirs } = await sideBySide(t, ['-m', '-e', 'modify,attrib,close_write,delete_self', file]);
  appendFileSync(file, 'line\n');
  chmodSync(file, 0o600);
  // The kernel merges an event identical to the one still unread before it: unlink's ATTRIB waits for chmod's.
  await Promise.all([ours.waitStdout('ATTRIB'), theirs.waitStdout('ATTRIB')]);
  unlinkSync(file);
  await Promise.all([ours.waitStdout('DELETE_SELF'), theirs.waitStdout('DELETE_SELF')]);
  assert.deepEqual(ours.lines(), theirs.lines());
  assert.deepEqual(ours.lines(), [`${file} MODIFY `, `${file} CLOSE_WRITE,CLOSE `, `${file} ATTRIB `, `${file} ATTRIB `, `${file} DELETE_SELF `]);
  // inotifywait -m then waits forever with nothing watched; inosync says so and exits 1.
  assert.equal((await ours.exited).code, 1);
});

test('-o FILE: events appended to the file (what was there kept), nothing on stdout', async (t) => {
  const root = tempDir(t);
  const watched = join(root, 'w');
  mkdirSync(watched);
  const ourLog = join(root, 'ours.log');
  const theirLog = join(root, 'theirs.log');
  writeFileSync(ourLog, 'before\n');
  writeFileSync(theirLog, 'before\n');
  const ours = startMonitor(t, 'inosync', ['-m', '-e', 'create', '-o', ourLog, watched]);
  const theirs = startMonitor(t, 'inotifywait', ['-m', '-e', 'create', '-o', theirLog, watched]);
  await Promise.all([ours.waitStderr('Watches established.'), theirs.waitStderr('Watches established.')]);
  writeFileSync(join(watched, 'one'), '');
  writeFileSync(join(watched, END), '');
  await waitFor(() => readFileSync(ourLog, 'utf8').includes(END) && readFileSync(theirLog, 'utf8').includes(END), { what: 'both logs to hold the sentinel' });
  await Promise.all([ours.stop(), theirs.stop()]);
  assert.equal(readFileSync(ourLog, 'utf8'), readFileSync(theirLog, 'utf8'));
  assert.equal(readFileSync(ourLog, 'utf8'), `before\n${watched}/ CREATE one\n${watched}/ CREATE ${END}\n`);
  assert.equal(ours.stdout.length, 0);
});
