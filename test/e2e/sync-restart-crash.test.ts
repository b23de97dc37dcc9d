// An agent killed outright (SIGKILL) at any moment leaves a state record (src/state/) that never claims more
// than the target has: the next start's difference alone brings every target in line, and the verification
// after it finds nothing left to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { converged, makeMirror, startAgent } from './harness.js';
import { seed, stop, synced, syncedOnce } from './restart.js';

test('an agent killed outright at random moments of a burst never leaves a record that claims too much', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  seed(mirror.src);
  await stop(await syncedOnce(t, mirror));
  let round = 0;
  for (; round < 3; round++) {
    const agent = await startAgent(t, mirror);
    const deadline = Date.now() + 150 + Math.random() * 600;
    for (let i = 0; Date.now() < deadline; i++) {
      const dir = join(mirror.src, `burst${round}`, `d${i % 7}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f${i}`), `round ${round} file ${i}\n`);
      if (i % 5 === 0) rmSync(join(mirror.src, 'keep', `f${i % 20}`), { force: true });
      if (i % 11 === 0) writeFileSync(join(mirror.src, 'keep', `f${(i * 3) % 20}`), `rewritten ${round}.${i}\n`);
      if (i === 13 && round > 0) renameSync(join(mirror.src, `burst${round - 1}`), join(mirror.src, `burst${round - 1}-moved-${i}`));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await stop(agent, 'SIGKILL');
  }
  const agent = await startAgent(t, mirror);
  await agent.waitForLog(synced('full'), 'the verification', 30_000);
  await converged(mirror);
  const difference = agent.logs().some((l) => l.msg.startsWith('sending what changed'));
  assert.ok(difference, 'the record was trusted after the kills');
  for (const line of agent.logs().filter(synced('full'))) assert.deepEqual([line.files, line.deleted], [0, 0], 'the difference alone brought the target in line');
});
test('a directory deleted on the target by a batch, then moved back while the agent was down, is sent again whole', async (t) => {
  // Its files keep their stats through the moves: only the journal entry written before that batch's rsync
  // tells the next start that the target no longer has them.
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  seed(mirror.src);
  const agent = await syncedOnce(t, mirror);
  renameSync(join(mirror.src, 'old-name'), join(mirror.outside, 'old-name'));
  await converged(mirror);
  await stop(agent, 'SIGKILL');
  renameSync(join(mirror.outside, 'old-name'), join(mirror.src, 'old-name'));
  const again = await startAgent(t, mirror);
  await again.waitForLog(synced('full'), 'the verification', 20_000);
  await converged(mirror);
  for (const line of again.logs().filter(synced('full'))) assert.deepEqual([line.files, line.deleted], [0, 0], 'the difference alone brought the directory back');
});
