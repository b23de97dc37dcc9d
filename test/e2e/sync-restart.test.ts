// Restarts with state records (src/state/): what changed while the agent was stopped is found by a local scan
// and sent first, the full sync following as a verification that then finds nothing left to do; a record
// that cannot be trusted is ignored (a full sync first). Crashes: sync-restart-crash.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import { converged, makeMirror, startAgent } from './harness.js';
import { seed, stop, synced, syncedOnce } from './restart.js';

test('a restart sends what changed while the agent was stopped first; the full sync after it finds nothing left', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 1 });
  seed(mirror.src);
  await stop(await syncedOnce(t, mirror));

  writeFileSync(join(mirror.src, 'keep', 'created'), 'created while down\n');
  const before = statSync(join(mirror.src, 'same-size'));
  writeFileSync(join(mirror.src, 'same-size'), 'BBBB');
  utimesSync(join(mirror.src, 'same-size'), before.atime, new Date(before.mtimeMs + 1));
  rmSync(join(mirror.src, 'gone'), { recursive: true });
  renameSync(join(mirror.src, 'old-name'), join(mirror.src, 'new-name'));
  chmodSync(join(mirror.src, 'mode'), 0o600);

  const agent = await startAgent(t, mirror);
  await agent.waitForLog((l) => synced('full')(l) && l.host === mirror.hosts[0]!.spec(mirror.dirs[1]!), 'the verification of the ssh target', 20_000);
  await agent.waitForLog((l) => synced('full')(l) && l.host === mirror.dirs[0], 'the verification of the local target', 20_000);
  await converged(mirror);
  const logs = agent.logs();
  const difference = logs.findIndex((l) => l.msg.startsWith('sending what changed while the agent was down'));
  const batch = logs.findIndex(synced('batch'));
  const full = logs.findIndex(synced('full'));
  assert.ok(difference >= 0 && batch > difference && full > batch, 'the difference is sent before the full sync');
  for (const line of logs.filter(synced('full'))) assert.deepEqual([line.files, line.deleted], [0, 0], 'the verification finds every change already sent');
});
test('a record from another source root (the directory replaced) is ignored: a full sync first', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  seed(mirror.src);
  await stop(await syncedOnce(t, mirror));
  const copy = `${mirror.src}.old`;
  renameSync(mirror.src, copy);
  mkdirSync(mirror.src);
  for (const name of readdirSync(copy)) renameSync(join(copy, name), join(mirror.src, name));
  const agent = await startAgent(t, mirror);
  const ignored = await agent.waitForLog((l) => l.msg.startsWith('no trusted state record'), 'the record to be ignored');
  assert.match(String(ignored.reason), /another ino/);
  await agent.waitForLog(synced('full'), 'the full sync');
  assert.equal(agent.logs().some((l) => l.msg.startsWith('sending what changed')), false);
  await converged(mirror);
});
test('a truncated snapshot and a record of another format version are ignored: a full sync first', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  seed(mirror.src);
  await stop(await syncedOnce(t, mirror));
  const [key] = readdirSync(mirror.stateDir).filter((name) => !name.startsWith('.'));
  const snapshot = join(mirror.stateDir, key!, 'snapshot');
  const bytes = readFileSync(snapshot);
  writeFileSync(snapshot, bytes.subarray(0, bytes.length - 30));
  writeFileSync(join(mirror.src, 'keep', 'f0'), 'changed while the record was broken\n');
  let agent = await startAgent(t, mirror);
  let ignored = await agent.waitForLog((l) => /record is broken|no trusted state record/.test(l.msg), 'the truncated record to be ignored');
  assert.match(JSON.stringify(ignored), /truncated|trailer|checksum/);
  await agent.waitForLog(synced('full'), 'the full sync');
  await converged(mirror);
  await stop(agent);

  const now = readFileSync(snapshot);
  writeFileSync(snapshot, Buffer.from(now.toString('latin1').replace('"version":1', '"version":7'), 'latin1'));
  agent = await startAgent(t, mirror);
  ignored = await agent.waitForLog((l) => l.msg.startsWith('no trusted state record'), 'the foreign record to be ignored');
  assert.match(String(ignored.reason), /format 7/);
  await agent.waitForLog(synced('full'), 'the full sync');
  await converged(mirror);
});
test('a state directory others may write to is refused before anything starts: exit 2, what is wrong and the fix', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  mkdirSync(mirror.stateDir);
  chmodSync(mirror.stateDir, 0o777);
  const run = await runCli(['sync', '--source', mirror.src, ...mirror.targetArgs, '--state-dir', mirror.stateDir, '--socket', join(mirror.outside, 's.sock')]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /state directory .* is writable by other users/);
  assert.match(run.stderr, /chmod 700/);
});
