// The inotify fd must not leak into the rsync/ssh children the agent spawns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { tempDir } from '../helpers/tmp.js';
import { watchTree } from './harness.js';

const inotifyFds = (proc: string): string[] =>
  readdirSync(`${proc}/fd`).filter((fd) => {
    try {
      return readlinkSync(`${proc}/fd/${fd}`) === 'anon_inode:inotify';
    } catch {
      return false;
    }
  });

test('a child process does not inherit the watch tree\'s inotify fd', async (t) => {
  const before = inotifyFds('/proc/self').length;
  await watchTree(t, { roots: [tempDir(t)] });
  assert.equal(inotifyFds('/proc/self').length, before + 1, 'the tree holds an inotify fd');
  const listing = execFileSync('ls', ['-l', '/proc/self/fd'], { encoding: 'utf8' });
  assert.doesNotMatch(listing, /inotify/);
});
