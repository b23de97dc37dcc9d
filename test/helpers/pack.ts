// `npm pack` of this package, made from a copy of its sources: a pack rebuilds dist/ and build/, which
// other tests are running from.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const packageVersion = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** What `npm pack` needs from the package: its sources, not its build (the pack makes that). */
const SOURCES = ['package.json', 'package-lock.json', 'tsconfig.json', 'binding.gyp', 'README.md', 'native', 'src', 'scripts', 'test'];

/** Runs a command to completion and returns its output (stdout, then stderr); throws with both if it fails. */
export function runOrThrow(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  const result = spawnSync(command, args, { ...options, encoding: 'utf8', timeout: 150_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
}

/** Packs the package into `dir` (through a copy of its sources in dir/staging); returns the tarball's path. */
export function packPackage(dir: string): string {
  const staging = join(dir, 'staging');
  for (const name of SOURCES) cpSync(join(packageRoot, name), join(staging, name), { recursive: true });
  symlinkSync(join(packageRoot, 'node_modules'), join(staging, 'node_modules'));
  runOrThrow('npm', ['pack', '--pack-destination', dir], { cwd: staging });
  return join(dir, `inosync-${packageVersion}.tgz`);
}
