#!/usr/bin/env node
// The installed `inosync` command: runs the CLI bundle (dist/bin/inosync.cjs, see scripts/bundle.ts) with
// the V8 code cache the build made for it, so that a start skips compiling what a run of `watch` needs.
// Why: Node 20 has no compile cache of its own (module.enableCompileCache is Node 22), and `inosync watch`
// races inotifywait from a cold start: compiling the bundle and what a walk calls costs 5 to 10 ms of the
// 150 to 200 ms that arming 20,000 directories takes. A cache that does not fit (another Node, other V8
// flags, another build) is not used.
// First of all, before the bundle is even read: the process's signal listeners (see src/safety/signals.cts).
import '../safety/signals.cjs';
import { readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const bundle = join(__dirname, '..', '..', 'bin', 'inosync.cjs');
const cacheFile = join(__dirname, '..', '..', 'bin', 'inosync.cache');

/** The cache, if it was made from this very bundle: both begin with the same line, naming the build. */
function cacheFor(stamp: string): Buffer | undefined {
  let cache: Buffer;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const newline = cache.indexOf(10);
  return cache.toString('latin1', 0, newline) === stamp ? cache.subarray(newline + 1) : undefined;
}

/** The bundle's text; a checkout built by tsc alone has none, which is said plainly. */
function bundleSource(): string {
  try {
    return readFileSync(bundle, 'utf8');
  } catch (error) {
    process.stderr.write(`inosync: the command's bundle cannot be read (${(error as Error).message}).\nBuild it: npm run build (in ${join(__dirname, '..', '..', '..')}).\n`);
    process.exit(1);
  }
}

// V8's memory reducer: armed once the old generation has grown 1 MiB past its size after V8's bootstrap (as
// the code cache is read), it looks at the heap this flag's delay later, and every 8 s after that until it
// measures a low allocation rate, then runs two or three mark-compacts. Left at V8's 8 s it woke an idle agent
// every 8 s (strace: epoll_wait timeouts of 8100 ms, for minutes) and ran its GCs anywhere from 17 to 100 s
// after the start, 60-90 ms of CPU in an agent already idle. At the longest delay a timer holds its first look
// never comes, and while it waits, later mark-compacts arm no timer of theirs: an idle agent wakes for
// nothing. Ordinary GCs still collect, and the agent runs one full GC itself when its startup is over
// (src/cli/heap-trim.ts), with the gc() that --expose-gc gives new contexts (not this one's global).
const REDUCER_NEVER = `--gc-memory-reducer-start-delay-ms=${2 ** 31 - 1}`;
const GC_FOR_NEW_CONTEXTS = '--expose-gc';
// V8's young generation starts at 1 MiB per semi-space and doubles while what it holds survives, up to
// 16 MiB; with the memory reducer asleep nothing shrinks it again. Loading the bundle and parsing the command
// line grew it to 4 MiB (8 MiB committed, touched), and an idle agent kept that, and the garbage Buffers its
// rarer scavenges had not freed (up to 5 MiB of malloc): a growth factor of 1 keeps the start size. Measured:
// idle sync agent 65.8 -> 60.8 MiB RSS; arming 20k directories (`watch -r`) took no more CPU and peaked
// 16 MiB lower.
const YOUNG_GENERATION_FIXED = '--semi-space-growth-factor=1';
// Set before the bundle is compiled, in every run, the one that writes the cache (the build runs one `watch`)
// included: a cache carries the flags it was made under, and V8 rejects it under others.
setFlagsFromString(REDUCER_NEVER);
setFlagsFromString(GC_FOR_NEW_CONTEXTS);
setFlagsFromString(YOUNG_GENERATION_FIXED);
const source = bundleSource();
const stamp = source.slice(0, source.indexOf('\n'));
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData: cacheFor(stamp) });
// The build runs one `watch` with this set, so that the cache holds the functions a walk compiles.
if (process.env.INOSYNC_WRITE_CODE_CACHE === '1') {
  process.on('exit', () => writeFileSync(cacheFile, Buffer.concat([Buffer.from(`${stamp}\n`), script.createCachedData()])));
}
const bundleModule = new Module(bundle, module);
const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
run.call(bundleModule.exports, bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, dirname(bundle));
