// Bundles the command line into one CommonJS file, dist/inosync.cjs (the package's `bin`).
// Why: a CLI's start is part of what it costs. Node loads one CommonJS file much faster than a graph of
// ES modules (the ES module loader alone adds about 10 ms, and each module about 0.7 ms): `inosync watch`
// loads about 30 of them, and in a shell loop (`while inosync watch -e modify f; do ...`) it starts for
// every event. The ES modules under dist/src stay the library and what the tests import.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { dependencies: Record<string, string> };

/**
 * Dependencies are loaded from node_modules as usual, but for p-queue: ES-module-only and imported
 * statically, so a CommonJS bundle would require() it, and esbuild's Node interop then takes the whole
 * namespace for its default export. yargs is ES-module-only too, but imported dynamically (import() stays).
 */
const BUNDLED = new Set(['p-queue']);

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/inosync.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)),
  // import.meta is ES-module-only: the few modules that find files beside themselves get the bundle's URL.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
