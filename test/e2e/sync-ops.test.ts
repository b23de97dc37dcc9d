// One agent mirrors a source to a local directory and two loopback ssh hosts; each step changes the source
// one way and waits until all three targets equal it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, closeSync, openSync, writeSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { converged, hostileNames, makeMirror, startAgent } from './harness.js';

test('inosync sync mirrors every kind of change to local and ssh targets', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 2 });
  const { src, outside } = mirror;
  writeFileSync(join(src, 'before.txt'), 'there before the agent started\n');
  await startAgent(t, mirror);
  await converged(mirror);

  await t.test('create, modify, append, truncate', async () => {
    writeFileSync(join(src, 'a.txt'), 'one\n');
    await converged(mirror);
    writeFileSync(join(src, 'a.txt'), 'two, longer\n');
    appendFileSync(join(src, 'a.txt'), 'appended\n');
    await converged(mirror);
    truncateSync(join(src, 'a.txt'), 3);
    await converged(mirror);
  });

  await t.test('a file held open and written is sent without waiting for its close', async () => {
    const fd = openSync(join(src, 'app.log'), 'w');
    try {
      writeSync(fd, 'line 1\n');
      await converged(mirror);
      writeSync(fd, 'line 2\n');
      await converged(mirror);
    } finally {
      closeSync(fd);
    }
  });

  await t.test('chmod of a file and of a directory', async () => {
    mkdirSync(join(src, 'perm'));
    writeFileSync(join(src, 'perm', 'x'), 'x');
    await converged(mirror);
    chmodSync(join(src, 'perm', 'x'), 0o751);
    chmodSync(join(src, 'perm'), 0o700);
    await converged(mirror);
  });

  await t.test('symlinks (dangling too) and hard links', async () => {
    symlinkSync('a.txt', join(src, 'link'));
    symlinkSync('/nowhere/at/all', join(src, 'dangling'));
    writeFileSync(join(src, 'h1'), 'linked');
    linkSync(join(src, 'h1'), join(src, 'h2'));
    await converged(mirror);
  });

  await t.test('a hard link to a file the targets already have, then a write through the new name', async () => {
    mkdirSync(join(src, 'elsewhere'));
    linkSync(join(src, 'h1'), join(src, 'elsewhere', 'h3'));
    await converged(mirror);
    appendFileSync(join(src, 'elsewhere', 'h3'), ' and more');
    await converged(mirror);
  });

  await t.test('mkdir -p then immediate writes', async () => {
    mkdirSync(join(src, 'p/q/r/s'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(src, 'p/q/r/s', `f${i}`), `${i}`);
    writeFileSync(join(src, 'p/q', 'mid'), 'mid');
    await converged(mirror);
  });

  await t.test('a directory renamed while it holds one name of a hard-linked file: the names stay linked', async () => {
    mkdirSync(join(src, 'linkdir'));
    writeFileSync(join(src, 'linkdir', 'inside'), 'one inode, two names');
    linkSync(join(src, 'linkdir', 'inside'), join(src, 'outside-name'));
    await converged(mirror);
    renameSync(join(src, 'linkdir'), join(src, 'linkdir-renamed'));
    await converged(mirror);
  });

  await t.test('rename of a file and of a populated directory', async () => {
    renameSync(join(src, 'a.txt'), join(src, 'b.txt'));
    renameSync(join(src, 'p'), join(src, 'p2'));
    await converged(mirror);
    writeFileSync(join(src, 'p2/q/r/after-rename'), 'new path');
    await converged(mirror);
  });

  await t.test('move into and out of the tree', async () => {
    mkdirSync(join(outside, 'incoming/deep'), { recursive: true });
    writeFileSync(join(outside, 'incoming/deep/file'), 'from outside');
    renameSync(join(outside, 'incoming'), join(src, 'incoming'));
    await converged(mirror);
    renameSync(join(src, 'p2'), join(outside, 'gone'));
    await converged(mirror);
  });

  await t.test('rm -rf of a populated directory', async () => {
    mkdirSync(join(src, 'doomed/a/b'), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(src, 'doomed/a/b', `f${i}`), 'x');
    await converged(mirror);
    rmSync(join(src, 'doomed'), { recursive: true });
    await converged(mirror);
  });

  await t.test('create-then-delete races, also over a file the targets already have', async () => {
    for (let i = 0; i < 50; i++) {
      writeFileSync(join(src, `race${i}`), 'brief');
      unlinkSync(join(src, `race${i}`));
    }
    mkdirSync(join(src, 'briefdir/sub'), { recursive: true });
    writeFileSync(join(src, 'briefdir/sub/f'), 'x');
    rmSync(join(src, 'briefdir'), { recursive: true });
    // before.txt is on every target: deleted, made again, deleted again in one window, it must go.
    unlinkSync(join(src, 'before.txt'));
    writeFileSync(join(src, 'before.txt'), 'again');
    unlinkSync(join(src, 'before.txt'));
    await converged(mirror);
    for (const dir of mirror.dirs) assert.equal(existsSync(join(dir, 'before.txt')), false);
  });

  await t.test('a storm of files into a directory the targets have (sent whole), with deletes among them', async () => {
    mkdirSync(join(src, 'crowd'));
    for (let i = 0; i < 5; i++) writeFileSync(join(src, 'crowd', `old${i}`), 'old');
    await converged(mirror);
    for (let i = 0; i < 200; i++) writeFileSync(join(src, 'crowd', `new${i}`), `new ${i}`);
    rmSync(join(src, 'crowd', 'old0'));
    writeFileSync(join(src, 'crowd', 'old1'), 'rewritten');
    await converged(mirror);
  });

  await t.test('odd names: spaces, newline, leading dash, *, $(...), non-UTF-8, 255 bytes', () => hostileNames(mirror));
});
