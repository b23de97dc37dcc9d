import { test } from 'node:test';
import assert from 'node:assert/strict';
import PQueue from 'p-queue';
import { silentLogger } from '../../src/log/logger.js';
import { HostQueue, type BatchResult, type TransferPort } from '../../src/sync/host-queue.js';
import { PathSet } from '../../src/sync/path-set.js';
import { waitFor } from '../helpers/wait.js';

type Call = { kind: 'full' } | { kind: 'batch'; paths: string[]; trees: string[] } | { kind: 'move'; from: string; to: string };

/** A transport whose every run waits until the test settles it. */
class FakeTransport implements TransferPort {
  readonly calls: Call[] = [];
  private readonly open: Array<(result: BatchResult) => void> = [];
  moveResult = true;
  running = 0;

  fullSync(): Promise<BatchResult> {
    this.calls.push({ kind: 'full' });
    return this.wait();
  }

  transfer(batch: { paths: Buffer[]; trees: Buffer[] }): Promise<BatchResult> {
    const names = (list: Buffer[]): string[] => list.map((p) => p.toString()).sort();
    this.calls.push({ kind: 'batch', paths: names(batch.paths), trees: names(batch.trees) });
    return this.wait();
  }

  async remoteMove(from: Buffer, to: Buffer): Promise<boolean> {
    this.calls.push({ kind: 'move', from: from.toString(), to: to.toString() });
    return this.moveResult;
  }

  /** Settles the oldest running call. */
  finish(outcome: BatchResult['outcome'] = 'ok', exitCode: number | null = outcome === 'ok' ? 0 : 23): void {
    this.finishWith({ outcome, exitCode, files: 1, deleted: 0, durationMs: 1, message: outcome });
  }

  /** Settles the newest running call (one started beside an older one). */
  finishNewest(): void {
    const settle = this.open.pop();
    assert.ok(settle, 'no rsync running');
    settle({ outcome: 'ok', exitCode: 0, files: 1, deleted: 0, durationMs: 1, message: 'ok' });
  }

  finishWith(result: BatchResult): void {
    const settle = this.open.shift();
    assert.ok(settle, 'no rsync running');
    settle(result);
  }

  get waiting(): number {
    return this.open.length;
  }

  private wait(): Promise<BatchResult> {
    this.running += 1;
    return new Promise((resolve) => this.open.push((result) => {
      this.running -= 1;
      resolve(result);
    }));
  }
}

function marks(...paths: string[]): PathSet {
  const set = new PathSet();
  for (const p of paths) set.add(Buffer.from(p.replace(/\/$/, '')), p.endsWith('/') ? 'tree' : 'path');
  return set;
}

function host(transport: TransferPort, options: { limiter?: PQueue; maxPending?: number; name?: string } = {}): HostQueue {
  return new HostQueue({
    name: options.name ?? 'h1',
    transport,
    limiter: options.limiter ?? new PQueue({ concurrency: 4 }),
    backoff: { baseMs: 5, capMs: 20, jitter: 0 },
    maxPending: options.maxPending ?? 1000,
    logger: silentLogger,
  });
}

async function started(t: { after(fn: () => void): void }, transport: FakeTransport, q: HostQueue): Promise<void> {
  t.after(() => q.stop());
  q.start();
  await waitFor(() => transport.waiting === 1, { what: 'the full sync to start' });
}

/** Started, with its first full sync done. */
async function synced(t: { after(fn: () => void): void }, transport: FakeTransport, q: HostQueue): Promise<void> {
  await started(t, transport, q);
  transport.finish();
  await q.whenSettled();
}

test('a host starts with a full sync and gets, after it, what changed during it', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await started(t, transport, q);
  q.add(marks('during'));
  transport.finish();
  await waitFor(() => transport.waiting === 1);
  assert.deepEqual(transport.calls, [{ kind: 'full' }, { kind: 'batch', paths: ['during'], trees: [] }]);
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().state, 'idle');
});

test('one rsync per host at a time: the next batch accumulates while one runs', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('a'));
  await waitFor(() => transport.waiting === 1);
  q.add(marks('b'));
  q.add(marks('c'));
  assert.equal(transport.running, 1);
  transport.finish();
  await waitFor(() => transport.calls.length === 3);
  assert.deepEqual(transport.calls[2], { kind: 'batch', paths: ['b', 'c'], trees: [] });
  transport.finish();
  await q.whenSettled();
});

test('a failed batch returns to the pending set and is retried after a backoff', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('x'));
  await waitFor(() => transport.waiting === 1);
  q.add(marks('y'));
  transport.finish('retry', 255);
  await waitFor(() => transport.waiting === 1, { what: 'the retry' });
  assert.deepEqual(transport.calls[2], { kind: 'batch', paths: ['x', 'y'], trees: [] });
  assert.equal(q.status().counters.failures, 1);
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().consecutiveFailures, 0);
});

test('a backlog left by a failure is regrouped before its retry; a batch after a success is not', async (t) => {
  const transport = new FakeTransport();
  // Stands for the engine's: a directory with marked files is sent whole.
  const regroup = (set: PathSet): void => { for (const { path } of set.crowdedDirectories(2)) set.add(path, 'tree'); };
  const q = new HostQueue({ name: 'h', transport, limiter: new PQueue({ concurrency: 1 }), backoff: { baseMs: 5, capMs: 20, jitter: 0 }, maxPending: 100, regroup, logger: silentLogger });
  await synced(t, transport, q);
  q.add(marks('d/a', 'd/b'));
  await waitFor(() => transport.waiting === 1);
  q.add(marks('d/c'));
  transport.finish('retry', 255);
  await waitFor(() => transport.waiting === 1, { what: 'the retry' });
  transport.finish();
  q.add(marks('e/a', 'e/b'));
  await waitFor(() => transport.calls.length === 4 && transport.waiting === 1, { what: 'the next batch' });
  transport.finish();
  await q.whenSettled();
  assert.deepEqual(transport.calls.slice(1), [
    { kind: 'batch', paths: ['d/a', 'd/b'], trees: [] },
    { kind: 'batch', paths: [], trees: ['d'] },
    { kind: 'batch', paths: ['e/a', 'e/b'], trees: [] },
  ]);
});

test('a backlog of several releases, gathered while a batch ran, is regrouped; one release is not', async (t) => {
  const transport = new FakeTransport();
  const regroup = (set: PathSet): void => { for (const { path } of set.crowdedDirectories(2)) set.add(path, 'tree'); };
  const q = new HostQueue({ name: 'h', transport, limiter: new PQueue({ concurrency: 1 }), backoff: { baseMs: 5, capMs: 20, jitter: 0 }, maxPending: 100, regroup, logger: silentLogger });
  await synced(t, transport, q);
  q.add(marks('x'));
  await waitFor(() => transport.waiting === 1);
  q.add(marks('d/a'));
  q.add(marks('d/b'));
  transport.finish();
  await waitFor(() => transport.calls.length === 3 && transport.waiting === 1, { what: 'the backlog' });
  q.add(marks('e/a', 'e/b'));
  transport.finish();
  await waitFor(() => transport.calls.length === 4 && transport.waiting === 1, { what: 'the next batch' });
  transport.finish();
  await q.whenSettled();
  assert.deepEqual(transport.calls.slice(1), [
    { kind: 'batch', paths: ['x'], trees: [] },
    { kind: 'batch', paths: [], trees: ['d'] },
    { kind: 'batch', paths: ['e/a', 'e/b'], trees: [] },
  ]);
});

test('a host that cannot be reached is reported down, with its last error', async (t) => {
  const transport = new FakeTransport();
  const q = new HostQueue({ name: 'h', transport, limiter: new PQueue({ concurrency: 1 }), backoff: { baseMs: 60_000, capMs: 60_000, jitter: 0 }, maxPending: 10, logger: silentLogger });
  await started(t, transport, q);
  transport.finish('retry', 255);
  await waitFor(() => q.status().state === 'down');
  assert.equal(q.status().lastError, 'retry');
  assert.equal(q.status().fullSyncPending, true);
});

test('an unknown exit status is fatal for that batch only: no crash, and a later retry', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('f'));
  await waitFor(() => transport.waiting === 1);
  transport.finish('fatal', 99);
  await waitFor(() => transport.waiting === 1, { what: 'the retry after the cap' });
  assert.deepEqual(transport.calls[2], { kind: 'batch', paths: ['f'], trees: [] });
  transport.finish();
  await q.whenSettled();
});

test('a transport that throws is a failed batch, not a crash', async (t) => {
  let calls = 0;
  const transport: TransferPort = {
    fullSync: async () => {
      calls += 1;
      if (calls === 1) throw new Error('spawn rsync ENOENT');
      return { outcome: 'ok', exitCode: 0, files: 0, deleted: 0, durationMs: 0, message: '' };
    },
    transfer: async () => ({ outcome: 'ok', exitCode: 0, files: 0, deleted: 0, durationMs: 0, message: '' }),
    remoteMove: async () => true,
  };
  const q = host(transport);
  t.after(() => q.stop());
  q.start();
  await q.whenSettled();
  assert.equal(calls, 2);
  assert.equal(q.status().counters.failures, 1);
});

test('a backlog past its bound collapses into one full sync', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport, { maxPending: 3 });
  await synced(t, transport, q);
  q.add(marks('a'));
  await waitFor(() => transport.waiting === 1);
  transport.finish('retry', 255);
  q.add(marks('b', 'c', 'd', 'e'));
  assert.equal(q.status().fullSyncPending, true);
  assert.equal(q.status().pending, 0);
  assert.equal(q.status().counters.collapses, 1);
  await waitFor(() => transport.waiting === 1);
  assert.deepEqual(transport.calls.at(-1), { kind: 'full' });
  transport.finish();
  await q.whenSettled();
});

test('the global limiter bounds rsyncs across hosts, and a stuck host holds back no other', async (t) => {
  const limiter = new PQueue({ concurrency: 2 });
  const slow = new FakeTransport();
  const fast = new FakeTransport();
  const a = host(slow, { limiter, name: 'slow' });
  const b = host(fast, { limiter, name: 'fast' });
  await started(t, slow, a);
  await started(t, fast, b);
  fast.finish();
  b.add(marks('one'));
  await waitFor(() => fast.waiting === 1);
  fast.finish();
  await b.whenSettled();
  assert.equal(slow.waiting, 1, 'the slow host is still on its first sync');
  slow.finish();
  await a.whenSettled();
});

test('remote moves: waiting marks follow the renamed directory, the move runs before them', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('x'));
  await waitFor(() => transport.waiting === 1);
  q.add(marks('old/new-file'));
  q.move(Buffer.from('old'), Buffer.from('renamed'));
  transport.finish();
  await waitFor(() => transport.waiting === 1);
  assert.deepEqual(transport.calls.slice(2), [
    { kind: 'move', from: 'old', to: 'renamed' },
    { kind: 'batch', paths: [], trees: ['renamed'] },
  ]);
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().counters.remoteMoves, 1);
});

test('remote moves: what the running batch sends under the old name is sent again under the new one', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('d/f'));
  await waitFor(() => transport.waiting === 1);
  q.move(Buffer.from('d'), Buffer.from('e'));
  transport.finish();
  await waitFor(() => transport.waiting === 1);
  assert.deepEqual(transport.calls.slice(2), [{ kind: 'move', from: 'd', to: 'e' }, { kind: 'batch', paths: [], trees: ['e'] }]);
  transport.finish();
  await q.whenSettled();
});

test('remote moves: a change still to be sent above the new name goes first; the move is sent, not replayed', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('x'));
  await waitFor(() => transport.waiting === 1);
  q.add(marks('d/')); // a symlink on the target, a directory on the source now
  q.move(Buffer.from('y'), Buffer.from('d/.ssh'));
  transport.finish();
  await waitFor(() => transport.waiting === 1);
  assert.deepEqual(transport.calls.slice(2), [{ kind: 'batch', paths: ['y'], trees: ['d'] }]);
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().counters.remoteMoves, 0);
  assert.equal(q.status().counters.remoteMoveFallbacks, 1);
});

test('remote moves: a change still to be sent above the old name, put back by a failed batch, goes first', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('a'));
  await waitFor(() => transport.waiting === 1);
  q.move(Buffer.from('a/b'), Buffer.from('c'));
  transport.finish('retry');
  await waitFor(() => transport.waiting === 1, { what: 'the retry' });
  assert.deepEqual(transport.calls.slice(2), [{ kind: 'batch', paths: ['a', 'a/b'], trees: ['c'] }]);
  transport.finish();
  await q.whenSettled();
});

test('remote moves: a failed move falls back to sending the new name whole', async (t) => {
  const transport = new FakeTransport();
  transport.moveResult = false;
  const q = host(transport);
  await synced(t, transport, q);
  q.move(Buffer.from('a'), Buffer.from('b'));
  await waitFor(() => transport.waiting === 1);
  assert.deepEqual(transport.calls.slice(1), [{ kind: 'move', from: 'a', to: 'b' }, { kind: 'batch', paths: ['a'], trees: ['b'] }]);
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().counters.remoteMoveFallbacks, 1);
});

test('remote moves: a directory the target does not have yet is sent, not moved', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  await synced(t, transport, q);
  q.add(marks('x'));
  await waitFor(() => transport.waiting === 1);
  q.add(marks('fresh/'));
  q.move(Buffer.from('fresh'), Buffer.from('moved'));
  transport.finish();
  await waitFor(() => transport.waiting === 1);
  assert.deepEqual(transport.calls.slice(2), [{ kind: 'batch', paths: ['fresh'], trees: ['moved'] }]);
  transport.finish();
  await q.whenSettled();
});

test('whenSettled tries a host in backoff again at once', async (t) => {
  const transport = new FakeTransport();
  const q = new HostQueue({ name: 'h', transport, limiter: new PQueue({ concurrency: 1 }), backoff: { baseMs: 60_000, capMs: 60_000, jitter: 0 }, maxPending: 10, logger: silentLogger });
  await started(t, transport, q);
  transport.finish('retry', 255);
  await waitFor(() => q.status().state === 'down');
  const settled = q.whenSettled();
  await waitFor(() => transport.waiting === 1);
  transport.finish();
  await settled;
  assert.equal(q.status().state, 'idle');
});

test('a batch listener that throws does not wedge the host', async (t) => {
  const transport = new FakeTransport();
  const q = host(transport);
  q.on('batch', () => { throw new Error('listener bug'); });
  await synced(t, transport, q);
  q.add(marks('after'));
  await waitFor(() => transport.waiting === 1);
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().counters.batches, 2);
});

test('a fatal outcome gets one quick retry, then waits the longest delay when it repeats', async (t) => {
  const transport = new FakeTransport();
  const q = new HostQueue({ name: 'h', transport, limiter: new PQueue({ concurrency: 1 }), backoff: { baseMs: 5, capMs: 60_000, jitter: 0 }, maxPending: 10, logger: silentLogger });
  await started(t, transport, q);
  transport.finish('fatal', 2);
  await waitFor(() => transport.waiting === 1, { what: 'the quick retry' });
  transport.finish('fatal', 2);
  await waitFor(() => q.status().nextRetryAt !== null);
  assert.ok(q.status().nextRetryAt! - Date.now() > 30_000, 'the second fatal failure waits the cap');
  assert.equal(q.status().fullSyncPending, true);
});

/** A transport whose host is down until `back` is set: its probe answers only then. */
class ProbedTransport extends FakeTransport {
  back = false;
  probes = 0;
  async reachability(): Promise<() => Promise<boolean>> {
    return async () => {
      this.probes += 1;
      return this.back;
    };
  }
}

function slowBackoffHost(transport: TransferPort): HostQueue {
  return new HostQueue({ name: 'h', transport, limiter: new PQueue({ concurrency: 1 }), backoff: { baseMs: 60_000, capMs: 60_000, jitter: 0 }, maxPending: 10, logger: silentLogger });
}

test('an unreachable host is probed while down and retried the moment it answers, not after its backoff', async (t) => {
  const transport = new ProbedTransport();
  const q = slowBackoffHost(transport);
  await started(t, transport, q);
  transport.finish('retry', 255);
  await waitFor(() => transport.probes >= 2, { what: 'the host to be probed' });
  assert.equal(q.status().state, 'down');
  assert.equal(transport.waiting, 0);
  transport.back = true;
  await waitFor(() => transport.waiting === 1, { what: 'the retry once the host answers', timeoutMs: 2000 });
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().state, 'idle');
});

test('a host that answers its probe and still fails waits out the backoff', async (t) => {
  const transport = new ProbedTransport();
  transport.back = true;
  const q = slowBackoffHost(transport);
  await started(t, transport, q);
  transport.finish('retry', 255);
  await waitFor(() => q.status().nextRetryAt !== null, { what: 'a backoff to be scheduled' });
  assert.equal(transport.probes, 1);
  assert.equal(transport.waiting, 0);
  assert.equal(q.status().state, 'down');
});

test('a failure with a lasting cause waits the longest delay and shows the cause and its fix', async (t) => {
  const cause = { kind: 'read-only' as const, summary: 'the target filesystem is read-only', fix: 'remount it' };
  const transport = new ProbedTransport();
  const q = new HostQueue({ name: 'h', transport, limiter: new PQueue({ concurrency: 1 }), backoff: { baseMs: 1, capMs: 60_000, jitter: 0 }, maxPending: 10, logger: silentLogger });
  await started(t, transport, q);
  transport.finishWith({ outcome: 'retry', exitCode: 23, files: 0, deleted: 0, durationMs: 1, message: 'partial', said: 'rsync: mkstemp failed: Read-only file system (30)', cause });
  await waitFor(() => q.status().nextRetryAt !== null, { what: 'the retry to be scheduled' });
  const status = q.status();
  assert.ok(status.nextRetryAt! - Date.now() > 30_000, 'retried slowly');
  assert.deepEqual(status.lastCause, cause);
  assert.equal(transport.probes, 0, 'a host that said why it fails is not probed');
});

/** A host started with a startup difference, sent: its verification now runs. */
async function verifying(t: { after(fn: () => void): void }, transport: FakeTransport): Promise<HostQueue> {
  const q = host(transport);
  t.after(() => q.stop());
  q.start(marks('changed-while-down'));
  await waitFor(() => transport.waiting === 1, { what: 'the difference to be sent' });
  assert.deepEqual(transport.calls, [{ kind: 'batch', paths: ['changed-while-down'], trees: [] }]);
  transport.finish();
  await waitFor(() => transport.calls.length === 2, { what: 'the verification to start' });
  assert.deepEqual(transport.calls[1], { kind: 'full' });
  return q;
}

test('a startup difference goes first; its verification runs beside later batches, which go again after it', async (t) => {
  const transport = new FakeTransport();
  const q = await verifying(t, transport);
  assert.equal(q.status().fullSyncPending, true);
  q.add(marks('live'));
  await waitFor(() => transport.waiting === 2, { what: 'a live batch beside the verification' });
  assert.deepEqual(transport.calls[2], { kind: 'batch', paths: ['live'], trees: [] });
  transport.finishNewest();
  await waitFor(() => transport.waiting === 1, { what: 'the live batch to end' });
  assert.equal(q.settled, false, 'not settled while the verification runs');
  transport.finish();
  await waitFor(() => transport.calls.length === 4, { what: 'what went during the verification to go again' });
  assert.deepEqual(transport.calls[3], { kind: 'batch', paths: ['live'], trees: [] });
  transport.finish();
  await q.whenSettled();
  assert.equal(q.status().fullSyncPending, false);
});

test('a rename during the verification is sent the plain way, not replayed', async (t) => {
  const transport = new FakeTransport();
  const q = await verifying(t, transport);
  q.move(Buffer.from('old'), Buffer.from('new'));
  await waitFor(() => transport.waiting === 2, { what: 'the rename as a batch' });
  assert.deepEqual(transport.calls[2], { kind: 'batch', paths: ['old'], trees: ['new'] });
  assert.equal(transport.calls.some((c) => c.kind === 'move'), false);
});
