// The npm package installs like any system tool: `npm pack`, then `npm install -g` of the tarball on a
// machine with Node and no compiler, gives a working `inosync` (the addon comes prebuilt, scripts/addon.cjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForSameTree } from '../helpers/compare.js';
import { packageVersion, packPackage, runOrThrow } from '../helpers/pack.js';
import { runCli, startCli, startLoggedCli } from '../helpers/run-cli.js';
import { makeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** All an install and a local sync need; no cc, c++, g++, gcc, make or python3. */
const TOOLS = ['node', 'npm', 'sh', 'env', 'rsync', 'ssh'];

const work = mkdtempSync(join(tmpdir(), 'inosync-npm-'));
const prefix = join(work, 'prefix');
const tools = join(work, 'tools');
/** The PATH of a host without a compiler, with the installed package's bin first. */
const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${tools}` };
const inosync = join(prefix, 'bin', 'inosync');
let tarball = '';
let installLog = '';

before(() => {
  tarball = packPackage(work);

  mkdirSync(tools);
  for (const tool of TOOLS) symlinkSync(runOrThrow('sh', ['-c', `command -v ${tool}`], { cwd: work }).trim(), join(tools, tool));
  // The dependencies come from npm's cache when it has them (this machine ran `npm ci`), else the registry.
  installLog = runOrThrow('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: work, env });
}, { timeout: 180_000 });

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball carries the addon prebuilt for linux-x64, and no build of this machine', () => {
  const files = runOrThrow('tar', ['-tzf', tarball], { cwd: work }).split('\n');
  assert.ok(files.includes('package/prebuilds/linux-x64/inotify.node'), files.join('\n'));
  assert.deepEqual(files.filter((f) => f.startsWith('package/build/')), []);
});

test('the install runs on a PATH with no compiler and uses the prebuilt addon', () => {
  assert.equal(spawnSync('sh', ['-c', 'command -v cc c++ g++ gcc make python3'], { env, encoding: 'utf8' }).stdout, '');
  assert.match(installLog, /using the prebuilt addon prebuilds\/linux-x64\/inotify\.node/);
  assert.equal(existsSync(join(prefix, 'lib', 'node_modules', 'inosync', 'build')), false);
});

test('the installed inosync prints its version', async () => {
  const result = await runCli(['--version'], { bin: inosync, env });
  assert.deepEqual([result.code, result.stdout.trim()], [0, packageVersion]);
});

test('the installed inosync watch reports an event on a temp tree', async (t) => {
  const dir = tempDir(t);
  const watch = startCli(t, ['watch', '-e', 'create', '-t', '20', dir], { bin: inosync, env });
  await waitFor(() => watch.stderr.includes('Watches established'), { what: 'the watches' });
  writeFileSync(join(dir, 'new-file'), '');
  assert.deepEqual(await watch.exited, { code: 0, signal: null });
  assert.equal(watch.stdout, `${dir}/ CREATE new-file\n`);
});

test('the installed inosync sync converges a local target, then exits 0 on SIGTERM', async (t) => {
  const base = tempDir(t);
  const [src, dst] = [join(base, 'src'), join(base, 'dst')];
  makeTree(src, ['a/b/', { path: 'a/b/c.txt', content: 'c' }]);
  mkdirSync(dst);
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', join(base, 'sock')], { bin: inosync, env });
  await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  await waitForSameTree(src, dst);
  writeFileSync(join(src, 'a', 'live.txt'), 'live');
  await waitForSameTree(src, dst);
  agent.cli.child.kill('SIGTERM');
  assert.deepEqual(await agent.cli.exited, { code: 0, signal: null });
});

test('the installed inosync answers as inotifywait through a symlink, as the README says', async (t) => {
  const links = tempDir(t);
  symlinkSync(inosync, join(links, 'inotifywait'));
  const result = await runCli(['--help'], { bin: join(links, 'inotifywait'), env });
  assert.match(result.stdout.split('\n')[0] ?? '', /^Usage: inotifywait /);
});
