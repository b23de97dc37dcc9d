// Temporary directories and trees for tests. Paths may be Buffers: test names need not be valid UTF-8.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The subset of node:test's TestContext this module needs (cleanup registration). */
export interface CleanupContext {
  after(fn: () => void | Promise<void>): void;
}

/** A fresh directory under os.tmpdir(), removed (recursively) when the test ends. */
export function tempDir(t: CleanupContext, prefix = 'inosync-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // A process the test started (and stops in a later hook) may still be writing here: retry, don't fail.
  t.after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 }));
  return dir;
}

/**
 * A fresh directory under os.tmpdir() that may come to hold paths longer than PATH_MAX, removed by `rm -rf`
 * when the test ends (Node's rmSync fails on them).
 */
export function deepTempDir(t: CleanupContext, prefix = 'inosync-deep-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // As tempDir: an rsync of a stopped agent may still be writing here for a moment, so retry, don't fail.
  t.after(async () => {
    let rm = spawnSync('rm', ['-rf', '--', dir]);
    for (let tries = 1; rm.status !== 0 && tries < 40; tries++) {
      await new Promise((resolve) => { setTimeout(resolve, 50); });
      rm = spawnSync('rm', ['-rf', '--', dir]);
    }
    if (rm.status !== 0) throw new Error(`rm -rf ${dir} failed: ${rm.stderr.toString()}`);
  });
  return dir;
}

/**
 * Makes `top` under `dir`, a chain of `levels` directories named `d` below it and a file `f` at the bottom.
 * Made in steps relative to the last one (400 levels, then chdir into them), so that no path handed to a
 * syscall is longer than PATH_MAX while the chain is.
 */
export function makeDeepChain(dir: string, top: string, levels: number): void {
  // A child process of its own: chdir() there leaves the test runner's working directory alone.
  const script = `const fs = require('node:fs'); const [dir, top, levels] = process.argv.slice(1);
    process.chdir(dir); fs.mkdirSync(top); process.chdir(top);
    for (let left = Number(levels); left > 0; left -= 400) {
      const step = Array(Math.min(left, 400)).fill('d').join('/');
      fs.mkdirSync(step, { recursive: true }); process.chdir(step);
    }
    fs.writeFileSync('f', 'bottom\\n');`;
  const made = spawnSync(process.execPath, ['-e', script, dir, top, String(levels)]);
  if (made.status !== 0) throw new Error(`making a chain of ${levels} directories failed: ${made.stderr.toString()}`);
}

/** Joins path parts with '/' as bytes, so parts may hold any byte except '/' and NUL. */
export function bytesPath(...parts: Array<string | Buffer>): Buffer {
  const slash = Buffer.from('/');
  return Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [Buffer.from(part)] : [slash, Buffer.from(part)])));
}

/** File names that break naive tools: each must round-trip exactly as bytes. */
export const oddNames = {
  newline: Buffer.from('new\nline'),
  leadingDash: Buffer.from('-rf --delete'),
  star: Buffer.from('*'),
  shell: Buffer.from('$(touch pwned) `x`'),
  nonUtf8: Buffer.from([0x66, 0xff, 0x6f]),
} as const;

/**
 * One entry of a tree. A string or Buffer path ending in '/' is a directory, any other a file
 * (empty). Objects give content or a symlink target. Paths are relative to the tree root.
 */
export type TreeEntry = string | Buffer | { path: string | Buffer; content?: string | Buffer; symlinkTo?: string | Buffer };

/** Creates entries under root in order (parents are created as needed). */
export function makeTree(root: string | Buffer, entries: readonly TreeEntry[]): void {
  for (const entry of entries) {
    const spec = typeof entry === 'string' || Buffer.isBuffer(entry) ? { path: entry } : entry;
    const rel = Buffer.from(spec.path);
    const isDir = rel.length > 0 && rel[rel.length - 1] === 0x2f;
    const path = bytesPath(root, isDir ? rel.subarray(0, rel.length - 1) : rel);
    const parentEnd = path.lastIndexOf(0x2f);
    if (parentEnd > 0) mkdirSync(path.subarray(0, parentEnd), { recursive: true });
    if (isDir) mkdirSync(path, { recursive: true });
    else if (spec.symlinkTo !== undefined) symlinkSync(Buffer.from(spec.symlinkTo), path);
    else writeFileSync(path, spec.content ?? '');
  }
}

/** `count` directories spread as d0/…/d{width-1}/… so that no directory holds more than `width` children. */
export function directoryPaths(count: number, width = 10): string[] {
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const digits = i.toString(width).split('');
    paths.push(digits.map((d) => `d${d}`).join('/') + '/');
  }
  return paths;
}
