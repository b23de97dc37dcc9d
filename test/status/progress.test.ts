// Progress of long passes (src/status/progress.ts): what status shows, the estimate, and the log lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { emptyCounts } from '../../src/rsync/itemize.js';
import { estimateMs, ProgressTracker, readProgress2, type RunProgress } from '../../src/status/progress.js';
import { renderStatus } from '../../src/status/render.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import type { AgentStatus } from '../../src/status/types.js';

interface Line { msg: string; [key: string]: unknown }

/** A tracker on a clock the test moves, logging into `lines`. */
function tracker(everyMs = 10_000): { progress: ProgressTracker; lines: Line[]; clock: { now: number } } {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Line); } });
  const clock = { now: 1_000_000 };
  return { progress: new ProgressTracker({ logger, fields: { host: 'web2:/srv' }, everyMs, now: () => clock.now }), lines, clock };
}

const run = (): RunProgress => ({ counts: emptyCounts(), checked: 0, total: null });

test('the estimate is the entries left at the rate so far, and unknown without a rate or a total', () => {
  assert.equal(estimateMs(250, 1000, 5000), 15_000);
  assert.equal(estimateMs(1000, 1000, 5000), 0);
  assert.equal(estimateMs(1200, 1000, 5000), 0, 'a guessed total that was too small');
  assert.equal(estimateMs(0, 1000, 5000), null);
  assert.equal(estimateMs(250, null, 5000), null);
});

test('rsync\'s --info=progress2 output gives the entries it went through and the size of its file list', () => {
  const live = run();
  // Updates are \r-separated; a newline comes when a file is done.
  assert.equal(readProgress2(live, '\r   2,000   0%  0.00kB/s  0:00:00  \r   4,000   0%  1.91MB/s  0:00:00 (xfr#2, to-chk=1017/1021)'), true);
  assert.deepEqual([live.checked, live.total], [4, 1021]);
  assert.equal(readProgress2(live, 'created directory /backup/www'), false);
  assert.equal(readProgress2(live, '(xfr#1, to-chk=9/3)'), false, 'more left than listed is no count');
  assert.deepEqual([live.checked, live.total], [4, 1021]);
});

test('a full sync shows the scan\'s count, then rsync\'s live counts against its own total, with an estimate', () => {
  const { progress, clock } = tracker();
  const pass = progress.begin('full sync', 'scanning', { count: 5000, from: 'record' });
  pass.scanned = 1000;
  clock.now += 2000;
  assert.deepEqual(pick(progress.current()), { pass: 'full sync', phase: 'scanning', checked: 1000, total: 5000, totalFrom: 'record', sent: 0, etaMs: 8000 });

  pass.phase('sending', { count: 4800, from: 'scan' });
  const rsync = run();
  pass.watch(rsync);
  assert.equal(progress.current()?.etaMs, null, 'no rate before rsync reports anything');
  rsync.counts.changed = 30;
  rsync.counts.sent = 25;
  rsync.counts.bytes = 4096;
  clock.now += 1000;
  assert.deepEqual(pick(progress.current()), { pass: 'full sync', phase: 'sending', checked: 30, total: 4800, totalFrom: 'scan', sent: 25, etaMs: 159_000 });
  readProgress2(rsync, '(xfr#25, to-chk=4400/4900)');
  assert.deepEqual(pick(progress.current()), { pass: 'full sync', phase: 'sending', checked: 500, total: 4900, totalFrom: 'rsync', sent: 25, etaMs: 8800 });

  pass.end('ok');
  assert.equal(progress.current(), null);
});

test('a full sync in parts (several rsyncs) adds up their counts against the scan\'s total, not one part\'s list', () => {
  const { progress, clock } = tracker();
  const pass = progress.begin('full sync', 'sending', { count: 1000, from: 'scan' });
  const [a, b] = [run(), run()];
  pass.watch(a);
  pass.watch(b);
  readProgress2(a, '(xfr#1, to-chk=50/300)');
  readProgress2(b, '(xfr#1, to-chk=150/300)');
  a.counts.sent = 3;
  b.counts.sent = 4;
  clock.now += 4000;
  assert.deepEqual(pick(progress.current()), { pass: 'full sync', phase: 'sending', checked: 400, total: 1000, totalFrom: 'scan', sent: 7, etaMs: 6000 });
});

test('a running pass logs one line per interval whatever rsync prints, and one line with its totals at the end', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { progress, lines, clock } = tracker(10_000);
  const pass = progress.begin('verification', 'sending', { count: 100_000, from: 'scan' });
  const rsync = run();
  pass.watch(rsync);
  for (let second = 1; second <= 65; second++) {
    // Many updates per second: they are read when a line is due, never logged one by one.
    for (let k = 0; k < 50; k++) readProgress2(rsync, `(xfr#1, to-chk=${100_000 - second * 1000 - k}/100000)`);
    clock.now += 1000;
    t.mock.timers.tick(1000);
  }
  const during = lines.filter((l) => l.progress !== undefined);
  assert.equal(during.length, 6, 'one line per 10 s over 65 s');
  assert.match(during[0]!.msg, /^verification, sending: 10,049 of 100,000 checked, 0 files sent \(0 B\), 10s so far, about \d+s left$/);
  rsync.counts.sent = 7;
  rsync.counts.bytes = 3 * 1024 * 1024;
  pass.end('ok');
  const last = lines.at(-1)!;
  assert.equal(last.msg, 'verification done: 65,049 checked, 7 files sent (3.0 MiB) in 65s');
  assert.deepEqual([last.host, last.outcome, last.checked, last.sent, last.bytes, last.ms], ['web2:/srv', 'ok', 65_049, 7, 3 * 1024 * 1024, 65_000]);
  t.mock.timers.tick(60_000);
  assert.equal(lines.length, 7, 'nothing more once it ended');
});

test('a pass of which rsync says nothing yet (nothing to send) is estimated at the last such pass\'s rate', () => {
  const { progress, clock } = tracker();
  const first = progress.begin('verification', 'sending', { count: 1000, from: 'scan' });
  const rsync = run();
  first.watch(rsync);
  readProgress2(rsync, '(xfr#0, to-chk=0/1000)');
  clock.now += 10_000;
  first.end('ok');
  const second = progress.begin('verification', 'sending', { count: 2000, from: 'scan' });
  second.watch(run());
  clock.now += 5000;
  assert.equal(progress.current()?.etaMs, 15_000, '2000 entries at 100/s, 5 s gone');
});

/** An agent's status with a full sync 5 s in (500 of ~2,000 checked) and a startup scan half done. */
function runningStatus(): { status: AgentStatus; now: number } {
  const { progress, clock } = tracker();
  const pass = progress.begin('full sync', 'sending', { count: 2000, from: 'watches' });
  const rsync = run();
  pass.watch(rsync);
  rsync.counts.changed = 500;
  rsync.counts.sent = 480;
  rsync.counts.bytes = 2_500_000;
  clock.now += 5000;
  const status: AgentStatus = {
    pid: 1, version: '0.1.0', startedAt: new Date(clock.now - 60_000).toISOString(),
    syncs: [{
      source: '/srv/www', watches: 200, counters: { events: 0, overflows: 0, rescans: 0 },
      scan: { pass: 'scan', phase: 'scanning', startedAt: new Date(clock.now - 3000).toISOString(), phaseStartedAt: new Date(clock.now - 3000).toISOString(), checked: 1500, total: 3000, totalFrom: 'record', sent: 0, bytes: 0, etaMs: 3000 },
      hosts: [{ target: 'web2:/srv', state: 'syncing', pending: 0, inFlight: null, lastSuccess: null, lagMs: null, failures: 0, lastError: null, cause: null, counters: { batches: 0, files: 0, bytes: 0, failures: 0 }, progress: progress.current() }],
    }],
  };
  return { status, now: clock.now };
}

test('status shows a running pass under its host and the startup scan under its sync', () => {
  const { status, now } = runningStatus();
  const text = renderStatus(status, now);
  assert.match(text, /^ {2}scan, scanning: 1,500 of ~3,000 scanned, 3s so far, about 3s left$/m);
  assert.match(text, /^ {4}full sync, sending: 500 of ~2,000 checked, 480 files sent \(2\.4 MiB\), 5s so far, about 15s left$/m);
});

function pick(p: ReturnType<ProgressTracker['current']>): Record<string, unknown> {
  assert.ok(p);
  const { pass, phase, checked, total, totalFrom, sent, etaMs } = p;
  return { pass, phase, checked, total, totalFrom, sent, etaMs };
}

test('/metrics has the running pass\'s counts and estimate per target', async () => {
  const { status } = runningStatus();
  const text = await createMetricsRegistry(() => status).metrics();
  const labels = '{source="/srv/www",target="web2:/srv"}';
  assert.match(text, new RegExp(`^inosync_pass_entries_checked${labels} 500$`, 'm'));
  assert.match(text, new RegExp(`^inosync_pass_entries_total${labels} 2000$`, 'm'));
  assert.match(text, new RegExp(`^inosync_pass_files_sent${labels} 480$`, 'm'));
  assert.match(text, new RegExp(`^inosync_pass_seconds_left${labels} 15$`, 'm'));
});
