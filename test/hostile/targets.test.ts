// Issue 12, item 1: a target that is, holds or lies inside a source (or is the root) is refused before
// anything runs, on real paths (symlinks and `..` resolved), from flags, the config file, SIGHUP and check.
// Each refusal exits 2, names both real paths, and leaves the source as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startLoggedCli, type CliResult } from '../helpers/run-cli.js';
import { makeTree, tempDir, type CleanupContext } from '../helpers/tmp.js';

/** `base/x/tgt/src` holding files, and a file beside src that a --delete on `x/tgt` would take too. */
function layout(t: CleanupContext): { base: string; tgt: string; src: string } {
  const base = realpathSync(tempDir(t, 'inosync-hostile-'));
  const tgt = join(base, 'x', 'tgt');
  const src = join(tgt, 'src');
  makeTree(src, [{ path: 'keep', content: 'precious' }, 'sub/deep']);
  writeFileSync(join(tgt, 'beside'), 'also precious');
  return { base, tgt, src };
}

function assertRefused(result: CliResult, paths: string[], src: string): void {
  assert.equal(result.code, 2, result.stderr);
  for (const path of paths) assert.ok(result.stderr.includes(path), `${path} is not named in:\n${result.stderr}`);
  assert.match(result.stderr, /fix: /);
  assert.deepEqual(readdirSync(src).sort(), ['keep', 'sub']);
  assert.deepEqual(readdirSync(join(src, '..')).sort(), ['beside', 'src']);
}

test('the reproduction: a target that contains the source (sync -s /x/tgt/src -t /x/tgt) is refused', async (t) => {
  const { tgt, src } = layout(t);
  const result = await runCli(['sync', '-s', src, '-t', tgt]);
  assertRefused(result, [tgt, src], src);
  assert.match(result.stderr, /contains the source/);
});

test('a target inside the source is refused, even one that does not exist yet', async (t) => {
  const { src } = layout(t);
  const mirror = join(src, 'mirror', 'deeper');
  assertRefused(await runCli(['sync', '-s', src, '-t', mirror]), [mirror, src], src);
});

test('a target that is the source is refused', async (t) => {
  const { src } = layout(t);
  assertRefused(await runCli(['sync', '-s', src, '-t', `${src}/`]), [src], src);
});

test('the filesystem root as a target is refused', async (t) => {
  const { src } = layout(t);
  const result = await runCli(['sync', '-s', src, '-t', '/']);
  assertRefused(result, ['real paths: target /,', src], src);
  assert.match(result.stderr, /filesystem root/);
});

test('a remote target path of / (or /.) is refused', async (t) => {
  const { src } = layout(t);
  for (const spec of ['127.0.0.1:/', 'backup@127.0.0.1:/.', '127.0.0.1://']) {
    const result = await runCli(['sync', '-s', src, '-t', spec]);
    assertRefused(result, [spec], src);
    assert.match(result.stderr, /root directory of 127\.0\.0\.1/);
  }
});

test('a source that is not an existing directory is refused', async (t) => {
  const { base, src } = layout(t);
  const dst = join(base, 'dst');
  for (const source of [join(base, 'missing'), join(src, 'keep')]) {
    const result = await runCli(['sync', '-s', source, '-t', dst]);
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(source), result.stderr);
  }
});

test('symlinks are resolved: a symlink to the source\'s parent, and a new path under a symlink into the source', async (t) => {
  const { base, tgt, src } = layout(t);
  symlinkSync(tgt, join(base, 'to-parent'));
  assertRefused(await runCli(['sync', '-s', src, '-t', join(base, 'to-parent')]), [tgt, src], src);
  symlinkSync(src, join(base, 'to-src'));
  const sneaky = join(base, 'to-src', 'new', 'dir');
  assertRefused(await runCli(['sync', '-s', src, '-t', sneaky]), [join(src, 'new', 'dir'), src], src);
  // A source given through a symlink, and SRC/.. as the source.
  assertRefused(await runCli(['sync', '-s', join(base, 'to-src'), '-t', tgt]), [tgt, src], src);
  assertRefused(await runCli(['sync', '-s', `${src}/..`, '-t', join(src, 'm')]), [tgt, join(src, 'm')], src);
  // A dangling symlink into the source: where rsync would end up through it is not known.
  symlinkSync(join(src, 'not-yet'), join(base, 'dangling'));
  assertRefused(await runCli(['sync', '-s', src, '-t', join(base, 'dangling')]), [join(base, 'dangling')], src);
});

test('the config file: SRC/.. as a target, and one sync\'s target inside another sync\'s source, are refused', async (t) => {
  const { base, tgt, src } = layout(t);
  const config = join(base, 'inosync.yaml');
  writeFileSync(config, `syncs:\n  - { source: ${src}, targets: [${src}/..] }\n`);
  assertRefused(await runCli(['sync', '--config', config]), [tgt, src], src);

  const other = join(base, 'other');
  mkdirSync(other);
  writeFileSync(config, `syncs:\n  - { source: ${src}, targets: [${join(base, 'm1')}] }\n  - { source: ${other}, targets: [${join(src, 'sub')}] }\n`);
  const result = await runCli(['sync', '--config', config]);
  assertRefused(result, [join(src, 'sub'), src], src);
  assert.match(result.stderr, /another sync/);
});

test('two targets inside each other are refused', async (t) => {
  const { base, src } = layout(t);
  const outer = join(base, 'm');
  const result = await runCli(['sync', '-s', src, '-t', outer, '-t', join(outer, 'inner')]);
  assertRefused(result, [outer, join(outer, 'inner')], src);
});

test('inosync check refuses the same targets', async (t) => {
  const { tgt, src } = layout(t);
  assertRefused(await runCli(['check', '-s', src, '-t', tgt]), [tgt, src], src);
});

test('SIGHUP with a config whose target contains the source keeps the running config', async (t) => {
  const { base, tgt, src } = layout(t);
  const dst = join(base, 'dst');
  const config = join(base, 'inosync.yaml');
  const socket = join(base, 'inosync.sock');
  writeFileSync(config, `socket: ${socket}\nsyncs:\n  - { source: ${src}, targets: [${dst}] }\n`);
  const agent = startLoggedCli(t, ['sync', '--config', config], { leftovers: true });
  await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  writeFileSync(config, `socket: ${socket}\nsyncs:\n  - { source: ${src}, targets: [${tgt}] }\n`);
  agent.cli.child.kill('SIGHUP');
  const refused = await agent.waitForLog((l) => l.msg.startsWith('SIGHUP: the new config is not used'), 'the reload to be refused');
  assert.ok(String(refused.problem).includes(`real paths: target ${tgt}, source ${src}`), String(refused.problem));
  agent.cli.child.kill('SIGTERM');
  assert.equal((await agent.cli.exited).code, 0);
  assert.deepEqual(readdirSync(src).sort(), ['keep', 'sub']);
  assert.deepEqual(readdirSync(tgt).sort(), ['beside', 'src']);
});
