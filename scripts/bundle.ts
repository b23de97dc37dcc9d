// Bundles the command line into one CommonJS file, dist/bin/inosync.cjs, and makes the V8 code cache that
// the installed command (src/cli/launcher.cts) starts it with.
// Why: a CLI's start is part of what it costs. Node loads one CommonJS file much faster than a graph of
// ES modules (the ES module loader alone adds about 10 ms, and each module about 0.7 ms): `inosync watch`
// loads about 30 of them, and in a shell loop (`while inosync watch -e modify f; do ...`) it starts for
// every event. The ES modules under dist/src stay the library and what the tests import.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const launcher = join(root, 'dist', 'src', 'cli', 'launcher.cjs');
const bundleFile = join(root, 'dist', 'bin', 'inosync.cjs');
const cacheFile = join(root, 'dist', 'bin', 'inosync.cache');

/**
 * Dependencies are loaded from node_modules as usual, but for p-queue: ES-module-only and imported
 * statically, so a CommonJS bundle would require() it, and esbuild's Node interop then takes the whole
 * namespace for its default export. (main.ts takes yargs, ES-module-only too, through require() itself.)
 */
const BUNDLED = new Set(['p-queue']);

/**
 * Runs `inosync watch -r` on a small tree until its first event, through the launcher, which writes the code
 * cache on exit: a cache made then holds the functions that arming and an event compiled, not only the
 * bundle's top level.
 */
async function makeCodeCache(): Promise<void> {
  const tree = mkdtempSync(join(tmpdir(), 'inosync-cache-'));
  try {
    for (let i = 0; i < 20; i++) mkdirSync(join(tree, `d${i}`, 'e'), { recursive: true });
    const child = spawn(process.execPath, [launcher, 'watch', '-r', '-t', '10', tree], {
      env: { ...process.env, INOSYNC_WRITE_CODE_CACHE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Watches established')) writeFileSync(join(tree, 'd0', 'e', 'f'), '');
    });
    const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('exit', resolve));
    if (code !== 0) throw new Error(`bundle: the run that makes the code cache failed (exit ${code}): ${stderr}`);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

// A cache left from another build must not meet this bundle (the launcher checks too, by the build's name).
rmSync(cacheFile, { force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: bundleFile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)),
  // import.meta is ES-module-only: the few modules that find files beside themselves get the bundle's URL.
  define: { 'import.meta.url': 'importMetaUrl' },
  // The first line names this build: the launcher uses a code cache only if it begins with the same line.
  banner: { js: `// inosync bundle ${randomUUID()}\nconst importMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  // The default, said here because what follows relies on it: code holds ASCII only (other characters escaped).
  charset: 'ascii',
  logLevel: 'warning',
});
// V8 keeps the bundle's source for the life of the process, and a single character beyond Latin-1 makes all of
// it a two-byte string: 1 MiB instead of 0.5 of an idle agent's heap. esbuild keeps some comments, and
// p-queue's hold emoji: with the code ASCII-only (charset above), such characters are in comments, and go.
const bundled = readFileSync(bundleFile, 'utf8');
writeFileSync(bundleFile, bundled.replace(/[^\x00-\x7f]/gu, '?'));
// The launcher runs the bundle as a vm.Script, where import() has no module loader to call. (A name that ends
// in "import", such as esbuild's init_import() for src/cli/import.ts, is no import().)
if (/(?<![\w$.])import\(/.test(bundled)) {
  throw new Error(`bundle: ${bundleFile} holds an import(), which fails in the launcher: load the module with require()`);
}
// The cache only speeds the start up: a build where it cannot be made (no inotify to spare, say) goes on without.
await makeCodeCache().catch((error: unknown) => {
  process.stderr.write(`bundle: no code cache, the command will compile its bundle at each start: ${String(error)}\n`);
});
