// The installed command starts its bundle from a V8 code cache made by the build (src/cli/launcher.cts):
// a cache that does not fit must never stop the command, only slow its start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliPath } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';

const packageRoot = fileURLToPath(new URL('../../..', import.meta.url));
const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** A copy of the installed command (launcher, bundle, cache) in a package of its own; returns its launcher. */
function installedCopy(t: CleanupContext): { launcher: string; cache: string; bundle: string } {
  const root = tempDir(t);
  mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
  mkdirSync(join(root, 'dist', 'bin'));
  const launcher = join(root, 'dist', 'src', 'cli', 'launcher.cjs');
  copyFileSync(cliPath, launcher);
  for (const name of ['inosync.cjs', 'inosync.cache']) copyFileSync(join(packageRoot, 'dist', 'bin', name), join(root, 'dist', 'bin', name));
  for (const name of ['package.json', 'node_modules', 'build']) symlinkSync(join(packageRoot, name), join(root, name));
  return { launcher, cache: join(root, 'dist', 'bin', 'inosync.cache'), bundle: join(root, 'dist', 'bin', 'inosync.cjs') };
}

function runVersion(launcher: string): string {
  const run = spawnSync(process.execPath, [launcher, '--version'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  return run.stdout.trim();
}

test('the build leaves a code cache beside the bundle, stamped with the bundle it was made from', () => {
  const bundle = statSync(join(packageRoot, 'dist', 'bin', 'inosync.cjs'));
  const cache = readFileSync(join(packageRoot, 'dist', 'bin', 'inosync.cache'));
  const stamp = cache.toString('latin1', 0, cache.indexOf(10));
  assert.equal(stamp, `${bundle.size} ${bundle.mtimeMs}`);
});

test('the command runs without its code cache', (t) => {
  const copy = installedCopy(t);
  writeFileSync(copy.cache, '');
  assert.equal(runVersion(copy.launcher), version);
});

test('a code cache stamped for another bundle is not used', (t) => {
  const copy = installedCopy(t);
  const cache = readFileSync(copy.cache);
  writeFileSync(copy.cache, Buffer.concat([Buffer.from('1 2\n'), cache.subarray(cache.indexOf(10) + 1)]));
  assert.equal(runVersion(copy.launcher), version);
});

test('a damaged code cache with the right stamp is refused by V8, and the command still runs', (t) => {
  const copy = installedCopy(t);
  const { size, mtimeMs } = statSync(copy.bundle);
  writeFileSync(copy.cache, Buffer.concat([Buffer.from(`${size} ${mtimeMs}\n`), Buffer.alloc(4096, 0x5a)]));
  assert.equal(runVersion(copy.launcher), version);
});
