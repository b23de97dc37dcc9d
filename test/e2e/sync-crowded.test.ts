// A directory with half of its entries in one released set goes to the hosts whole (one tree mark, not a
// name each), and exactly: a file deleted and one rewritten among its old entries arrive too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { converged, makeMirror, startAgent, type LogLine } from './harness.js';

const OLD = 40;

test('a set holding half of a directory\'s entries sends it whole and exact', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 1 });
  mkdirSync(join(mirror.src, 'half'));
  for (let i = 0; i < OLD; i++) writeFileSync(join(mirror.src, 'half', `old${i}`), 'old');
  // One set for all of the changes below, however slowly they are written: it goes once they pause 5 s.
  const agent = await startAgent(t, mirror, ['--quiet-ms', '5000', '--max-delay-ms', '600000']);
  await converged(mirror);
  const before = agent.logs().length;
  for (let i = 0; i < OLD - 2; i++) writeFileSync(join(mirror.src, 'half', `new${i}`), `new ${i}`);
  rmSync(join(mirror.src, 'half', 'old0'));
  writeFileSync(join(mirror.src, 'half', 'old1'), 'rewritten');
  // 40 of the directory's 77 entries are in the set (38 new, one deleted, one rewritten).
  await converged(mirror);
  const batches = (): unknown[] => agent.logs().slice(before).filter((l) => l.msg === 'synced' && l.kind === 'batch').map((l) => l.marks);
  await waitFor(() => batches().length >= mirror.dirs.length, { what: 'the batch of every target', timeoutMs: 30_000 });
  assert.deepEqual(batches(), mirror.dirs.map(() => 1));
});

test('a storm that gathers has its trees run started ahead, and its batch goes on that run', async (t) => {
  const mirror = await makeMirror(t, { local: 0, ssh: 1 });
  mkdirSync(join(mirror.src, 'storm'));
  // Held 8 s after the last write: the run started ahead comes well before the batch.
  const agent = await startAgent(t, mirror, ['--quiet-ms', '8000', '--max-delay-ms', '600000', '--log-level', 'debug']);
  await converged(mirror);
  const before = agent.logs().length;
  const since = (): LogLine[] => agent.logs().slice(before);
  const isTreesRun = (l: LogLine): boolean => l.msg === 'rsync' && Array.isArray(l.args) && l.args.includes('-r') && l.args.includes('--files-from=-');
  const isBatch = (l: LogLine): boolean => l.msg === 'synced' && l.kind === 'batch';
  for (let i = 0; i < 100; i++) writeFileSync(join(mirror.src, 'storm', `f${i}`), `${i}`);
  await waitFor(() => since().some(isBatch), { what: 'the batch', timeoutMs: 30_000 });
  const lines = since();
  const batch = lines.find(isBatch);
  const runs = lines.slice(0, lines.findIndex(isBatch)).filter(isTreesRun);
  assert.equal(batch?.marks, 1);
  assert.equal(runs.length, 1, 'one trees run: the one started ahead');
  // Started before the batch began (the synced line's time less its duration), not by it.
  assert.ok(Date.parse(String(runs[0]?.time)) < Date.parse(String(batch?.time)) - Number(batch?.ms), 'the trees run started ahead of its batch');
  await converged(mirror);
});
