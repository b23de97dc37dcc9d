// The installed command starts its bundle from a V8 code cache made by the build (src/cli/launcher.cts):
// a cache that does not fit must never stop the command, only slow its start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  mkdirSync(join(root, 'dist', 'src', 'safety'));
  mkdirSync(join(root, 'dist', 'bin'));
  const launcher = join(root, 'dist', 'src', 'cli', 'launcher.cjs');
  copyFileSync(cliPath, launcher);
  // What the launcher loads before the bundle: the process's signal listeners.
  copyFileSync(join(packageRoot, 'dist', 'src', 'safety', 'signals.cjs'), join(root, 'dist', 'src', 'safety', 'signals.cjs'));
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

/** The first line of a file, which names the build in both the bundle and its cache. */
function firstLine(path: string): string {
  const bytes = readFileSync(path);
  return bytes.toString('latin1', 0, bytes.indexOf(10));
}

test('the build leaves a code cache beside the bundle, stamped with the bundle it was made from', () => {
  const stamp = firstLine(join(packageRoot, 'dist', 'bin', 'inosync.cjs'));
  assert.match(stamp, /^\/\/ inosync bundle [0-9a-f-]{36}$/);
  assert.equal(firstLine(join(packageRoot, 'dist', 'bin', 'inosync.cache')), stamp);
});

test('the command runs without its code cache', (t) => {
  const copy = installedCopy(t);
  writeFileSync(copy.cache, '');
  assert.equal(runVersion(copy.launcher), version);
});

test('a code cache stamped for another bundle is not used', (t) => {
  const copy = installedCopy(t);
  const cache = readFileSync(copy.cache);
  writeFileSync(copy.cache, Buffer.concat([Buffer.from('// inosync bundle of another build\n'), cache.subarray(cache.indexOf(10) + 1)]));
  assert.equal(runVersion(copy.launcher), version);
});

test('a damaged code cache with the right stamp is refused by V8, and the command still runs', (t) => {
  const copy = installedCopy(t);
  writeFileSync(copy.cache, Buffer.concat([Buffer.from(`${firstLine(copy.bundle)}\n`), Buffer.alloc(4096, 0x5a)]));
  assert.equal(runVersion(copy.launcher), version);
});

test('a command without its bundle says how to build it, and exits 1', (t) => {
  const copy = installedCopy(t);
  rmSync(copy.bundle);
  const run = spawnSync(process.execPath, [copy.launcher, '--version'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^inosync: the command's bundle cannot be read \(ENOENT.*\)\.\nBuild it: npm run build \(in .*\)\.\n$/);
});
