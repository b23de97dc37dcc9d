// The record files: a sorted entry file (a scan of the source, or a target's snapshot) and the journal, each
// opening with a header that names what it belongs to. Every file is created exclusively (O_EXCL) under a
// fresh name in the state directory, without following symlinks, and a snapshot is made durable before it is
// renamed into place: a crash leaves the old snapshot or the new one, never half of one.
//
//   entry file: MAGIC_ENTRIES, u32 header length, JSON header, entries..., TRAILER, u32 entry count,
//               u32 crc32 of every byte before the trailer
//   journal:    MAGIC_JOURNAL, u32 header length, JSON header, then records: u32 length, u32 crc32, payload
//               (u8 kind, path). A torn or corrupted tail is cut at the last good record.
import { closeSync, constants, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { AT, encodedLength, encodeEntry, FIXED_BYTES, KIND, MAX_PATH_BYTES, type Entry } from './entry.js';

const MAGIC_ENTRIES = Buffer.from('INOSYNC-ENTRIES\n');
const MAGIC_JOURNAL = Buffer.from('INOSYNC-JOURNAL\n');
const TRAILER = Buffer.from('INOSYNC-END\n');
const MAX_HEADER_BYTES = 64 * 1024;
/** A journal is read whole on load: bounded (the store gives a record up long before, see MAX_JOURNAL_RECORDS). */
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;
const CHUNK = 1 << 20;
/** Exclusive, never through a symlink, never a controlling terminal. */
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NOCTTY;
const READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NOCTTY;

export type Header = Record<string, string | number | string[]>;

export class StateFileError extends Error {}

/** Writes an entry file at `path` (which must not exist), entry by entry, fsync'ed when closed. */
export class EntryWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private crc = 0;
  private count = 0;

  constructor(readonly path: string, header: Header) {
    this.fd = openSync(path, CREATE, 0o600);
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length);
    this.put(Buffer.concat([MAGIC_ENTRIES, length, json]));
  }

  add(entry: Entry): void {
    const size = encodedLength(entry);
    if (this.used + size > this.buffer.length) this.drain();
    this.used = encodeEntry(entry, this.buffer, this.used);
    this.count++;
  }

  /** Adds `count` entries already encoded, bytes[start, end), in order after those before. */
  addEncoded(bytes: Buffer, start: number, end: number, count: number): void {
    if (this.used + end - start > this.buffer.length) this.drain();
    if (end - start > this.buffer.length) this.put(bytes.subarray(start, end));
    else this.used += bytes.copy(this.buffer, this.used, start, end);
    this.count += count;
  }

  /** Ends the file and makes it durable; the caller renames it into place. */
  close(): void {
    this.drain();
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(this.count, 0);
    const counted = Buffer.concat([TRAILER, tail.subarray(0, 4)]);
    this.crc = crc32(counted, this.crc);
    tail.writeUInt32LE(this.crc >>> 0, 4);
    writeAll(this.fd, Buffer.concat([counted, tail.subarray(4)]));
    fdatasyncSync(this.fd);
    closeSync(this.fd);
  }

  abandon(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
  }

  private put(bytes: Buffer): void {
    this.crc = crc32(bytes, this.crc);
    writeAll(this.fd, bytes);
  }

  private drain(): void {
    if (this.used === 0) return;
    this.put(this.buffer.subarray(0, this.used)); // written synchronously: the buffer is free again
    this.used = 0;
  }
}

/**
 * The entry count an entry file's trailer claims, unchecked (the file is not read): a total for a progress
 * estimate only, never trusted for anything else. Undefined when there is no such file or no trailer.
 */
export function entryCountHint(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, READ | constants.O_NONBLOCK); // a FIFO planted there must not hang the start
    const stats = fstatSync(fd);
    const tail = Buffer.alloc(TRAILER.length + 8);
    const size = stats.size;
    if (!stats.isFile() || size < tail.length || readSync(fd, tail, 0, tail.length, size - tail.length) !== tail.length) return undefined;
    return tail.subarray(0, TRAILER.length).equals(TRAILER) ? tail.readUInt32LE(TRAILER.length) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** An entry file opened for reading: its header now, its entries as a stream that checks the trailer at the end. */
export class EntryReader {
  private constructor(private readonly handle: FileHandle, readonly header: Header, private readonly start: number) {}

  static async open(path: string): Promise<EntryReader> {
    const handle = await open(path, READ);
    try {
      if (!(await handle.stat()).isFile()) throw new StateFileError(`${path} is not a regular file`);
      const head = Buffer.alloc(MAGIC_ENTRIES.length + 4);
      await handle.read(head, 0, head.length, 0);
      if (!head.subarray(0, MAGIC_ENTRIES.length).equals(MAGIC_ENTRIES)) throw new StateFileError(`${path} is not an inosync entry file`);
      const length = head.readUInt32LE(MAGIC_ENTRIES.length);
      if (length > MAX_HEADER_BYTES) throw new StateFileError(`${path}: header too long`);
      const json = Buffer.alloc(length);
      const { bytesRead } = await handle.read(json, 0, length, head.length);
      if (bytesRead !== length) throw new StateFileError(`${path}: truncated header`);
      return new EntryReader(handle, parseHeader(json, path), head.length + length);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The entries, one at a time (see EntryCursor); the file is read as they are. */
  cursor(): EntryCursor {
    return new FileCursor(this.handle.fd, this.start);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

}

/**
 * A stream of encoded entries (entry.ts) in record order, one in view at a time: bytes[at, end), or done. No
 * object per entry (a million of them cost more than the comparisons). The bytes in view stay as they are
 * until the next step, no longer: a caller keeping a path copies it.
 */
export abstract class EntryCursor {
  bytes: Buffer = Buffer.alloc(0);
  at = 0;
  end = 0;
  done = false;
  /** Moves to the next entry; throws StateFileError where the file is truncated or corrupted. */
  abstract next(): void;
}

/**
 * An entry file's cursor, read in chunks with synchronous reads (a promise per chunk would be fine, one per
 * entry is not, and a cursor's step is synchronous); the count and checksum of the trailer are checked at the end.
 */
class FileCursor extends EntryCursor {
  private crc = 0;
  private count = 0;
  private position = 0;
  private atEnd = false;
  /**
   * The two chunks read into in turn (what is left of one is copied to the head of the other), made at the
   * first refill. Not a fresh Buffer per chunk: those are freed only when a collection finds them, and the
   * startup difference of a 220k-entry record (two cursors) had the agent 20 MiB over its size until then.
   */
  private chunks: [Buffer, Buffer] | undefined;
  private chunk = 0;

  constructor(private readonly fd: number, start: number) {
    super();
    const head = Buffer.alloc(start);
    if (readSync(fd, head, 0, start, 0) !== start) throw new StateFileError('the entry file is truncated (no header)');
    this.crc = crc32(head);
    this.position = start;
    this.next();
  }

  next(): void {
    if (this.done) return;
    this.at = this.end;
    for (;;) {
      const left = this.bytes.length - this.at;
      if (left >= TRAILER.length && this.bytes.compare(TRAILER, 0, TRAILER.length, this.at, this.at + TRAILER.length) === 0) {
        if (left < TRAILER.length + 8 && !this.atEnd) {
          this.refill();
          continue;
        }
        this.checkTrailer();
        this.done = true;
        return;
      }
      if (left >= FIXED_BYTES) {
        const length = this.bytes.readUInt16LE(this.at);
        if (this.bytes[this.at + AT.kind]! > KIND.unknown || length > MAX_PATH_BYTES) throw new StateFileError(`malformed state entry at byte ${this.position - left}`);
        if (left >= FIXED_BYTES + length) {
          this.end = this.at + FIXED_BYTES + length;
          this.count++;
          return;
        }
      }
      if (this.atEnd) throw new StateFileError('the entry file is truncated (no trailer)');
      this.refill();
    }
  }

  /** Keeps what is left of the chunk (its bytes before go into the checksum) and reads the next one after it. */
  private refill(): void {
    this.crc = crcOf(this.bytes, this.at, this.crc);
    const left = this.bytes.length - this.at;
    // What is left is part of one entry or of the trailer: at most FIXED_BYTES + MAX_PATH_BYTES.
    this.chunks ??= [Buffer.allocUnsafeSlow(FIXED_BYTES + MAX_PATH_BYTES + CHUNK), Buffer.allocUnsafeSlow(FIXED_BYTES + MAX_PATH_BYTES + CHUNK)];
    this.chunk ^= 1;
    const next = this.chunks[this.chunk];
    this.bytes.copy(next, 0, this.at);
    const read = readSync(this.fd, next, left, CHUNK, this.position);
    this.position += read;
    this.atEnd = read === 0;
    this.bytes = next.subarray(0, left + read);
    this.at = 0;
    this.end = 0;
  }

  private checkTrailer(): void {
    const tail = this.bytes.subarray(this.at);
    if (tail.length !== TRAILER.length + 8 || readSync(this.fd, Buffer.alloc(1), 0, 1, this.position) !== 0) {
      throw new StateFileError('the entry file has bytes after its trailer or a short trailer');
    }
    const counted = tail.subarray(0, TRAILER.length + 4);
    if (counted.readUInt32LE(TRAILER.length) !== this.count) throw new StateFileError('the entry file\'s count does not match');
    const crc = crc32(counted, crcOf(this.bytes, this.at, this.crc));
    if ((crc >>> 0) !== tail.readUInt32LE(TRAILER.length + 4)) throw new StateFileError('the entry file\'s checksum does not match');
  }
}

/** The checksum `crc` continued over bytes[0, end). Not for an empty view: Node 20's crc32 then gives 0. */
function crcOf(bytes: Buffer, end: number, crc: number): number {
  return end === 0 ? crc : crc32(bytes.subarray(0, end), crc);
}

export const JOURNAL_FORGET = 1;

/** A journal opened for appending (created fresh: a new generation per run and per full sync). */
export class JournalWriter {
  private readonly fd: number;
  private dirty = false;
  records = 0;

  constructor(readonly path: string, header: Header) {
    this.fd = openSync(path, CREATE | constants.O_APPEND, 0o600);
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length);
    writeAll(this.fd, Buffer.concat([MAGIC_JOURNAL, length, json]));
    fdatasyncSync(this.fd);
  }

  /** Appends records (one write: a crash keeps a prefix of them, each checked on load). Durable after sync(). */
  append(kind: number, paths: Buffer[]): void {
    if (paths.length === 0) return;
    // Laid out in place in one buffer: a storm's batch forgets thousands of paths at once.
    let size = 0;
    for (const path of paths) size += 9 + path.length;
    const bytes = Buffer.allocUnsafe(size);
    let at = 0;
    for (const path of paths) {
      const payload = at + 8;
      bytes[payload] = kind;
      path.copy(bytes, payload + 1);
      const end = payload + 1 + path.length;
      bytes.writeUInt32LE(end - payload, at);
      bytes.writeUInt32LE(crc32(bytes.subarray(payload, end)) >>> 0, at + 4);
      at = end;
    }
    writeAll(this.fd, bytes);
    this.records += paths.length;
    this.dirty = true;
  }

  sync(): void {
    if (!this.dirty) return;
    fdatasyncSync(this.fd);
    this.dirty = false;
  }

  close(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}

/**
 * A journal's header and records up to the last good one; `cutAt` is set when a torn or corrupted tail
 * follows it (the caller truncates the file there).
 */
export function readJournal(path: string): { header: Header; records: Array<{ kind: number; path: Buffer }>; cutAt?: number } {
  const fd = openSync(path, READ);
  let bytes: Buffer;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new StateFileError(`${path} is not a regular file`);
    if (stats.size > MAX_JOURNAL_BYTES) throw new StateFileError(`${path} is larger than ${MAX_JOURNAL_BYTES} bytes`);
    bytes = Buffer.alloc(stats.size);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, got);
      if (n === 0) break;
      got += n;
    }
    bytes = bytes.subarray(0, got);
  } finally {
    closeSync(fd);
  }
  if (bytes.length < MAGIC_JOURNAL.length + 4 || !bytes.subarray(0, MAGIC_JOURNAL.length).equals(MAGIC_JOURNAL)) throw new StateFileError(`${path} is not an inosync journal`);
  const length = bytes.readUInt32LE(MAGIC_JOURNAL.length);
  let offset = MAGIC_JOURNAL.length + 4 + length;
  if (length > MAX_HEADER_BYTES || offset > bytes.length) throw new StateFileError(`${path}: truncated header`);
  const header = parseHeader(bytes.subarray(MAGIC_JOURNAL.length + 4, offset), path);
  const records: Array<{ kind: number; path: Buffer }> = [];
  while (offset < bytes.length) {
    if (bytes.length - offset < 9) return { header, records, cutAt: offset };
    const size = bytes.readUInt32LE(offset);
    const sum = bytes.readUInt32LE(offset + 4);
    const payload = bytes.subarray(offset + 8, offset + 8 + size);
    if (size < 1 || payload.length !== size || (crc32(payload) >>> 0) !== sum) return { header, records, cutAt: offset };
    records.push({ kind: payload[0]!, path: Buffer.from(payload.subarray(1)) });
    offset += 8 + size;
  }
  return { header, records };
}

/** Cuts a journal's torn tail (the file opened without following a symlink). */
export function cutJournal(path: string, length: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NOCTTY);
  try {
    ftruncateSync(fd, length);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames `from` over `to` and makes the rename durable (the directory's fsync). */
export function renameDurably(from: string, to: string, dir: string): void {
  renameSync(from, to);
  syncDirectory(dir);
}

/**
 * Removes a file of the state directory; one already gone is no error. `'any'`: no failure is (a leftover scan
 * costs only disk, and must not hide the error being handled nor stop a shutdown).
 */
export function removeFile(path: string, ignore: 'missing' | 'any' = 'missing'): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (ignore === 'missing' && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done);
}

function parseHeader(json: Buffer, path: string): Header {
  try {
    const value: unknown = JSON.parse(json.toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Header;
  } catch {
    throw new StateFileError(`${path}: unreadable header`);
  }
}
