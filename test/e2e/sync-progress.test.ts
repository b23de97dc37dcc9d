// Progress of a long full sync, seen from outside a real agent: `inosync status --json` while it runs, and
// the log in a pipe (JSON lines). The full sync is made to take a few seconds with rsync's --bwlimit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import type { CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { converged, hostStatus, makeMirror, startAgent, type Agent, type LogLine, type Mirror } from './harness.js';

const FILES = 200;
/** 200 files of 16 KiB at 800 KiB/s: about 4 s of sending. */
const SLOW = ['--rsync-opts', '-aHAX --bwlimit=800', '--progress-every', '1s'];

async function slowFullSync(t: CleanupContext): Promise<{ mirror: Mirror; agent: Agent; target: string }> {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(mirror.src, `d${d}`));
    for (let f = 0; f < FILES / 10; f++) writeFileSync(join(mirror.src, `d${d}`, `f${f}`), Buffer.alloc(16 * 1024, d * 31 + f));
  }
  const agent = await startAgent(t, mirror, SLOW);
  return { mirror, agent, target: mirror.dirs[0]! };
}

const progressOf = (target: string) => (l: LogLine): boolean => l.host === target && typeof l.progress === 'object';

test('status --json during a full sync shows the pass with entries checked, files sent and an estimate', async (t) => {
  const { mirror, agent, target } = await slowFullSync(t);
  const seen = await waitFor(async () => {
    const { progress } = await hostStatus(agent, target);
    return progress && progress.sent > 0 && progress.etaMs !== null ? progress : undefined;
  }, { what: 'a full sync with files sent and an estimate in the status', timeoutMs: 15_000 });
  assert.equal(seen.pass, 'full sync');
  assert.equal(seen.phase, 'sending');
  assert.ok(seen.checked >= seen.sent, JSON.stringify(seen));
  assert.ok(seen.total !== null && seen.total >= FILES, JSON.stringify(seen));
  assert.ok(seen.sent < FILES, 'seen while it runs');

  const text = await runCli(['status', '--socket', agent.socket]);
  assert.match(text.stdout, /^ {4}full sync, sending: [\d,]+ of ~?[\d,]+ checked, [\d,]+ files sent \(.+\), \S+ so far, /m);

  await agent.waitForLog((l) => l.msg === 'synced' && l.kind === 'full', 'the full sync to end', 20_000);
  await converged(mirror);
  assert.equal((await hostStatus(agent, target)).progress, null, 'no pass once it ended');
});

test('in a pipe the full sync logs progress lines at a bounded rate, then one line with its totals and duration', async (t) => {
  const { agent, target } = await slowFullSync(t);
  const done = await agent.waitForLog((l) => l.host === target && l.pass === 'full sync' && typeof l.outcome === 'string', 'the full sync\'s last line', 20_000);
  assert.equal(done.outcome, 'ok');
  assert.equal(done.sent, FILES);
  assert.ok(typeof done.checked === 'number' && done.checked >= FILES + 10, 'every file and directory checked');
  assert.match(done.msg, /^full sync done: [\d,]+ checked, 200 files sent \(3\.1 MiB\) in \S+$/);

  const lines = agent.logs().filter(progressOf(target));
  assert.ok(lines.length >= 1, 'at least one line while it ran');
  // --progress-every 1s: never more than one line a second, however much rsync prints.
  assert.ok(lines.length <= Math.floor((done.ms as number) / 1000) + 1, `${lines.length} lines in ${String(done.ms)} ms`);
  for (const line of lines) assert.match(line.msg, /^full sync, sending: [\d,]+ (of ~?[\d,]+ )?checked, [\d,]+ files sent /);
  const scan = agent.logs().find((l) => l.pass === 'scan');
  assert.equal(scan?.outcome, 'ok', 'the startup scan logs its end too');
});
