// --remote-moves: a renamed directory is renamed on the targets over the shared connection, not sent again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { converged, makeMirror, startAgent, type LogLine } from './harness.js';

const synced = (l: LogLine): boolean => l.msg === 'synced';

test('with --remote-moves, renaming a directory of 1,000 files sends no file data', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 1 });
  mkdirSync(join(mirror.src, 'big/inner'), { recursive: true });
  for (let i = 0; i < 1000; i++) writeFileSync(join(mirror.src, i % 2 ? 'big' : 'big/inner', `file-${i}`), `content of file ${i}\n`);
  const agent = await startAgent(t, mirror, ['--remote-moves']);
  await converged(mirror);

  await t.test('a rename of the populated directory converges with nothing sent', async () => {
    await agent.waitForLog(synced, 'the full syncs');
    const mark = agent.logs().length;
    renameSync(join(mirror.src, 'big'), join(mirror.src, 'renamed'));
    await converged(mirror);
    const after = (): LogLine[] => agent.logs().slice(mark).filter(synced);
    // Each target spec ends with its directory; wait for the batch that confirms the move on each.
    for (const dir of mirror.dirs) await agent.waitForLog(() => after().some((l) => l.host?.endsWith(dir)), `a batch for ${dir} after the rename`);
    const sent = after().reduce((sum, l) => sum + (l.sent ?? 0), 0);
    assert.equal(sent, 0, `files sent after the rename: ${JSON.stringify(after())}`);
  });

  await t.test('a rename the targets cannot replay (their copy is gone) falls back to sending it', async () => {
    for (const dir of mirror.dirs) rmSync(join(dir, 'renamed'), { recursive: true });
    renameSync(join(mirror.src, 'renamed'), join(mirror.src, 'again'));
    await converged(mirror);
  });
});
