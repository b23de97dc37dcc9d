// Per-target filters: one source, two targets with rules of their own in the config file, each converging
// to its own view. Target A lets back in what the sync leaves out (keep.log under "*.log", cache/) and
// leaves out tmp/; target B leaves out docs/. What a target's rules leave out is neither sent to it nor
// deleted on it, by full syncs and live batches alike, however deep below the excluded directory.
import { test } from 'node:test';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startLoggedCli } from '../helpers/run-cli.js';
import { makeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { expectListing, makeMirror, type Mirror } from './harness.js';


const markers: string[] = [];

/**
 * Writes a marker file and waits for it on both targets (everything changed before it is then on its way),
 * then waits until each target holds exactly its view and the markers (rsync's temporary files go).
 */
async function converge(mirror: Mirror, marker: string, views: [string[], string[]]): Promise<void> {
  writeFileSync(join(mirror.src, marker), marker);
  markers.push(marker);
  for (const [i, dir] of mirror.dirs.entries()) {
    const name = `target ${'AB'[i]}`;
    await waitFor(() => existsSync(join(dir, marker)), { what: `${marker} on ${name}`, timeoutMs: 15_000 });
    await expectListing(dir, [...views[i]!, ...markers], name);
  }
}

test('two targets of one source with different rules converge each to its own view', async (t) => {
  const mirror = await makeMirror(t, { local: 2, ssh: 0 });
  const { src } = mirror;
  const [a, b] = mirror.dirs as [string, string];
  makeTree(src, [
    { path: 'docs/a.txt', content: 'a' }, { path: 'logs/app.log', content: 'l' }, { path: 'logs/keep.log', content: 'k' },
    { path: 'tmp/x', content: 'x' }, { path: 'cache/c', content: 'c' },
  ]);
  makeTree(a, [{ path: 'tmp/old', content: 'A leaves tmp/ out: its own copy stays' }]);
  makeTree(b, [{ path: 'docs/old.txt', content: 'B leaves docs/ out: its own copy stays' }]);
  const config = join(dirname(src), 'inosync.json');
  writeFileSync(config, JSON.stringify({
    syncs: [{
      source: src,
      exclude: ['*.log', 'cache/'],
      targets: [{ target: a, include: ['keep.log', 'cache/'], exclude: ['tmp/'] }, { target: b, exclude: ['docs/'] }],
    }],
  }));
  const socket = join(dirname(src), 'status.sock');
  const agent = { ...startLoggedCli(t, ['sync', '--config', config, '--socket', socket, '--retry-max-ms', '1000']), socket };
  mirror.agents.push(agent);
  await agent.waitForLog((l) => l.msg.startsWith('watching'), 'the agent to watch');

  await t.test('the startup full syncs (with --delete) send each view and delete nothing a view leaves out', async () => {
    await converge(mirror, 'm1', [
      ['docs/', 'docs/a.txt', 'logs/', 'logs/keep.log', 'cache/', 'cache/c', 'tmp/', 'tmp/old'],
      ['docs/', 'docs/old.txt', 'logs/', 'tmp/', 'tmp/x'],
    ]);
  });

  await t.test('live changes reach the targets whose view holds them, deep ones too', async () => {
    mkdirSync(join(src, 'docs/deep/er'), { recursive: true });
    writeFileSync(join(src, 'docs/deep/er/new.txt'), 'n');
    writeFileSync(join(src, 'tmp/y'), 'y');
    writeFileSync(join(src, 'logs/keep.log'), 'kept, changed');
    writeFileSync(join(src, 'logs/new.log'), 'left out everywhere');
    writeFileSync(join(src, 'cache/d'), 'd');
    await converge(mirror, 'm2', [
      ['docs/', 'docs/a.txt', 'docs/deep/', 'docs/deep/er/', 'docs/deep/er/new.txt', 'logs/', 'logs/keep.log', 'cache/', 'cache/c', 'cache/d', 'tmp/', 'tmp/old'],
      ['docs/', 'docs/old.txt', 'logs/', 'tmp/', 'tmp/x', 'tmp/y'],
    ]);
  });

  await t.test('live deletes reach only the targets whose view holds the deleted path', async () => {
    rmSync(join(src, 'docs'), { recursive: true });
    rmSync(join(src, 'tmp'), { recursive: true });
    rmSync(join(src, 'logs/keep.log'));
    await converge(mirror, 'm3', [
      ['logs/', 'cache/', 'cache/c', 'cache/d', 'tmp/', 'tmp/old'],
      ['docs/', 'docs/old.txt', 'logs/'],
    ]);
  });
});
