// The native inotify binding: syscalls, errors, batching and the life of the fd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anyHardLinked, constants, decodeRecords, openInotify, type InotifySyscallError, type NativeInotify, type RawEvent } from '../../src/inotify/binding.js';
import { bytesPath, oddNames, tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { runModule } from '../helpers/run-module.js';
import { cannotLowerQueueLimit, withQueueLimit } from '../helpers/queue-limit.js';

const bindingUrl = new URL('../../src/inotify/binding.js', import.meta.url).href;

/** An instance that records every batch it is handed, closed when the test ends. */
function recorder(t: CleanupContext): { inotify: NativeInotify; batches: RawEvent[][]; events: () => RawEvent[] } {
  const batches: RawEvent[][] = [];
  const inotify = openInotify((events) => batches.push(events));
  t.after(() => inotify.close());
  return { inotify, batches, events: () => batches.flat() };
}

test('addWatch takes a string path and reports events with the name as bytes', async (t) => {
  const dir = tempDir(t);
  const { inotify, events } = recorder(t);
  const wd = inotify.addWatch(dir, constants.IN_CREATE);
  assert.ok(wd > 0);
  writeFileSync(join(dir, 'a file'), '');
  const event = await waitFor(() => events().find((e) => e.mask & constants.IN_CREATE), { what: 'IN_CREATE' });
  assert.deepEqual(event, { wd, mask: constants.IN_CREATE, cookie: 0, name: Buffer.from('a file') });
});

test('addWatch takes a Buffer path holding bytes that are not UTF-8, and names keep those bytes', async (t) => {
  const dir = bytesPath(tempDir(t), oddNames.nonUtf8);
  mkdirSync(dir);
  const { inotify, events } = recorder(t);
  const wd = inotify.addWatch(dir, constants.IN_CREATE);
  writeFileSync(bytesPath(dir, oddNames.nonUtf8), '');
  const event = await waitFor(() => events().find((e) => e.wd === wd), { what: 'IN_CREATE in the non-UTF-8 directory' });
  assert.deepEqual(event.name, oddNames.nonUtf8);
});

test('addWatch errors carry code, errno, syscall and the path as bytes', (t) => {
  const missing = bytesPath(tempDir(t), oddNames.nonUtf8, 'missing');
  const { inotify } = recorder(t);
  assert.throws(() => inotify.addWatch(missing, constants.IN_ALL_EVENTS), (error: InotifySyscallError) => {
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.errno, -2);
    assert.equal(error.syscall, 'inotify_add_watch');
    assert.deepEqual(error.path, missing);
    return true;
  });
});

test('addWatch refuses a path with a NUL byte instead of watching a shorter path', (t) => {
  const { inotify } = recorder(t);
  assert.throws(() => inotify.addWatch(`${tempDir(t)}\0/x`, constants.IN_ALL_EVENTS), TypeError);
});

test('removeWatch returns true for a live wd, then IN_IGNORED arrives, and false for an unknown wd', async (t) => {
  const dir = tempDir(t);
  const { inotify, events } = recorder(t);
  const wd = inotify.addWatch(dir, constants.IN_ALL_EVENTS);
  assert.equal(inotify.removeWatch(wd), true);
  await waitFor(() => events().some((e) => e.wd === wd && e.mask & constants.IN_IGNORED), { what: 'IN_IGNORED' });
  assert.equal(inotify.removeWatch(wd), false);
  assert.equal(inotify.removeWatch(987_654), false);
});

test('the events of one drain arrive in one call', async (t) => {
  const dir = tempDir(t);
  const { inotify, batches, events } = recorder(t);
  inotify.addWatch(dir, constants.IN_CREATE);
  // Synchronous writes: every event is queued in the kernel before the loop polls the fd once.
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, `f${i}`), '');
  await waitFor(() => events().length >= 200, { what: '200 IN_CREATE events' });
  assert.equal(batches.length, 1);
});

test('close() stops delivery: a second instance sees the change, the closed one does not', async (t) => {
  const dir = tempDir(t);
  const closed = recorder(t);
  const witness = recorder(t);
  closed.inotify.addWatch(dir, constants.IN_CREATE);
  witness.inotify.addWatch(dir, constants.IN_CREATE);
  closed.inotify.close();
  writeFileSync(join(dir, 'after-close'), '');
  await waitFor(() => witness.events().length > 0, { what: 'the witness to see the change' });
  assert.deepEqual(closed.batches, []);
  assert.equal(closed.inotify.fd, -1);
  assert.throws(() => closed.inotify.addWatch(dir, constants.IN_CREATE), /closed/);
});

test('close() inside the callback ends delivery without a crash', async (t) => {
  const dir = tempDir(t);
  const batches: RawEvent[][] = [];
  const inotify = openInotify((events) => {
    batches.push(events);
    inotify.close();
  });
  inotify.addWatch(dir, constants.IN_CREATE);
  const witness = recorder(t);
  witness.inotify.addWatch(dir, constants.IN_CREATE);
  writeFileSync(join(dir, 'one'), '');
  await waitFor(() => batches.length === 1, { what: 'the first batch' });
  writeFileSync(join(dir, 'two'), '');
  await waitFor(() => witness.events().length === 2, { what: 'the witness to see both changes' });
  assert.equal(batches.length, 1);
});

test('after close() the process exits on its own', async () => {
  const { code, stderr } = await runModule(`
    import { openInotify, constants } from ${JSON.stringify(bindingUrl)};
    const inotify = openInotify(() => {});
    inotify.addWatch('/tmp', constants.IN_ALL_EVENTS);
    inotify.close();
  `);
  assert.equal(code, 0, stderr);
});

test('unref() lets the process exit while a watch is still open', async () => {
  const { code, stdout, stderr } = await runModule(`
    import { openInotify, constants } from ${JSON.stringify(bindingUrl)};
    const inotify = openInotify(() => {});
    inotify.addWatch('/tmp', constants.IN_ALL_EVENTS);
    inotify.unref();
    process.on('exit', () => console.log(inotify.fd >= 0 ? 'open' : 'closed'));
  `);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), 'open');
});

test('the inotify fd is not inherited by child processes (CLOEXEC)', (t) => {
  const { inotify } = recorder(t);
  assert.equal(readlinkSync(`/proc/self/fd/${inotify.fd}`), 'anon_inode:inotify');
  // The child lists its own fds once its exec is complete: no race with close-on-exec.
  const listing = execFileSync('ls', ['-l', '/proc/self/fd'], { encoding: 'utf8' });
  assert.ok(!listing.includes('anon_inode:inotify'), `child fds:\n${listing}`);
});

test('a real queue overflow arrives as an IN_Q_OVERFLOW record with wd -1', { skip: cannotLowerQueueLimit }, async (t) => {
  const dir = tempDir(t);
  const opened = withQueueLimit(16, () => recorder(t));
  opened.inotify.addWatch(dir, constants.IN_CREATE);
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, `f${i}`), '');
  const overflow = await waitFor(() => opened.events().find((e) => e.mask & constants.IN_Q_OVERFLOW), { what: 'IN_Q_OVERFLOW' });
  assert.equal(overflow.wd, -1);
  assert.ok(opened.events().length <= 17);
});

test('an exception thrown by the callback reaches uncaughtException, and later batches still come', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await runModule(`
    import { openInotify, constants } from ${JSON.stringify(bindingUrl)};
    import { writeFileSync } from 'node:fs';
    let caught = 0;
    process.on('uncaughtException', (error) => {
      console.log(error.message);
      if (++caught === 1) writeFileSync(${JSON.stringify(join(dir, 'second'))}, '');
      else inotify.close();
    });
    const inotify = openInotify(() => { throw new Error('thrown by the callback'); });
    inotify.addWatch(${JSON.stringify(dir)}, constants.IN_CREATE);
    writeFileSync(${JSON.stringify(join(dir, 'first'))}, '');
  `);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, 'thrown by the callback\nthrown by the callback\n');
});

test('worker threads that end with an instance open (terminated mid-delivery, or exiting) do not crash', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await runModule(`
    import { Worker } from 'node:worker_threads';
    for (const ending of ['terminate', 'exit', 'return']) {
      for (let k = 0; k < 4; k++) {
        const worker = new Worker(\`
          const { parentPort } = await import('node:worker_threads');
          const { openInotify, constants } = await import(${JSON.stringify(bindingUrl)});
          const { writeFileSync } = await import('node:fs');
          const inotify = openInotify(() => {});
          inotify.addWatch(${JSON.stringify(dir)}, constants.IN_ALL_EVENTS);
          for (let i = 0; i < 100; i++) writeFileSync(${JSON.stringify(dir)} + '/f' + (i % 5), 'x');
          if ('\${ending}' === 'exit') process.exit(0);
          if ('\${ending}' === 'return') inotify.unref();
          parentPort.postMessage('written');
        \`, { eval: true });
        if (ending === 'terminate') worker.once('message', () => worker.terminate());
        await new Promise((resolve) => worker.once('exit', resolve));
      }
    }
    console.log('done');
  `, 30_000);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), 'done');
});

test('closing instances while events pour in neither crashes nor leaks fds', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await runModule(`
    import { openInotify, constants } from ${JSON.stringify(bindingUrl)};
    import { writeFileSync, readdirSync, rmSync } from 'node:fs';
    const dir = ${JSON.stringify(dir)};
    const fdsBefore = readdirSync('/proc/self/fd').length;
    let rounds = 0;
    function round() {
      const inotify = openInotify(() => { if (Math.random() < 0.5) inotify.close(); });
      inotify.addWatch(dir, constants.IN_ALL_EVENTS);
      for (let i = 0; i < 50; i++) writeFileSync(dir + '/f' + (i % 7), String(i));
      setImmediate(() => {
        inotify.close();
        if (++rounds < 150) round();
        else console.log(readdirSync('/proc/self/fd').length - fdsBefore);
      });
    }
    round();
  `, 60_000);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), '0');
});

test('anyHardLinked says whether one of the paths is a regular file with more than one name', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'single'), '');
  writeFileSync(join(dir, 'linked'), '');
  mkdirSync(join(dir, 'sub'));
  const alone = [Buffer.from(join(dir, 'single')), Buffer.from(join(dir, 'sub')), Buffer.from(join(dir, 'gone'))];
  assert.equal(anyHardLinked(alone), false, 'a file with one name, a directory (several links) and a missing path');
  linkSync(join(dir, 'linked'), join(dir, 'other name'));
  assert.equal(anyHardLinked([...alone, Buffer.from(join(dir, 'linked'))]), true);
  assert.equal(anyHardLinked([]), false);
});

/** A struct inotify_event as the kernel writes it: the name NUL-padded to `len` bytes. */
function record(wd: number, mask: number, cookie: number, name: Buffer, len: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32LE(wd, 0);
  header.writeUInt32LE(mask, 4);
  header.writeUInt32LE(cookie, 8);
  header.writeUInt32LE(len, 12);
  const padded = Buffer.alloc(len);
  name.copy(padded);
  return Buffer.concat([header, padded]);
}

test('decodeRecords keeps each name\'s bytes exactly, without its NUL padding', () => {
  const odd = Buffer.from([0x2d, 0xff, 0x0a, 0x2a]);
  const drain = Buffer.concat([
    record(1, constants.IN_CREATE, 0, Buffer.from('abc'), 16),
    record(2, constants.IN_DELETE_SELF, 0, Buffer.alloc(0), 0),
    record(3, constants.IN_MOVED_FROM, 7, odd, 16),
    record(4, constants.IN_MODIFY, 0, Buffer.from('exactly-sixteen!'), 16),
  ]);
  const events = decodeRecords(drain);
  assert.deepEqual(events.map((e) => [e.wd, e.mask, e.cookie, e.name.toString('latin1')]), [
    [1, constants.IN_CREATE, 0, 'abc'],
    [2, constants.IN_DELETE_SELF, 0, ''],
    [3, constants.IN_MOVED_FROM, 7, odd.toString('latin1')],
    [4, constants.IN_MODIFY, 0, 'exactly-sixteen!'],
  ]);
});
