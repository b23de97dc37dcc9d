// One entry of a target's state record: a path relative to the source root and what it looked like on the
// source just before an rsync that then confirmed it (see store.ts for why "before"). Kept as bytes, never as
// JS objects in bulk: a record of a million entries lives in files and streams through fixed-size buffers.
//
// Order: entries are sorted component by component (a '/' sorts before every other byte), so that a
// directory's descendants follow it directly: the order a depth-first walk with sorted siblings produces, and
// the one a merge-join of two records needs to skip a whole subtree in one step.
//
// Layout (little-endian): u16 path length, u8 kind, u8 pad, u32 mode, u32 uid, u32 gid,
// u64 size, i64 mtime ns, i64 ctime ns, u64 ino, path bytes. ctime is in the comparison because nothing
// can set it back: a file renamed away and back, relinked or given new xattrs or ACLs has a new one.
import type { BigIntStats } from 'node:fs';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other' | 'unknown';

/**
 * 'unknown' is a path whose state on the target is not known, with everything below it: sent whole (as a
 * tree) at the next start. It is what an rsync in flight, an unreadable directory or a racy stat leaves.
 */
export interface Entry {
  path: Buffer;
  kind: EntryKind;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
}

const KINDS: readonly EntryKind[] = ['file', 'dir', 'symlink', 'other', 'unknown'];
/** The kind byte of an encoded entry (its index in KINDS). */
export const KIND = { file: 0, dir: 1, symlink: 2, other: 3, unknown: 4 } as const;
export const FIXED_BYTES = 48;
/** Where an encoded entry's fields start, from the entry's first byte. */
export const AT = { kind: 2, mode: 4, mtime: 24, ctime: 32, ino: 40, path: FIXED_BYTES } as const;
/** PATH_MAX: longer paths are never recorded (the walk skips them too). */
export const MAX_PATH_BYTES = 4096;
const SLASH = 0x2f;

/**
 * Timestamps within this of the moment they were read are racy: the same tick may still hold a later write
 * of the same size (timestamps are coarse, a jiffy), which would look unchanged. A racy file is recorded as
 * unknown (git's "racily clean" index entries, same cure); a racy directory keeps its place (what is below it
 * has stats of its own) with an mtime that matches nothing (RACY_MTIME), so its own attributes are sent again.
 */
export const RACY_NS = 50_000_000n;
const RACY_MTIME = -1n;

export function entryFromStats(path: Buffer, stats: BigIntStats, readAtNs: bigint): Entry {
  const kind: EntryKind = stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'other';
  const racy = readAtNs - stats.mtimeNs < RACY_NS || readAtNs - stats.ctimeNs < RACY_NS;
  return {
    path, kind: racy && kind !== 'dir' ? 'unknown' : kind, mode: Number(stats.mode), uid: Number(stats.uid), gid: Number(stats.gid),
    size: stats.size, mtimeNs: racy ? RACY_MTIME : stats.mtimeNs, ctimeNs: stats.ctimeNs, ino: stats.ino,
  };
}

export function unknownEntry(path: Buffer): Entry {
  return { path, kind: 'unknown', mode: 0, uid: 0, gid: 0, size: 0n, mtimeNs: 0n, ctimeNs: 0n, ino: 0n };
}

export function encodedLength(entry: Entry): number {
  return FIXED_BYTES + entry.path.length;
}

/** Writes `entry` at `offset` of `into` (which has room: encodedLength). */
export function encodeEntry(entry: Entry, into: Buffer, offset: number): number {
  into.writeUInt16LE(entry.path.length, offset);
  into.writeUInt8(KINDS.indexOf(entry.kind), offset + 2);
  into.writeUInt8(0, offset + 3);
  into.writeUInt32LE(entry.mode >>> 0, offset + 4);
  into.writeUInt32LE(entry.uid >>> 0, offset + 8);
  into.writeUInt32LE(entry.gid >>> 0, offset + 12);
  into.writeBigUInt64LE(entry.size, offset + 16);
  into.writeBigInt64LE(entry.mtimeNs, offset + 24);
  into.writeBigInt64LE(entry.ctimeNs, offset + 32);
  into.writeBigUInt64LE(entry.ino, offset + AT.ino);
  entry.path.copy(into, offset + FIXED_BYTES);
  return offset + FIXED_BYTES + entry.path.length;
}

/** The entry at `offset`, or undefined when `from` ends before it does; throws on a malformed one. */
export function decodeEntry(from: Buffer, offset: number): { entry: Entry; next: number } | undefined {
  if (from.length - offset < FIXED_BYTES) return undefined;
  const length = from.readUInt16LE(offset);
  const kind = KINDS[from.readUInt8(offset + 2)];
  if (kind === undefined || length > MAX_PATH_BYTES) throw new Error(`malformed state entry at byte ${offset}`);
  const next = offset + FIXED_BYTES + length;
  if (next > from.length) return undefined;
  return {
    entry: {
      path: Buffer.from(from.subarray(offset + FIXED_BYTES, next)),
      kind,
      mode: from.readUInt32LE(offset + 4),
      uid: from.readUInt32LE(offset + 8),
      gid: from.readUInt32LE(offset + 12),
      size: from.readBigUInt64LE(offset + 16),
      mtimeNs: from.readBigInt64LE(offset + 24),
      ctimeNs: from.readBigInt64LE(offset + 32),
      ino: from.readBigUInt64LE(offset + 40),
    },
    next,
  };
}

/** Component-wise order of relative paths: a '/' sorts before any other byte (see the header). */
export function comparePaths(a: Buffer, b: Buffer): number {
  return compareRanges(a, 0, a.length, b, 0, b.length);
}

/** comparePaths of a[aStart, aEnd) and b[bStart, bEnd): for paths inside encoded entries, without a view each. */
export function compareRanges(a: Buffer, aStart: number, aEnd: number, b: Buffer, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const x = a[aStart + i]!;
    const y = b[bStart + i]!;
    if (x === y) continue;
    if (x === SLASH) return -1;
    if (y === SLASH) return 1;
    return x - y;
  }
  return (aEnd - aStart) - (bEnd - bStart);
}

/** True when `path` is `dir` itself or lies below it ('' is the root, above everything). */
export function isWithin(path: Buffer, dir: Buffer): boolean {
  return isWithinRange(path, 0, path.length, dir);
}

/** isWithin of the path at path[start, end). */
export function isWithinRange(path: Buffer, start: number, end: number, dir: Buffer): boolean {
  if (dir.length === 0) return true;
  if (end - start < dir.length || path.compare(dir, 0, dir.length, start, start + dir.length) !== 0) return false;
  return end - start === dir.length || path[start + dir.length] === SLASH;
}

/**
 * Whether the target would need the entry at now[nowAt] sent, given it has the one at then[thenAt]: not when
 * the kind byte and bytes 4..47 (every stat) are equal and the record's entry is neither unknown nor racy.
 */
export function sameEncoded(then: Buffer, thenAt: number, now: Buffer, nowAt: number): boolean {
  const kind = then[thenAt + AT.kind];
  return kind === now[nowAt + AT.kind] && kind !== KIND.unknown && !isRacyMtime(then, thenAt)
    && then.compare(now, nowAt + AT.mode, nowAt + FIXED_BYTES, thenAt + AT.mode, thenAt + FIXED_BYTES) === 0;
}

/** The entry at `at` has RACY_MTIME (-1: all eight bytes set). */
function isRacyMtime(bytes: Buffer, at: number): boolean {
  return bytes.readInt32LE(at + AT.mtime) === -1 && bytes.readInt32LE(at + AT.mtime + 4) === -1;
}
