// A local scan of the source tree into encoded entries (entry.ts) in record order: depth-first, siblings sorted
// by their bytes. Only the listings of the directories on the current path (and of their next sibling
// directories, fetched ahead) are held, never the tree.
//
// Why the native listing (list() with ENTRY.stats: getdents64, then an fstatat per entry relative to its
// directory, many directories a call): lstatSync per entry cost ~8 µs an entry from JS, most of it not the
// syscall (the path walk of a whole path, a BigInt Stats object and its Dates, a path Buffer each). The stats
// arrive as the bytes an entry keeps, and are copied as they are; the only object per entry is its name.
// Synchronous, in slices: the scan yields to the event loop between native calls (every SLICE entries at most
// a few milliseconds of syscalls). A directory that cannot be listed is an 'unknown' entry: sent whole.
//
// It also tells whether any entry may hold an xattr (an ACL is one: src/rsync/transport.ts then keeps -A/-X
// for the full sync that follows it): the listing asks llistxattr of each entry (ENTRY.xattrs), until one
// answers yes, about 2 µs an entry (220k entries on tmpfs: 0.35-0.55 s of CPU more). What it could not look
// into (a directory it cannot list, a path too long to name) counts as yes; an excluded entry (and what is
// below an excluded directory listed ahead with its siblings) is asked too: a yes too many keeps -A/-X.
import { lstatSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { ENTRY, listDirectories, STAT_BYTES, STAT_NLINK_AT, STAT_RECORD_BYTES } from '../inotify/binding.js';
import { mayBeOverlong, overlongDirectory } from '../safety/deep-paths.js';
import type { ExcludeFn } from '../watch/types.js';
import { AT, encodeEntry, entryFromStats, FIXED_BYTES, KIND, MAX_PATH_BYTES, RACY_NS, unknownEntry, type Entry } from './entry.js';

/** Entries between two yields to the event loop. */
const SLICE = 8192;
/**
 * Directories listed in one native call at most, and their summed st_size (a guess at their listings' bytes).
 * Small: a call's cost is its entries', and what is fetched ahead is held (1M files: peak RSS of a scan 83 MiB
 * with 1024 directories and 1 MiB, 62-63 with 64 and 64 KiB; CPU time the same within the noise). What is held
 * ahead lives through scavenges and is promoted, and the old generation it grows is not given back (the
 * launcher keeps V8's memory reducer asleep): 200k files under the launcher's flags, heap 13.5 MiB after a
 * scan with 64 directories, 9.5-9.7 with 16 (RSS 4 MiB lower, 1.04-1.13 s of CPU against 1.09-1.10).
 */
const BATCH_DIRS = 16;
const BATCH_BYTES = 1 << 16;
/** Encoded entries handed on at a time. */
const CHUNK = 1 << 20;
const SLASH = 0x2f;
/** NAME_MAX: a name's bytes at most. */
const MAX_NAME_BYTES = 255;
const S_IFMT = 0o170000;
const FORMATS = new Map([[0o040000, KIND.dir], [0o100000, KIND.file], [0o120000, KIND.symlink]]);

export interface ScanOptions {
  /** The source root (absolute). */
  root: string;
  exclude?: ExcludeFn;
  /** The clock racy stats are measured against (ns since the epoch). */
  now?: () => bigint;
  /** Told of every regular file with more than one link, by its device and inode (src/rsync/hard-links.ts). */
  linked?: (path: Buffer, dev: bigint, ino: bigint) => void;
  /**
   * The scan runs beside an rsync that reads the same tree, started just after this moment (ns since the
   * epoch; src/state/recorder.ts). Racy is then measured against it, not against the clock: an entry changed
   * since (or within RACY_NS before) may have been read by rsync before its change, so a file is recorded
   * unknown, and a directory below the root too, its subtree not walked (entries may have come or gone in it
   * after rsync listed it): the next start sends it whole. The root keeps its place (always watched: what
   * changes in it is seen and forgotten).
   */
  besideSince?: bigint;
}

/**
 * Receives encoded entries: bytes[0, end) holds `count` of them, in record order after those before. The
 * bytes are reused once it returns.
 */
export type ScanSink = (bytes: Buffer, end: number, count: number) => void;

const wallClockNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** One directory's listing: its entries' names (latin1, a char a byte) sorted, and where each one's stats are. */
interface Listing {
  records: Buffer;
  names: string[];
  stats: number[];
  /**
   * The clock as read before the listing, earlier than any of its stats: racy stats are measured against it,
   * not against a later reading (a listing fetched ahead is encoded later), which would make fewer of them racy.
   */
  readAtNs: number;
}

/** A directory on the current path: where the walk is in it, and the listings fetched ahead for its subdirectories. */
interface Level {
  dir: Buffer;
  listing: Listing;
  next: number;
  /** Listings (or the errno of one) of subdirectories by their index in `listing`. */
  ahead: Map<number, Listing | number>;
}

/** What a scan found beyond its entries. */
export interface ScanSummary {
  /** Some entry may hold an xattr or ACL, or a part of the tree could not be looked at; false: none can. */
  xattrs: boolean;
}

/** Hands every entry below the root (the root itself first, as '') to `sink`, in record order. */
export async function scanTree(options: ScanOptions, sink: ScanSink): Promise<ScanSummary> {
  return new Scan(options, sink).run();
}

class Scan {
  private readonly prefix: Buffer;
  private readonly now: () => bigint;
  private readonly out = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private count = 0;
  private xattrs = false;

  constructor(private readonly options: ScanOptions, private readonly sink: ScanSink) {
    this.prefix = Buffer.from(`${options.root.replace(/\/+$/, '')}/`);
    const { besideSince } = options;
    this.now = besideSince === undefined ? options.now ?? wallClockNs : () => besideSince;
  }

  async run(): Promise<ScanSummary> {
    const root = this.listAll([Buffer.alloc(0)])[0]!;
    const stats = lstatSync(this.prefix.length > 1 ? this.prefix.subarray(0, -1) : this.prefix, { bigint: true });
    this.add(typeof root === 'number' ? unknownEntry(Buffer.alloc(0)) : entryFromStats(Buffer.alloc(0), stats, BigInt(root.readAtNs)));
    this.xattrs ||= typeof root === 'number'; // not looked into
    const stack: Level[] = typeof root === 'number' ? [] : [{ dir: Buffer.alloc(0), listing: root, next: 0, ahead: new Map() }];
    let sinceTurn = 0;
    while (stack.length > 0) {
      const level = stack.at(-1)!;
      const { listing } = level;
      if (level.next === listing.names.length) {
        stack.pop();
        continue;
      }
      if (++sinceTurn === SLICE) {
        sinceTurn = 0;
        this.flush();
        await turn();
      }
      const index = level.next++;
      const below = this.visit(level, index);
      if (below !== undefined) stack.push(below);
    }
    this.flush();
    return { xattrs: this.xattrs };
  }

  /** Encodes the entry at `index` of `level`'s listing; returns the level to walk next when it is a directory. */
  private visit(level: Level, index: number): Level | undefined {
    const { records, names, stats } = level.listing;
    const name = names[index]!;
    const at = stats[index]!;
    if (this.used + FIXED_BYTES + MAX_PATH_BYTES + MAX_NAME_BYTES > CHUNK) this.flush();
    const start = this.used;
    const pathAt = start + FIXED_BYTES;
    let end = pathAt;
    if (level.dir.length > 0) {
      end += level.dir.copy(this.out, end);
      this.out[end++] = SLASH;
    }
    end += this.out.write(name, end, 'latin1');
    const length = end - pathAt;
    const kind = FORMATS.get(records.readUInt32LE(at) & S_IFMT) ?? KIND.other;
    const isDir = kind === KIND.dir;
    if (this.options.exclude?.(this.out.subarray(pathAt, end), isDir) === true) return undefined;
    const absolute = this.prefix.length + length;
    // Left out as the watch tree leaves it out (safety/deep-paths.ts): never watched, sent or recorded.
    if (isDir && mayBeOverlong(absolute) && overlongDirectory(absolute, this.out.toString('latin1', pathAt, end)) !== undefined) return undefined;
    // One device for all: files of two filesystems that share an inode number are kept in one part too,
    // which costs parallelism, never a link.
    if (kind === KIND.file && records.readUInt32LE(at + STAT_NLINK_AT) > 1) this.options.linked?.(Buffer.from(this.out.subarray(pathAt, end)), 0n, records.readBigUInt64LE(at + AT.ino - AT.mode));
    if (absolute >= MAX_PATH_BYTES) {
      if (length <= MAX_PATH_BYTES) this.writeUnknown(start, end); // a path the kernel takes whole no more
      return undefined;
    }
    const below = isDir ? level.ahead.get(index) ?? this.fetchAhead(level, index) : undefined;
    level.ahead.delete(index);
    if (typeof below === 'number') {
      this.writeUnknown(start, end);
      return undefined;
    }
    this.out.writeUInt16LE(length, start);
    records.copy(this.out, start + AT.mode, at, at + STAT_BYTES);
    const racy = this.racy(start + AT.mtime, level.listing.readAtNs) || this.racy(start + AT.ctime, level.listing.readAtNs);
    if (racy && isDir && this.options.besideSince !== undefined) {
      this.writeUnknown(start, end);
      return undefined;
    }
    this.out[start + AT.kind] = racy && !isDir ? KIND.unknown : kind;
    this.out[start + 3] = 0;
    if (racy) this.out.fill(0xff, start + AT.mtime, start + AT.mtime + 8); // RACY_MTIME
    this.used = end;
    this.count++;
    return below === undefined ? undefined : { dir: Buffer.from(this.out.subarray(pathAt, end)), listing: below, next: 0, ahead: new Map() };
  }

  /** The time at `at` of the entry being written is within RACY_NS of the clock (see entry.ts). */
  private racy(at: number, readAtNs: number): boolean {
    const ns = this.out.readUInt32LE(at) + this.out.readInt32LE(at + 4) * 2 ** 32;
    return readAtNs - ns < Number(RACY_NS);
  }

  /** An 'unknown' entry for the path already at out[start + FIXED_BYTES, end). */
  private writeUnknown(start: number, end: number): void {
    this.xattrs = true; // not looked into
    const path = Buffer.from(this.out.subarray(start + FIXED_BYTES, end));
    this.used = encodeEntry(unknownEntry(path), this.out, start);
    this.count++;
  }

  /**
   * Lists the subdirectories of `level` from `index` on, in one native call: as many as BATCH_DIRS and
   * BATCH_BYTES allow (at least the one at `index`). Returns the listing at `index`; keeps the others.
   */
  private fetchAhead(level: Level, index: number): Listing | number {
    const { records, names, stats } = level.listing;
    const wanted: number[] = [];
    let bytes = 0;
    for (let i = index; i < names.length && wanted.length < BATCH_DIRS && (bytes < BATCH_BYTES || wanted.length === 0); i++) {
      const mode = records.readUInt32LE(stats[i]!);
      if ((mode & S_IFMT) !== 0o040000) continue;
      wanted.push(i);
      bytes += records.readUInt32LE(stats[i]! + 12); // st_size (a directory's is far below 4 GiB)
    }
    const dir = level.dir.length === 0 ? '' : `${level.dir.toString('latin1')}/`;
    const listings = this.listAll(wanted.map((i) => Buffer.from(dir + names[i]!, 'latin1')));
    for (let k = 1; k < wanted.length; k++) level.ahead.set(wanted[k]!, listings[k]!);
    return listings[0]!;
  }

  /** Lists directories (paths below the root) with their entries' stats: a listing each, or its errno. */
  private listAll(dirs: Buffer[]): Array<Listing | number> {
    const paths = Buffer.concat(dirs.flatMap((dir) => [this.prefix, dir, NUL]));
    const readAtNs = Number(this.now());
    const { results, records, xattrs } = listDirectories(paths, ENTRY.directory | ENTRY.symlink | ENTRY.other | ENTRY.stats | (this.xattrs ? 0 : ENTRY.xattrs));
    if (xattrs > 0) this.xattrs = true;
    const listings: Array<Listing | number> = [];
    let offset = 0;
    for (let i = 0; i < dirs.length; i++) {
      const names: string[] = [];
      const stats: number[] = [];
      while (records[offset] !== 0) {
        const end = records.indexOf(0, offset + 1);
        names.push(records.toString('latin1', offset + 1, end));
        stats.push(end + 1);
        offset = end + 1 + STAT_RECORD_BYTES;
      }
      offset++;
      listings.push(results[i] !== 0 ? results[i]! : { records, ...sorted(names, stats), readAtNs });
    }
    return listings;
  }

  private add(entry: Entry): void {
    this.used = encodeEntry(entry, this.out, this.used);
    this.count++;
  }

  private flush(): void {
    if (this.count === 0) return;
    this.sink(this.out, this.used, this.count);
    this.used = 0;
    this.count = 0;
  }
}

const NUL = Buffer.alloc(1);

/** Names in byte order (a latin1 string compares as its bytes), each with its stats' place. */
function sorted(names: string[], stats: number[]): { names: string[]; stats: number[] } {
  const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
  return { names: order.map((i) => names[i]!), stats: order.map((i) => stats[i]!) };
}
