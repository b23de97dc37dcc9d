import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants as F, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { coalescing, descriptorSink, type Sink } from '../../src/monitor/sinks.js';
import { tempDir } from '../helpers/tmp.js';

/** A stream that keeps what it is given. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => { chunks.push(chunk); done(); } });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

/** Both ends of a FIFO, opened non-blocking, closed when the test ends. */
function nonBlockingPipe(t: TestContext): { reader: number; writer: number } {
  const fifo = join(tempDir(t), 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const reader = openSync(fifo, F.O_RDONLY | F.O_NONBLOCK);
  const writer = openSync(fifo, F.O_WRONLY | F.O_NONBLOCK);
  t.after(() => { closeSync(writer); try { closeSync(reader); } catch { /* closed by the test */ } });
  return { reader, writer };
}

/** Writes to a non-blocking descriptor until the pipe is full. */
function fill(fd: number): number {
  const block = Buffer.alloc(4096, 'x');
  let total = 0;
  for (;;) {
    try {
      total += writeSync(fd, block);
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'EAGAIN');
      return total;
    }
  }
}

test('descriptorSink writes each message to the descriptor before it returns', (t) => {
  const file = join(tempDir(t), 'messages');
  const fd = openSync(file, 'w');
  t.after(() => closeSync(fd));
  const sink = descriptorSink(fd, () => assert.fail('no stream is needed for a descriptor that takes the write'));
  sink.write('Setting up watches.\n');
  sink.write(Buffer.from('Watches established.\n'));
  assert.equal(readFileSync(file, 'utf8'), 'Setting up watches.\nWatches established.\n');
});

test('descriptorSink hands a full non-blocking descriptor\'s messages to the stream, in order', (t) => {
  const { reader, writer } = nonBlockingPipe(t);
  const filled = fill(writer);
  const queue = collector();
  const sink = descriptorSink(writer, () => queue.stream);
  sink.write('first\n');
  // Room in the pipe again: later messages still queue behind the first.
  readSync(reader, Buffer.alloc(filled));
  sink.write('second\n');
  assert.equal(queue.text(), 'first\nsecond\n');
});

test('descriptorSink drops a message whose reader has left (EPIPE), without throwing', (t) => {
  const { reader, writer } = nonBlockingPipe(t);
  closeSync(reader);
  const sink = descriptorSink(writer, () => assert.fail('EPIPE is not a reason to queue'));
  assert.doesNotThrow(() => sink.write('nobody reads this\n'));
});

/** A sink that records each write it is given. */
function recorder(): { sink: Sink; writes: string[]; closed: () => boolean } {
  const writes: string[] = [];
  let closed = false;
  return { sink: { write: (data) => { writes.push(data.toString()); }, close: async () => { closed = true; } }, writes, closed: () => closed };
}

test('coalescing hands the writes of one pass to its sink as one write, once the pass is over', async () => {
  const inner = recorder();
  const sink = coalescing(inner.sink);
  sink.write('a\n');
  sink.write(Buffer.from('b\n'));
  assert.deepEqual(inner.writes, [], 'nothing is written during the pass');
  await Promise.resolve();
  assert.deepEqual(inner.writes, ['a\nb\n']);
  sink.write('c\n');
  await Promise.resolve();
  assert.deepEqual(inner.writes, ['a\nb\n', 'c\n'], 'the next pass is a write of its own');
});

test('coalescing writes what a pass still holds when closed, then closes its sink', async () => {
  const inner = recorder();
  const sink = coalescing(inner.sink);
  sink.write('last\n');
  await sink.close();
  assert.deepEqual(inner.writes, ['last\n']);
  assert.ok(inner.closed());
});
