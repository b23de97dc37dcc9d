// A target's state record: what it has confirmed, kept on disk so that a restart knows what changed while the
// agent was down without asking the target.
//
// Why a format of our own and not an embedded database: the one that fits (better-sqlite3) downloads or
// compiles a native binary at install, which installs without a compiler rule out; what the record needs is
// small: a sorted file streamed once per start (never held in the JS heap) and an append-only journal.
//
//   <state dir>/<key>/snapshot        sorted entries (entry.ts): the source as scanned just BEFORE the last
//                                     full sync that rsync confirmed, header generation G
//   <state dir>/<key>/journal.<N>     N >= G: paths forgotten since, replayed over the snapshot on load
//
// What keeps it honest (a crash may make us send more, never less):
// - An entry says "the target got this path as it was when stat'ed, or newer": stats are taken before the
//   rsync that carries them, and only a full sync that succeeded installs them. A path that changes after
//   its stat no longer matches it (ctime cannot be set back), so the next start sends it.
// - Before any rsync that could make an entry untrue (a batch, a replayed rename), its paths are forgotten in
//   the journal and the journal fsync'ed; so are the changes seen while a full sync runs (its snapshot was
//   taken before them). A forgotten path is sent whole at the next start, whatever its stat says.
// - Files are created exclusively under fresh names without following symlinks, made durable, then renamed;
//   journal records carry a CRC and a torn tail is cut at the last good record.
// - Headers name the format version, the source path and its root's device and inode, the target, the
//   excludes and the rsync options: a record of anything else is foreign and ignored (a full sync instead).
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { AT, comparePaths, compareRanges, encodedLength, encodeEntry, isWithin, isWithinRange, unknownEntry, type Entry } from './entry.js';
import { cutJournal, entryCountHint, EntryCursor, EntryReader, EntryWriter, JOURNAL_FORGET, JournalWriter, readJournal, removeFile, renameDurably, StateFileError, syncDirectory, type Header } from './files.js';
import { privateDirectory } from '../safety/state-dir.js';

export const FORMAT_VERSION = 1;
/** Journal records past which the record is given up until the next full sync (bounds what a load holds). */
export const MAX_JOURNAL_RECORDS = 100_000;

/** What a record belongs to: a record of anything else is foreign. */
export interface Identity {
  source: string;
  /** The source root's device and inode: another filesystem mounted there is another source. */
  dev: string;
  ino: string;
  target: string;
  excludes: string[];
  rsyncOptions: string[];
}

/** A trusted record, ready to stream (once): the snapshot's entries with the forgotten paths laid over them. */
export interface TrustedRecord {
  cursor(): EntryCursor;
  close(): Promise<void>;
}

const SNAPSHOT = 'snapshot';
const JOURNAL = /^journal\.([0-9]{1,15})$/;
const TEMP = /^\.tmp-[0-9a-f]{16}$/;

export class TargetState {
  private journal: JournalWriter | undefined;
  private generation = 0;
  private givenUp = false;

  private constructor(readonly dir: string, private readonly identity: Identity, private readonly logger: Logger) {}

  /** The target's directory under the state directory (created 0700, checked like the state directory). */
  static open(stateDir: string, identity: Identity, logger: Logger): TargetState {
    const key = createHash('sha256').update(`${identity.source}\0${identity.target}`).digest('hex').slice(0, 32);
    const dir = join(stateDir, key);
    privateDirectory(dir);
    const state = new TargetState(dir, identity, logger);
    state.generation = state.journals().at(-1)?.generation ?? 0;
    return state;
  }

  /**
   * The trusted record, or why there is none. Either way a fresh journal is started after what is there; a
   * journal's torn tail is cut, and files of a foreign or broken record are removed.
   */
  async load(): Promise<TrustedRecord | string> {
    const journals = this.journals();
    let reader: EntryReader | undefined;
    try {
      reader = await EntryReader.open(join(this.dir, SNAPSHOT));
    } catch (error) {
      this.reset(journals);
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no record yet' : `the record is unreadable (${(error as Error).message})`;
    }
    const why = this.foreign(reader.header, 'snapshot');
    const since = Number(reader.header.generation);
    const forgotten: Buffer[] = [];
    let problem = why;
    for (const { name, generation } of journals) {
      if (problem !== undefined || generation < since) continue;
      const path = join(this.dir, name);
      try {
        const journal = readJournal(path);
        problem = this.foreign(journal.header, name) ?? (Number(journal.header.generation) !== generation ? `${name} is of another generation` : undefined);
        if (journal.cutAt !== undefined) {
          this.logger.warn({ journal: path, at: journal.cutAt }, 'state journal: a torn or corrupted tail was cut at the last good record');
          cutJournal(path, journal.cutAt);
        }
        for (const record of journal.records) if (record.kind === JOURNAL_FORGET) forgotten.push(record.path);
      } catch (error) {
        problem = `${name} is unreadable (${(error as Error).message})`;
      }
      if (forgotten.length > MAX_JOURNAL_RECORDS) problem = 'too many changes since the last full sync';
    }
    if (problem !== undefined) {
      await reader.close();
      this.reset(journals);
      return problem;
    }
    return overlay(reader, forgotten);
  }

  /** How many entries the snapshot holds, by its trailer's word: for a progress estimate only (files.ts). */
  sizeHint(): number | undefined {
    return entryCountHint(join(this.dir, SNAPSHOT));
  }

  /** Starts a new journal generation; returns it. Done before the scan that a full sync will install. */
  rotate(): number {
    this.journal?.close();
    this.generation += 1;
    this.journal = new JournalWriter(join(this.dir, `journal.${this.generation}`), this.header('journal', this.generation));
    syncDirectory(this.dir);
    this.givenUp = false;
    return this.generation;
  }

  /** Forgets paths (and all below them): appended now, durable after sync(). */
  forget(paths: Buffer[]): void {
    const journal = this.journal;
    if (journal === undefined || this.givenUp || paths.length === 0) return;
    if (journal.records + paths.length > MAX_JOURNAL_RECORDS) {
      // Everything is forgotten at once: the next start does a full sync, as without a record.
      journal.append(JOURNAL_FORGET, [Buffer.alloc(0)]);
      this.givenUp = true;
      return;
    }
    journal.append(JOURNAL_FORGET, paths);
  }

  /** Makes what was forgotten durable: called before an rsync that could make the record untrue. */
  sync(): void {
    this.journal?.sync();
  }

  /** Makes `scan` (taken after rotate() returned `generation`) the snapshot, once a full sync confirmed it. */
  async install(scan: string, generation: number): Promise<void> {
    const temp = join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const reader = await EntryReader.open(scan);
    const writer = new EntryWriter(temp, this.header('snapshot', generation));
    try {
      for (const entries = reader.cursor(); !entries.done; entries.next()) writer.addEncoded(entries.bytes, entries.at, entries.end, 1);
      writer.close();
      this.sync(); // what was forgotten while the snapshot was written, durable before the snapshot is
      renameDurably(temp, join(this.dir, SNAPSHOT), this.dir);
    } catch (error) {
      writer.abandon();
      removeFile(temp);
      throw error;
    } finally {
      await reader.close();
    }
    for (const { name, generation: older } of this.journals()) if (older < generation) removeFile(join(this.dir, name));
  }

  /** Removes the snapshot (durably): the record then says nothing, and the next start does a full sync. */
  discard(): void {
    removeFile(join(this.dir, SNAPSHOT));
    syncDirectory(this.dir);
  }

  close(): void {
    this.journal?.close();
    this.journal = undefined;
  }

  private header(kind: string, generation: number): Header {
    return { kind, version: FORMAT_VERSION, generation, ...this.identity };
  }

  /** Why a file's header says it belongs to something else, or undefined when it is ours. */
  private foreign(header: Header, what: string): string | undefined {
    if (header.version !== FORMAT_VERSION) return `${what} is of format ${String(header.version)}, not ${FORMAT_VERSION}`;
    for (const [key, value] of Object.entries(this.identity)) {
      if (JSON.stringify(header[key]) !== JSON.stringify(value)) return `${what} belongs to another ${key} (${JSON.stringify(header[key])})`;
    }
    return undefined;
  }

  private journals(): Array<{ name: string; generation: number }> {
    return readdirSync(this.dir).flatMap((name) => {
      const match = JOURNAL.exec(name);
      return match ? [{ name, generation: Number(match[1]) }] : [];
    }).sort((a, b) => a.generation - b.generation);
  }

  /** Removes a record that cannot be trusted: only names this module creates. */
  private reset(journals: Array<{ name: string }>): void {
    removeFile(join(this.dir, SNAPSHOT));
    for (const { name } of journals) removeFile(join(this.dir, name));
    for (const name of readdirSync(this.dir)) if (TEMP.test(name)) removeFile(join(this.dir, name));
  }
}

/** The snapshot's entries in order, with each forgotten path standing (as 'unknown') for itself and all below. */
function overlay(reader: EntryReader, forgotten: Buffer[]): TrustedRecord {
  forgotten.sort(comparePaths);
  const prefixes: Buffer[] = [];
  for (const path of forgotten) if (prefixes.length === 0 || !isWithin(path, prefixes.at(-1)!)) prefixes.push(path);
  return { cursor: () => new OverlayCursor(reader.cursor(), prefixes), close: () => reader.close() };
}

/** The snapshot's cursor with an unknown entry put in for each prefix, in its place, and what is below it left out. */
class OverlayCursor extends EntryCursor {
  private taken = 0;
  private covering: Buffer | undefined;
  /** An unknown entry is in view, before the snapshot's (which is not moved past yet). */
  private standingIn = false;

  constructor(private readonly snapshot: EntryCursor, private readonly prefixes: Buffer[]) {
    super();
    this.settle();
  }

  next(): void {
    if (this.done) return;
    if (!this.standingIn) this.snapshot.next();
    this.settle();
  }

  private settle(): void {
    const s = this.snapshot;
    for (;;) {
      const prefix = this.prefixes[this.taken];
      if (prefix !== undefined && (s.done || compareRanges(prefix, 0, prefix.length, s.bytes, s.at + AT.path, s.end) <= 0)) {
        this.covering = prefix;
        this.taken++;
        this.show(encoded(unknownEntry(prefix)), true);
        return;
      }
      if (s.done) {
        this.done = true;
        return;
      }
      if (this.covering === undefined || !isWithinRange(s.bytes, s.at + AT.path, s.end, this.covering)) break;
      s.next();
    }
    this.show(s, false);
  }

  private show(from: { bytes: Buffer; at: number; end: number }, standingIn: boolean): void {
    this.bytes = from.bytes;
    this.at = from.at;
    this.end = from.end;
    this.standingIn = standingIn;
  }
}

function encoded(entry: Entry): { bytes: Buffer; at: number; end: number } {
  const bytes = Buffer.alloc(encodedLength(entry));
  return { bytes, at: 0, end: encodeEntry(entry, bytes, 0) };
}

export { StateFileError };
