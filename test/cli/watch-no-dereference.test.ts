// `inosync watch -P/--no-dereference` and symlinks given as paths, beside Debian's inotifywait 3.22 on the same
// command lines: with -P the link itself is watched (IN_DONT_FOLLOW), so `touch -h` on it is an event and a
// write to its target is not; without -P the link is followed. The first two tests are inotify-tools' own
// `inotifywait-no-dereference-*` tests, run against both tools.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, utimesSync, lutimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';
import { startMonitor, waitWatching, type Monitor, type Tool } from './watch-harness.js';

const TOOLS: readonly Tool[] = ['inosync', 'inotifywait'];
// Each tool's -t: both must be watching, and the change made, before the first of them gives up (a loaded
// machine took over 2 s to start the second).
const WAIT_SEC = '5';

interface Outcome {
  code: number | null;
  lines: string[];
}

/**
 * Starts both tools on `args` in `cwd`, waits until each holds its watch, does `act`, and returns what each
 * printed and its exit status (the command lines carry -t, so both end by themselves).
 */
/** `watches`: how many each tool holds once armed (all of them, or an act may come before a watch it needs). */
async function bothOn(t: CleanupContext, cwd: string, args: readonly string[], act: () => void, watches = 1): Promise<Record<Tool, Outcome>> {
  const monitors = TOOLS.map((tool) => startMonitor(t, tool, args, { cwd }));
  for (const monitor of monitors) await waitWatching(monitor, watches);
  act();
  const ended = await Promise.all(monitors.map(async (m: Monitor) => ({ code: (await m.exited).code, lines: m.lines() })));
  return { inosync: ended[0] as Outcome, inotifywait: ended[1] as Outcome } as Record<Tool, Outcome>;
}

/** A file `test` and a symlink `test-symlink` to it, as inotify-tools' tests make them. */
function fileAndLink(t: CleanupContext): string {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'test'), '');
  symlinkSync('test', join(dir, 'test-symlink'));
  return dir;
}

const touch = (path: string): void => utimesSync(path, new Date(), new Date());
const touchLink = (path: string): void => lutimesSync(path, new Date(), new Date());

test('-P ignores a write to the symlinked file: both time out with status 2 and print nothing (no-dereference-ignore-symlinked-file)', async (t) => {
  const dir = fileAndLink(t);
  const got = await bothOn(t, dir, ['--quiet', '--no-dereference', '--timeout', WAIT_SEC, 'test-symlink'], () => touch(join(dir, 'test')));
  assert.deepEqual(got.inosync, got.inotifywait);
  assert.deepEqual(got.inosync, { code: 2, lines: [] });
});

test('-P responds to touch -h on the symlink itself: status 0 and the same line (no-dereference-respond-to-symlink-event)', async (t) => {
  const dir = fileAndLink(t);
  const got = await bothOn(t, dir, ['--quiet', '--no-dereference', '--timeout', WAIT_SEC, 'test-symlink'], () => touchLink(join(dir, 'test-symlink')));
  assert.deepEqual(got.inosync, got.inotifywait);
  assert.deepEqual(got.inosync, { code: 0, lines: ['test-symlink ATTRIB '] });
});

test('without -P the symlink is followed: a change to its target is reported under the link\'s name', async (t) => {
  const dir = fileAndLink(t);
  const got = await bothOn(t, dir, ['-q', '-e', 'attrib', '-t', WAIT_SEC, 'test-symlink'], () => touch(join(dir, 'test')));
  assert.deepEqual(got.inosync, got.inotifywait);
  assert.deepEqual(got.inosync, { code: 0, lines: ['test-symlink ATTRIB '] });
});

test('without -P touch -h on the symlink is not an event of the file it leads to', async (t) => {
  const dir = fileAndLink(t);
  const got = await bothOn(t, dir, ['-q', '-t', WAIT_SEC, 'test-symlink'], () => touchLink(join(dir, 'test-symlink')));
  assert.deepEqual(got.inosync, got.inotifywait);
  assert.deepEqual(got.inosync, { code: 2, lines: [] });
});

/** A directory `dir` and a symlink `dir-link` to it. */
function dirAndLink(t: CleanupContext): string {
  const root = tempDir(t);
  mkdirSync(join(root, 'dir/sub'), { recursive: true });
  symlinkSync('dir', join(root, 'dir-link'));
  return root;
}

const FORMAT = ['--format', '%w|%f|%e'];

test('a symlink to a directory, without -P or -r: followed, and %w is the link as given, with no slash added', async (t) => {
  const root = dirAndLink(t);
  // -e create: each tool's listing of the directory is an OPEN the other would stop at.
  const got = await bothOn(t, root, ['-q', '-t', WAIT_SEC, '-e', 'create', ...FORMAT, 'dir-link'], () => writeFileSync(join(root, 'dir/new'), ''));
  assert.deepEqual(got.inosync, got.inotifywait);
  assert.deepEqual(got.inosync, { code: 0, lines: ['dir-link|new|CREATE'] });
});

test('a symlink to a directory with -P: the link is watched, not the directory (touch -h is the event)', async (t) => {
  const root = dirAndLink(t);
  const got = await bothOn(t, root, ['-q', '-P', '-m', '-t', WAIT_SEC, ...FORMAT, 'dir-link'], () => {
    writeFileSync(join(root, 'dir/ignored'), '');
    touchLink(join(root, 'dir-link'));
  });
  assert.deepEqual(got.inosync, got.inotifywait);
  assert.deepEqual(got.inosync, { code: 2, lines: ['dir-link||ATTRIB'] });
});

test('a symlink to a directory with -r -P: walked as inotifywait walks it (opendir follows), subdirectories too', async (t) => {
  const root = dirAndLink(t);
  const got = await bothOn(t, root, ['-q', '-r', '-P', '-m', '-t', WAIT_SEC, ...FORMAT, '-e', 'create,attrib', 'dir-link'], () => {
    writeFileSync(join(root, 'dir/top'), '');
    writeFileSync(join(root, 'dir/sub/deep'), '');
    touchLink(join(root, 'dir-link'));
  }, 2);
  assert.deepEqual(got.inosync, got.inotifywait);
  assert.deepEqual(got.inosync, { code: 2, lines: ['dir-link/|top|CREATE', 'dir-link/sub/|deep|CREATE'] });
});
