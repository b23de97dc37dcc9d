// The TypeScript face of native/inotify.cc: loads the addon and decodes the raw records of a drain.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';

/** Every IN_* constant the kernel headers define, by name. */
export type InotifyConstants = Readonly<Record<InotifyConstantName, number>>;

export type InotifyConstantName =
  | 'IN_ACCESS' | 'IN_MODIFY' | 'IN_ATTRIB' | 'IN_CLOSE_WRITE' | 'IN_CLOSE_NOWRITE' | 'IN_CLOSE'
  | 'IN_OPEN' | 'IN_MOVED_FROM' | 'IN_MOVED_TO' | 'IN_MOVE' | 'IN_CREATE' | 'IN_DELETE'
  | 'IN_DELETE_SELF' | 'IN_MOVE_SELF' | 'IN_ALL_EVENTS' | 'IN_UNMOUNT' | 'IN_Q_OVERFLOW'
  | 'IN_IGNORED' | 'IN_ONLYDIR' | 'IN_DONT_FOLLOW' | 'IN_EXCL_UNLINK' | 'IN_MASK_CREATE'
  | 'IN_MASK_ADD' | 'IN_ISDIR' | 'IN_ONESHOT' | 'IN_NONBLOCK' | 'IN_CLOEXEC';

/** An error thrown by a syscall in the binding, shaped like Node's fs errors. */
export interface InotifySyscallError extends Error {
  code: string;
  errno: number;
  syscall: string;
  /** The path as the kernel saw it (bytes). */
  path?: Buffer;
}

/** One kernel record, decoded. `name` is empty for events on the watched directory itself. */
export interface RawEvent {
  wd: number;
  mask: number;
  cookie: number;
  name: Buffer;
}

/** The native handle: one inotify instance, polled on Node's own loop. */
export interface NativeInotify {
  readonly fd: number;
  addWatch(path: string | Buffer, mask: number): number;
  /** False when the kernel no longer knows the wd. */
  removeWatch(wd: number): boolean;
  /**
   * For each NUL-terminated path in `paths`, in order: adds a watch with `mask`, then lists the directory's
   * entries of the wanted `kinds` (ENTRY bits), unsorted. One call for a batch of directories.
   */
  watchAndList(paths: Buffer, mask: number, kinds: number): WatchedListings;
  close(): void;
  ref(): void;
  unref(): void;
}

/** What watchAndList did for each path of its batch. */
export interface WatchedListings {
  /** Pairs per path: the wd (or -errno of inotify_add_watch), then 0 or the errno of its listing. */
  results: Int32Array;
  /**
   * Each path's listing in turn, as records (kind byte, name bytes, NUL), ended by a 0 byte where a kind
   * would be. A path that could not be watched or listed has the 0 byte alone.
   */
  records: Buffer;
}

/** The addon's instance: addWatch is built on its watchAndList, ref and unref on its setRef (see openInotify). */
type AddonInotify = Omit<NativeInotify, 'addWatch' | 'ref' | 'unref'> & { setRef(on: boolean): void };

interface Addon {
  Inotify: new (onRecords: (error: InotifySyscallError | null, records?: Buffer) => void) => AddonInotify;
  anyHardLinked: (paths: Buffer) => boolean;
  list: (paths: Buffer, kinds: number) => Listings;
  constants: InotifyConstants;
}

/**
 * Where the addon may be, relative to the package root, in order: the one built here from native/ (a clone,
 * or an install where no prebuilt fitted), then the one the npm package carries (scripts/addon.cjs).
 * Why a loader of our own and not node-gyp-build: one prebuilt (Node-API, linux-x64 glibc) is all we ship,
 * so two paths tried in order do its whole job; the install script that picks between it and a build from
 * source is the part that matters, and it is ours either way, to say plainly which it did.
 */
const ADDON_PATHS = [join('build', 'Release', 'inotify.node'), join('prebuilds', `${process.platform}-${process.arch}`, 'inotify.node')];

function loadAddon(): Addon {
  const require = createRequire(import.meta.url);
  // Works from src/ (ts sources) and from dist/src/ (compiled): walk up to the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const path of ADDON_PATHS) {
      const candidate = join(dir, path);
      if (existsSync(candidate)) return require(candidate) as Addon;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`inosync: the native inotify addon is missing (looked for ${ADDON_PATHS.join(' and ')}). Run \`npm install\` (or \`npm run build\`) in the inosync package directory.`);
}

const addon = loadAddon();

export const constants: InotifyConstants = addon.constants;

/**
 * Entry kinds of a listing: bits of a listing's `kinds` argument, and each record's first byte. `stats` (an
 * argument bit only, with every kind) puts each entry's lstat after its name's NUL: STAT_BYTES laid out as
 * bytes 4..47 of a state record entry (src/state/entry.ts), then its link count (u32 at STAT_NLINK_AT),
 * STAT_RECORD_BYTES in all. An entry gone before its lstat is left out. `xattrs` (an argument bit of list()
 * only) counts, in `xattrs`, the listed entries and directories that may hold an xattr (an ACL is one).
 */
export const ENTRY = { directory: 1, symlink: 2, other: 4, stats: 8, xattrs: 16 } as const;
export const STAT_BYTES = 44;
export const STAT_NLINK_AT = STAT_BYTES;
export const STAT_RECORD_BYTES = STAT_BYTES + 4;

/** What list() read: each path's listing, as watchAndList's records. */
export interface Listings {
  /** Per path: 0 or the errno of its listing. */
  results: Int32Array;
  records: Buffer;
  /**
   * With ENTRY.xattrs: the listed directories and their listed entries that may hold an xattr (llistxattr, not
   * following symlinks, found some or failed otherwise than with ENOTSUP); 0 otherwise.
   */
  xattrs: number;
}

/** Lists each NUL-terminated directory of `paths`, as watchAndList does without the watches, on this thread. */
export function listDirectories(paths: Buffer, kinds: number): Listings {
  return addon.list(paths, kinds);
}

/** The error of a syscall that failed inside a batch call, shaped like those the binding throws. */
export function syscallError(errno: number, syscall: string, path: Buffer): InotifySyscallError {
  const [code, text] = getSystemErrorMap().get(-errno) ?? [`Unknown system error ${errno}`, 'unknown error'];
  const error = new Error(`${code}: ${text}, ${syscall} '${path.toString()}'`) as InotifySyscallError;
  Object.assign(error, { code, errno: -errno, syscall, path });
  return error;
}

/** The fixed part of a record (struct inotify_event: wd, mask, cookie, len), before its name. */
const RECORD_HEADER = 16;

/** The offset of the record after the one at `offset` in a drain's buffer. */
export function nextRecord(buffer: Buffer, offset: number): number {
  return offset + RECORD_HEADER + buffer.readUInt32LE(offset + 12);
}

/** Whether a whole record's fixed part starts at `offset`. */
export function hasRecord(buffer: Buffer, offset: number): boolean {
  return offset + RECORD_HEADER <= buffer.length;
}

/** The record at `offset` of a drain's buffer. Its name stays bytes (NUL padding stripped), a view into the drain. */
export function decodeRecord(buffer: Buffer, offset: number): RawEvent {
  // The name is padded with NUL bytes to `len` and holds none itself: its end is found from the back, in a
  // few steps and one view, where indexOf() and a second view cost a tenth of a burst's ingest.
  let end = nextRecord(buffer, offset);
  while (end > offset + RECORD_HEADER && buffer[end - 1] === 0) end--;
  return { wd: buffer.readInt32LE(offset), mask: buffer.readUInt32LE(offset + 4), cookie: buffer.readUInt32LE(offset + 8), name: buffer.subarray(offset + RECORD_HEADER, end) };
}

/** Splits one drain's buffer into records. */
export function decodeRecords(buffer: Buffer): RawEvent[] {
  const events: RawEvent[] = [];
  for (let offset = 0; hasRecord(buffer, offset); offset = nextRecord(buffer, offset)) events.push(decodeRecord(buffer, offset));
  return events;
}

/**
 * Opens an inotify instance (IN_NONBLOCK|IN_CLOEXEC). `onRecords` runs once per drain of the fd with the
 * records read in it, as the kernel wrote them (decodeRecord reads one); `onError` for a failing read (rare:
 * the fd is gone).
 */
export function openInotifyRecords(
  onRecords: (records: Buffer) => void,
  onError: (error: InotifySyscallError) => void = (error) => { throw error; },
): NativeInotify {
  const native = new addon.Inotify((error, records) => {
    if (error) onError(error);
    else if (records) onRecords(records);
  });
  return Object.assign(native, {
    addWatch: (path: string | Buffer, mask: number) => addWatch(native, path, mask),
    ref: () => native.setRef(true),
    unref: () => native.setRef(false),
  });
}

/** openInotifyRecords with each drain's records decoded: `onBatch` gets every record read in one drain. */
export function openInotify(
  onBatch: (events: RawEvent[]) => void,
  onError?: (error: InotifySyscallError) => void,
): NativeInotify {
  return openInotifyRecords((records) => onBatch(decodeRecords(records)), onError);
}

/** One watch: a batch of one that lists nothing. Throws like node:fs (`code`, `errno`, `syscall`, `path`). */
function addWatch(native: AddonInotify, path: string | Buffer, mask: number): number {
  const bytes = typeof path === 'string' ? Buffer.from(path) : path;
  if (bytes.includes(0)) throw new TypeError('addWatch(path, mask): path must not contain NUL bytes');
  if (typeof mask !== 'number') throw new TypeError('addWatch(path, mask): mask must be a number');
  const wd = native.watchAndList(nulTerminated([bytes]), mask, 0).results[0] ?? -1;
  if (wd < 0) throw syscallError(-wd, 'inotify_add_watch', bytes);
  return wd;
}

const NUL = Buffer.alloc(1);

/** Paths as the batch calls take them: each ended by a NUL byte. */
function nulTerminated(paths: readonly Buffer[]): Buffer {
  return Buffer.concat(paths.flatMap((path) => [path, NUL]));
}

/**
 * True when one of the paths is a regular file with more than one name (rsync -H can keep such links only
 * when it sends every name at once). One call for many paths.
 */
export function anyHardLinked(paths: readonly Buffer[]): boolean {
  return paths.length > 0 && addon.anyHardLinked(nulTerminated(paths));
}
