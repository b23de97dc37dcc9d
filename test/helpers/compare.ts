// Compares two directory trees the way a mirror must match its source: paths as bytes, types, content,
// permission bits, symlink targets (and, on request, hard-link groups and mtimes). Returns readable
// differences, one line each, names with unprintable bytes shown as \xNN.
//
//   assert.deepEqual(await compareTrees(src, dst), []);
//   await waitForSameTree(src, dst, { timeoutMs: 10_000 });   // rejects with the differences left
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';

export interface CompareOptions {
  /** Leave out a relative path (and, for a directory, everything below it). */
  ignore?: (relativePath: Buffer) => boolean;
  /** Compare permission bits (default true). */
  modes?: boolean;
  /** Compare the roots' own permission bits too (default false: the target root is often made by hand). */
  rootMode?: boolean;
  /** Compare regular files' mtimes to the second (default false). */
  mtimes?: boolean;
  /** Require files hard-linked together in `a` to be hard-linked together in `b` (default false). */
  hardLinks?: boolean;
}

interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  stats: Stats;
}

export async function compareTrees(a: string | Buffer, b: string | Buffer, options: CompareOptions = {}): Promise<string[]> {
  const left = await listTree(Buffer.from(a), options.ignore);
  const right = await listTree(Buffer.from(b), options.ignore);
  const diffs: string[] = [];
  const keys = [...new Set([...left.keys(), ...right.keys()])].sort();
  for (const key of keys) {
    const rel = Buffer.from(key, 'latin1');
    const name = show(rel);
    const x = left.get(key);
    const y = right.get(key);
    if (x === undefined) { diffs.push(`only in ${show(Buffer.from(b))}: ${name} (${y!.type})`); continue; }
    if (y === undefined) { diffs.push(`only in ${show(Buffer.from(a))}: ${name} (${x.type})`); continue; }
    if (x.type !== y.type) { diffs.push(`type differs: ${name} (${x.type} vs ${y.type})`); continue; }
    const isRoot = rel.length === 0;
    if (x.type !== 'symlink' && options.modes !== false && (!isRoot || options.rootMode === true)) {
      const mx = x.stats.mode & 0o7777;
      const my = y.stats.mode & 0o7777;
      if (mx !== my) diffs.push(`mode differs: ${name} (${mx.toString(8)} vs ${my.toString(8)})`);
    }
    if (x.type === 'symlink') {
      const [tx, ty] = await Promise.all([readlink(join(a, rel), { encoding: 'buffer' }), readlink(join(b, rel), { encoding: 'buffer' })]);
      if (!tx.equals(ty)) diffs.push(`symlink target differs: ${name} (${show(tx)} vs ${show(ty)})`);
    }
    if (x.type === 'file') {
      if (x.stats.size !== y.stats.size) diffs.push(`size differs: ${name} (${x.stats.size} vs ${y.stats.size} bytes)`);
      else if (!(await readFile(join(a, rel))).equals(await readFile(join(b, rel)))) diffs.push(`content differs: ${name}`);
      if (options.mtimes === true && Math.floor(x.stats.mtimeMs / 1000) !== Math.floor(y.stats.mtimeMs / 1000)) diffs.push(`mtime differs: ${name}`);
    }
  }
  if (options.hardLinks === true) diffs.push(...compareLinkGroups(left, right));
  return diffs;
}

/** Polls compareTrees until the trees match; rejects at the deadline with the differences still there. */
export async function waitForSameTree(a: string | Buffer, b: string | Buffer, options: CompareOptions & { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // An entry deleted while it is being listed (rsync still at work) is a difference, not an error.
    const diffs = await compareTrees(a, b, options).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [`vanished while listed: ${String(error.path)}`];
      throw error;
    });
    if (diffs.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`trees still differ after ${timeoutMs} ms:\n  ${describe(diffs)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The first `limit` differences, one per line, and how many more there were. */
export function describe(diffs: string[], limit = 40): string {
  const more = diffs.length > limit ? [`... and ${diffs.length - limit} more`] : [];
  return [...diffs.slice(0, limit), ...more].join('\n  ');
}

/** Every entry below root (root itself as the empty path), keyed by its relative path as latin1. */
async function listTree(root: Buffer, ignore: CompareOptions['ignore']): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  const visit = async (rel: Buffer): Promise<void> => {
    const stats = await lstat(join(root, rel));
    const entry: Entry = { type: stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : stats.isFile() ? 'file' : 'other', stats };
    entries.set(rel.toString('latin1'), entry);
    if (entry.type !== 'dir') return;
    for (const name of await readdir(join(root, rel), { encoding: 'buffer' })) {
      const child = rel.length === 0 ? name : Buffer.concat([rel, SLASH, name]);
      if (ignore?.(child) !== true) await visit(child);
    }
  };
  await visit(Buffer.alloc(0));
  return entries;
}

/** Files sharing an inode in one tree must share one in the other, group for group. */
function compareLinkGroups(left: Map<string, Entry>, right: Map<string, Entry>): string[] {
  const groups = (tree: Map<string, Entry>): Map<string, string> => {
    const byInode = new Map<string, string[]>();
    for (const [key, entry] of tree) {
      if (entry.type !== 'file' || entry.stats.nlink < 2) continue;
      const inode = `${entry.stats.dev}:${entry.stats.ino}`;
      byInode.set(inode, [...(byInode.get(inode) ?? []), key]);
    }
    const groupOf = new Map<string, string>();
    for (const members of byInode.values()) if (members.length > 1) for (const m of members) groupOf.set(m, members.sort().join('\0'));
    return groupOf;
  };
  const gl = groups(left);
  const gr = groups(right);
  const diffs: string[] = [];
  for (const key of new Set([...gl.keys(), ...gr.keys()])) {
    if (gl.get(key) !== gr.get(key)) diffs.push(`hard links differ: ${show(Buffer.from(key, 'latin1'))}`);
  }
  return diffs.sort();
}

const SLASH = Buffer.from('/');

function join(root: string | Buffer, rel: Buffer): Buffer {
  return rel.length === 0 ? Buffer.from(root) : Buffer.concat([Buffer.from(root), SLASH, rel]);
}

/** Printable ASCII as is, everything else as \xNN; quoted when it holds spaces. */
export function show(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) out += byte >= 0x21 && byte <= 0x7e && byte !== 0x5c ? String.fromCharCode(byte) : byte === 0x20 ? ' ' : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out.includes(' ') || out.length === 0 ? `"${out}"` : out;
}
