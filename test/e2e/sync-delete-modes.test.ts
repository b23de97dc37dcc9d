// --delete always|never|startup|running: one agent, one target per mode (the backup one over a real
// loopback ssh), with --remote-moves on. Each step changes the source, then writes a marker file and waits
// for it on every target: batches to a host go in order, so once the marker is there the step is done,
// and what a target kept is checked against what its mode keeps.
import { test } from 'node:test';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { type Agent, expectListing, listing, makeMirror, type Mirror, startAgent, stopAgent } from './harness.js';

type Mode = 'always' | 'never' | 'startup' | 'running';
// dirs[0..2] local, dirs[3] the ssh host.
const MODES: Mode[] = ['always', 'startup', 'running', 'never'];


/** Waits until every target has `marker` (and so everything changed before it). */
async function step(mirror: Mirror, marker: string): Promise<void> {
  writeFileSync(join(mirror.src, marker), marker);
  for (const dir of mirror.dirs) await waitFor(() => existsSync(join(dir, marker)), { what: `${marker} on ${dir}`, timeoutMs: 15_000 });
}

/**
 * Each target holds the source's paths plus, only where its mode keeps deletes of that kind, `kept` (waited
 * for briefly: rsync's temporary files of the last batch may still be there).
 */
async function expectTargets(mirror: Mirror, kept: string[], keeps: (mode: Mode) => boolean): Promise<void> {
  const source = listing(mirror.src);
  for (const [i, dir] of mirror.dirs.entries()) {
    const mode = MODES[i]!;
    await expectListing(dir, [...new Set([...source, ...(keeps(mode) ? kept : [])])], `target with --delete ${mode}`);
  }
}

const liveKeeps = (mode: Mode): boolean => mode === 'never' || mode === 'startup';
const startupKeeps = (mode: Mode): boolean => mode === 'never' || mode === 'running';

test('each delete mode keeps exactly the deletes it should, live and across a restart', async (t) => {
  const mirror = await makeMirror(t, { local: 3, ssh: 1 });
  const { src } = mirror;
  const flags = ['--remote-moves', ...mirror.dirs.map((dir, i) => ['--delete', `${i === 3 ? mirror.hosts[0]!.spec(dir) : dir}=${MODES[i]!}`]).flat()];
  let agent: Agent;
  const start = async (): Promise<void> => {
    agent = await startAgent(t, mirror, flags);
    for (const dir of mirror.dirs) await agent.waitForLog((l) => l.msg === 'synced' && l.kind === 'full' && l.host?.endsWith(dir) === true, `the startup sync of ${dir}`, 15_000);
  };

  await t.test('startup: an extra file on the targets is deleted by always and startup only', async () => {
    mkdirSync(join(src, 'dir/sub'), { recursive: true });
    writeFileSync(join(src, 'dir/sub/x'), 'x');
    writeFileSync(join(src, 'file.txt'), 'f');
    mkdirSync(join(src, 'ren'));
    writeFileSync(join(src, 'ren/inside'), 'i');
    mkdirSync(join(src, 'swap'));
    writeFileSync(join(src, 'swap/old'), 'o');
    for (const dir of mirror.dirs) {
      writeFileSync(join(dir, 'extra.txt'), 'only on the target');
      mkdirSync(join(dir, 'extra-dir'));
      writeFileSync(join(dir, 'extra-dir/e'), 'e');
    }
    await start();
    await expectTargets(mirror, ['extra.txt', 'extra-dir/', 'extra-dir/e'], startupKeeps);
  });

  await t.test('live: a deleted file, a deleted directory and renames keep their old names where live deletes are kept', async () => {
    for (const dir of mirror.dirs) { // the startup differences are checked above: from here on, only live ones
      rmSync(join(dir, 'extra.txt'), { force: true });
      rmSync(join(dir, 'extra-dir'), { recursive: true, force: true });
    }
    rmSync(join(src, 'file.txt'));
    rmSync(join(src, 'dir'), { recursive: true });
    renameSync(join(src, 'ren'), join(src, 'ren2')); // a directory rename: replayed (--remote-moves) only where deletes go
    writeFileSync(join(src, 'a'), 'a');
    await step(mirror, 'm1');
    renameSync(join(src, 'a'), join(src, 'b'));
    await step(mirror, 'm2');
    await expectTargets(mirror, ['file.txt', 'dir/', 'dir/sub/', 'dir/sub/x', 'ren/', 'ren/inside', 'a'], liveKeeps);
  });

  await t.test('live: a directory replaced by a file is replaced on every target, even those that keep deletes', async () => {
    rmSync(join(src, 'swap'), { recursive: true });
    writeFileSync(join(src, 'swap'), 'now a file');
    await step(mirror, 'm3');
    await expectTargets(mirror, ['file.txt', 'dir/', 'dir/sub/', 'dir/sub/x', 'ren/', 'ren/inside', 'a'], liveKeeps);
  });

  await t.test('stopped, then restarted: what was deleted or renamed meanwhile is deleted by always and startup only', async () => {
    await stopAgent(agent);
    // Settle the live differences by hand: from here only what happens while stopped is compared.
    for (const [i, dir] of mirror.dirs.entries()) {
      if (!liveKeeps(MODES[i]!)) continue;
      for (const name of ['file.txt', 'dir', 'ren', 'a']) rmSync(join(dir, name), { recursive: true });
    }
    mkdirSync(join(src, 'off'));
    writeFileSync(join(src, 'off/f'), 'f');
    writeFileSync(join(src, 'gone.txt'), 'g');
    await start();
    await stopAgent(agent);
    rmSync(join(src, 'gone.txt'));
    renameSync(join(src, 'off'), join(src, 'off2'));
    rmSync(join(src, 'b'));
    await start();
    await expectTargets(mirror, ['gone.txt', 'off/', 'off/f', 'b'], startupKeeps);
  });
});
