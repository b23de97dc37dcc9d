// Issue 12, item 11: a source directory whose path is not valid UTF-8 (process.argv would decode its byte
// 0xff as U+FFFD) is mirrored exactly, checked by `inosync check`, and guarded by the overlap check on its
// real bytes; a target that is not UTF-8 is refused. Node cannot put such bytes on a child's command line, so the CLI is started through bash,
// which turns the placeholder @FF@ in each word into the byte 0xff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForSameTree } from '../helpers/compare.js';
import { runCli, startLoggedCli } from '../helpers/run-cli.js';
import { bytesPath, makeTree, tempDir } from '../helpers/tmp.js';

const PLACEHOLDER = '@FF@';
const withByteFF = ['bash', '-c', `a=(); for w in "$@"; do a+=("\${w//${PLACEHOLDER}/$'\\xff'}"); done; exec "\${a[@]}"`, 'bash'];

function layout(t: Parameters<typeof tempDir>[0]): { base: string; src: Buffer; srcArg: string; dst: string } {
  const base = tempDir(t, 'inosync-non-utf8-');
  const src = bytesPath(base, Buffer.from([0x73, 0xff, 0x72, 0x63])); // "s\xffrc"
  makeTree(src, [{ path: 'top', content: 'top' }, { path: 'd/inner', content: 'inner' }]);
  const dst = join(base, 'dst');
  mkdirSync(dst);
  return { base, src, srcArg: join(base, `s${PLACEHOLDER}rc`), dst };
}

test('a source whose name holds byte 0xff is mirrored, live, and named escaped in the log; its alias goes at exit', async (t) => {
  const { base, src, srcArg, dst } = layout(t);
  const tmp = join(base, 'tmp');
  mkdirSync(tmp);
  const agent = startLoggedCli(t, ['sync', '-s', srcArg, '-t', dst, '--socket', join(base, 'inosync.sock')], { prefix: withByteFF, env: { ...process.env, TMPDIR: tmp }, leftovers: true });
  const running = await agent.waitForLog((l) => l.msg.startsWith('watching'), 'the agent to watch');
  assert.equal(running.source, `${base}/s\\xffrc`);
  await waitForSameTree(src, dst);
  writeFileSync(bytesPath(src, 'd', 'later'), 'changed while running');
  await waitForSameTree(src, dst);
  assert.equal(readdirSync(tmp).filter((name) => name.startsWith('inosync-source-')).length, 1);
  agent.cli.child.kill('SIGTERM');
  assert.equal((await agent.cli.exited).code, 0);
  assert.deepEqual(readdirSync(tmp).filter((name) => name.startsWith('inosync-source-')), []);
});

test('inosync check compares such a source, and a target inside it (by its real bytes) is refused', async (t) => {
  const { base, src, srcArg, dst } = layout(t);
  const before = await runCli(['check', '-s', srcArg, '-t', dst], { prefix: withByteFF });
  assert.equal(before.code, 1, before.stderr);
  assert.match(before.stdout, /s\\xffrc -> \S+: \d+ differences/);

  // Through a symlink with a UTF-8 name, the target's real path is the source's bytes.
  symlinkSync(src, join(base, 'to-src'));
  const inside = await runCli(['sync', '-s', srcArg, '-t', join(base, 'to-src', 'mirror')], { prefix: withByteFF });
  assert.equal(inside.code, 2, inside.stderr);
  assert.match(inside.stderr, /lies inside the source .*s\\xffrc\/mirror, source .*s\\xffrc\)/);
  // Given with its own bytes, a target that is not UTF-8 is refused: its decoded name is another path.
  const raw = await runCli(['sync', '-s', srcArg, '-t', `${srcArg}/mirror`], { prefix: withByteFF });
  assert.equal(raw.code, 2, raw.stderr);
  assert.match(raw.stderr, /target .*s\\xffrc\/mirror is not valid UTF-8/);
  assert.deepEqual(readdirSync(src).sort(), ['d', 'top']);
});
