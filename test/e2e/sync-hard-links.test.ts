// Hard links through whole agents with the default -aHAX: a full sync split into parts (full-sync-plan.ts)
// keeps every inode's names in one run, at the first start and at a restart after links were made while the
// agent was down, to local and ssh targets; a verification goes as one run, links and all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { converged, makeMirror, startAgent, type LogLine } from './harness.js';
import { stop, synced } from './restart.js';

/** Six top-level directories of three subdirectories: wide enough for four parts. */
function wideTree(src: string): void {
  writeFileSync(join(src, 'top'), 'top\n');
  for (let top = 0; top < 6; top++) {
    for (let sub = 0; sub < 3; sub++) {
      mkdirSync(join(src, `t${top}`, `s${sub}`, 'deep'), { recursive: true });
      writeFileSync(join(src, `t${top}`, `s${sub}`, 'f'), `${top}/${sub}\n`);
    }
    writeFileSync(join(src, `t${top}`, 'f'), `${top}\n`);
  }
}

const split = (l: LogLine): boolean => l.msg === 'full sync split into parts';

test('a split full sync keeps hard links within and across directories, at the first start and after links made while down', async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 1 });
  wideTree(mirror.src);
  const link = (from: string, to: string): void => linkSync(join(mirror.src, from), join(mirror.src, to));
  link('t0/s0/f', 't5/s2/deep/across'); // across top-level directories
  link('t1/s1/f', 't1/s1/deep/within'); // within one part
  link('t2/s0/f', 't3/s1/three');
  link('t2/s0/f', 't4/s2/three'); // three names, three subtrees
  link('top', 'top-again'); // within the root, a shallow directory

  const extra = ['--full-sync-procs', '4', '--log-level', 'debug'];
  const first = await startAgent(t, mirror, extra);
  await first.waitForLog((l) => synced('full')(l) && l.host === mirror.dirs[0], 'the first full sync of the local target', 30_000);
  await first.waitForLog((l) => synced('full')(l) && l.host !== mirror.dirs[0], 'the first full sync of the ssh target', 30_000);
  await converged(mirror);
  assert.equal(first.logs().filter(split).length, 2, 'each target\'s full sync was split');
  await stop(first);

  link('t0/s1/f', 't3/s0/made-while-down');
  // Without trusting the record: a full sync, split on its own scan's finding.
  const again = await startAgent(t, mirror, [...extra, '--no-trust-state']);
  await again.waitForLog((l) => synced('full')(l) && l.host === mirror.dirs[0], 'the full sync of the local target', 30_000);
  await again.waitForLog((l) => synced('full')(l) && l.host !== mirror.dirs[0], 'the full sync of the ssh target', 30_000);
  await converged(mirror);
  assert.equal(again.logs().filter(split).length, 2, 'each full sync was split, on its scan\'s finding');
  await stop(again);

  link('t4/s0/f', 't5/s1/deep/too');
  // Trusting it: the difference, and a verification in one run (it checks; parts pay for sending).
  const third = await startAgent(t, mirror, extra);
  await third.waitForLog((l) => synced('full')(l) && l.host === mirror.dirs[0], 'the verification of the local target', 30_000);
  await third.waitForLog((l) => synced('full')(l) && l.host !== mirror.dirs[0], 'the verification of the ssh target', 30_000);
  await converged(mirror);
  assert.equal(third.logs().filter(split).length, 0, 'no verification was split');
});
