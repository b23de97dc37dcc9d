// The classic shell mirror loop, unchanged, with `inotifywait` resolving to a symlink to inosync placed first
// on PATH: `inotifywait -mrq --format '%w%f' -e modify,delete,create,attrib SRC | while read f; do ...; done`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitForSameTree } from '../helpers/compare.js';
import { cliPath } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

// What users run, as they wrote it: copy what changed, remove what went.
const SCRIPT = `#!/bin/bash
SRC=$1
DST=$2
command -v inotifywait > "$3"
inotifywait -mrq --format '%w%f' -e modify,delete,create,attrib "$SRC" | while read f; do
  rel=\${f#"$SRC"/}
  if [ -d "$f" ]; then
    mkdir -p "$DST/$rel"
  elif [ -e "$f" ]; then
    mkdir -p "$DST/$(dirname "$rel")" && cp -p "$f" "$DST/$rel"
  else
    rm -rf "$DST/$rel"
  fi
done
`;

test('the classic inotifywait | while read mirror loop runs unchanged on inosync and keeps a copy identical', async (t) => {
  // Registered before the temp dir's cleanup (hooks run in order): the loop must stop before its tree goes.
  let stopLoop: () => Promise<void> = async () => undefined;
  t.after(() => stopLoop());
  const dir = tempDir(t);
  const [bin, src, dst] = ['bin', 'src', 'dst'].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [bin, src, dst]) mkdirSync(d);
  symlinkSync(cliPath, join(bin, 'inotifywait'));
  chmodSync(cliPath, 0o755); // npm sets the bin's mode when installing; a build alone does not
  writeFileSync(join(dir, 'loop.sh'), SCRIPT);
  const resolved = join(dir, 'resolved');
  const loop = spawn('bash', [join(dir, 'loop.sh'), src, dst, resolved], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  const loopEnded = new Promise((resolve) => loop.on('exit', resolve));
  stopLoop = async () => {
    try { process.kill(-(loop.pid as number), 'SIGKILL'); } catch { /* already gone */ }
    await loopEnded;
  };
  // -q prints nothing once the watches are set: touch a probe until the loop has copied it.
  await waitFor(() => {
    writeFileSync(join(src, 'probe'), String(Date.now()));
    return existsSync(join(dst, 'probe'));
  }, { intervalMs: 50, timeoutMs: 10_000, what: 'the loop to copy a probe file' });
  assert.equal(readFileSync(resolved, 'utf8').trim(), join(bin, 'inotifywait'));

  mkdirSync(join(src, 'a/b/c'), { recursive: true });
  writeFileSync(join(src, 'a/b/c/new.txt'), 'written right after mkdir -p\n');
  writeFileSync(join(src, 'a/top.txt'), 'one\n');
  appendFileSync(join(src, 'a/top.txt'), 'two\n');
  chmodSync(join(src, 'a/top.txt'), 0o640);
  writeFileSync(join(src, 'doomed'), 'x');
  unlinkSync(join(src, 'probe'));
  await waitFor(() => existsSync(join(dst, 'doomed')), { what: 'the loop to copy doomed' });
  unlinkSync(join(src, 'doomed'));
  rmSync(join(src, 'a/b/c'), { recursive: true });
  mkdirSync(join(src, 'a/b/c2'));
  writeFileSync(join(src, 'a/b/c2/late'), 'late\n');
  await waitForSameTree(src, dst, { timeoutMs: 10_000 });
});
