// --no-initial-sync (lsyncd's init = false): no startup full sync, live changes flow as usual, and a full
// sync asked for (SIGUSR1) still brings the target in line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { makeMirror, startAgent } from './harness.js';

test('--no-initial-sync leaves a stale extra file alone at start while a live change arrives', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  const [target] = mirror.dirs as [string];
  writeFileSync(join(mirror.src, 'old-on-source.txt'), 'not on the target: no startup sync sends it');
  writeFileSync(join(target, 'stale.txt'), 'only on the target');
  const agent = await startAgent(t, mirror, ['--no-initial-sync']);

  writeFileSync(join(mirror.src, 'live.txt'), 'written while running');
  await waitFor(() => existsSync(join(target, 'live.txt')), { what: 'the live change on the target', timeoutMs: 15_000 });
  assert.equal(readFileSync(join(target, 'live.txt'), 'utf8'), 'written while running');
  assert.ok(existsSync(join(target, 'stale.txt')), 'the stale file is left alone');
  assert.ok(!existsSync(join(mirror.src, 'stale.txt')) && !existsSync(join(target, 'old-on-source.txt')), 'no full sync ran');
  assert.ok(!agent.logs().some((l) => l.msg === 'synced' && l.kind === 'full'), 'no full sync was logged');

  await t.test('SIGUSR1 still does a full sync', async () => {
    await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to take signals');
    agent.cli.child.kill('SIGUSR1');
    await waitFor(() => !existsSync(join(target, 'stale.txt')) && existsSync(join(target, 'old-on-source.txt')), { what: 'the full sync after SIGUSR1', timeoutMs: 15_000 });
  });
});
