// The state records of one sync's targets, kept beside the host queues: each target's transport is wrapped
// so that what could make its record untrue is forgotten (and made durable) before rsync starts, and a full
// sync that succeeds installs the scan taken before it. At start, the source is scanned once and each trusted
// record diffed against it: the difference is what the target lacks after the agent was down.
//
//   start:        load, rotate every journal ─► scan the source (one file) ─► diff it per target ─► marks
//   full sync:    [scan, unless the start's scan is still unused] ─► rotate ─► rsync ─► ok: install the scan
//   beside:       rotate ─► rsync and, beside it, the scan ─► both ok: install the scan
//                 (a full sync with no scan of the start's to use and no -H; at start, one target with no
//                 trusted record takes no scan first: it has nothing to diff, and its full sync scans beside)
//   batch, move:  forget its paths, fsync ─► rsync
//   a change seen while a full sync runs: forgotten (the scan it will install predates it)
//
// Why the journal from before the full sync may be dropped at its install: an entry of the scan is a stat
// taken before rsync read the path. If the path still had it when read, the target got that content; if not,
// it differs now (ctime cannot go back), except a directory renamed away and back while rsync ran, whose
// children keep their stats: the changes seen during the full sync are forgotten for that.
//
// A scan beside the rsyncs reads what they may already have read: its stats are racy against the moment
// before they started (scan.ts besideSince), not against its own clock. An entry unchanged since then is as
// rsync read it; one changed since is recorded unknown (a directory with its subtree: entries may have come
// and gone in it behind rsync) and sent whole at the next start. Not with -H: the split needs the scan's
// hard links before its rsyncs start. What it saves: the scan's time before the first rsync (200k files,
// about 1 s of the agent's CPU, on the path of a first start).
//
// A scan that found no xattr or ACL anywhere (scan.ts) lets the full sync after it leave out -A/-X
// (transport.ts, bare-source.ts; a scan beside the rsyncs tells too late: they keep them). One given an xattr after the scan passed it is an attribute change
// (IN_ATTRIB), sent by a batch with -A/-X, which the host queue runs after a full sync (or, beside a
// verification, again after it), and rsync without -X leaves a target's xattrs as they are. Except where the
// host queue drops a change because a full sync it owes will cover it (not yet started, or a backlog
// collapsed): so the start's scan is used for that only while nothing that may bring an xattr (an attribute
// change, a create, a move, a rescan) was seen since it began; else the full sync scans afresh, and what
// changes during that scan is queued, not dropped (the queue took the full sync first). In a subtree left
// unwatched (--allow-partial-watch) an xattr given after the scan passed is seen by the next full sync's
// scan, as a write there after rsync passed is sent by the next full sync.
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { FullSyncCause } from '../sync/delete-mode.js';
import type { BatchResult } from '../sync/host-queue.js';
import type { SyncTransport } from '../sync/engine.js';
import type { PathSet } from '../sync/path-set.js';
import type { Change, ExcludeFn } from '../watch/types.js';
import { runAsPass, type Pass, type ProgressTracker } from '../status/progress.js';
import { privateDirectory } from '../safety/state-dir.js';
import { LinkFinder, type LinkedNames } from '../rsync/hard-links.js';
import { diffRecord } from './diff.js';
import { EntryReader, EntryWriter, removeFile } from './files.js';
import { scanTree } from './scan.js';
import { FORMAT_VERSION, TargetState, type Identity } from './store.js';

export interface StateOptions {
  /** The state directory (see src/safety/state-dir.ts). */
  dir: string;
  /** False: the records are kept but not believed at start (a plain full sync, as without them). */
  trust: boolean;
  /**
   * A full garbage collection, run once a scan is written: what it read (listings, buffers) is garbage then,
   * and without V8's memory reducer (src/cli/launcher.cts) it stayed in the agent's RSS through the full
   * sync that follows (200k files: the process tree's peak 4-5 MiB lower with one collection there).
   */
  collect?: () => void;
}

/**
 * A transport whose full sync may run at low priority (nice/ionice): the background verification; and whose
 * runs report into a pass of ours (the scan before a full sync, the startup difference: src/status/progress.ts).
 */
export interface PrioritizedTransport extends SyncTransport {
  /** -H: its full sync is split only with the scan's finding of the hard links (undefined: taken as true). */
  readonly keepsHardLinks?: boolean;
  fullSync(signal: AbortSignal, causes: readonly FullSyncCause[], options?: { lowPriority?: boolean; serial?: boolean; pass?: Pass; links?: LinkedNames; entries?: number; started?: () => void; noXattrs?: boolean }): Promise<BatchResult>;
  transfer(batch: { paths: Buffer[]; trees: Buffer[] }, signal: AbortSignal, options?: { pass?: Pass }): Promise<BatchResult>;
}

interface SourceRecordOptions extends StateOptions {
  source: string;
  excludes: string[];
  exclude: ExcludeFn | undefined;
  rsyncOptions: readonly string[] | undefined;
  logger: Logger;
  /** Entries in the source, guessed (from the watches) for a full sync whose scan has not counted them yet. */
  guess?: () => number;
}

/** A scan of the source in a file of the state directory, removed once every user has let go of it. */
interface ScanFile {
  path: string;
  entries: number;
  /** Where the hard links are (a split full sync keeps each inode's names in one run); undefined: too many. */
  links: LinkedNames | undefined;
  /** Some entry may hold an xattr or ACL (scan.ts). */
  xattrs: boolean;
  /** A change seen since the scan began may have brought an xattr it did not see (see the header). */
  overtaken(): boolean;
  release(): void;
}

/** Changes that may bring an xattr where a scan had already passed (see the header). */
const MAY_BRING_XATTRS: ReadonlySet<Change['kind']> = new Set(['attributes', 'created', 'moved', 'rescan']);

export class SourceRecords {
  private readonly recorders = new Map<string, RecordingTransport>();
  private readonly root: { dev: string; ino: string };
  /** Changes seen that are in MAY_BRING_XATTRS. */
  private xattrChanges = 0;

  constructor(private readonly options: SourceRecordOptions) {
    privateDirectory(options.dir);
    this.root = rootIdentity(options.source);
  }

  /** Wraps a target's transport; its record is opened (and checked) now. `progress`: where its passes report. */
  wrap(spec: string, transport: PrioritizedTransport, progress?: ProgressTracker): SyncTransport {
    const identity: Identity = {
      source: this.options.source, ...this.root, target: spec, excludes: this.options.excludes, rsyncOptions: [...(this.options.rsyncOptions ?? [])],
    };
    const state = TargetState.open(this.options.dir, identity, this.options.logger);
    const guess = (): number | undefined => state.sizeHint() ?? this.options.guess?.();
    const recorder = new RecordingTransport(transport, state, (pass, besideSince) => this.scan(1, pass, besideSince), guess, this.options.logger.child({ target: spec }), progress);
    this.recorders.set(spec, recorder);
    return recorder;
  }

  /**
   * Per target: the marks that bring it in line with the source as scanned now, or undefined when its record
   * is not trusted (none, foreign, broken, or --no-trust-state): it then starts with a full sync.
   */
  async startup(limit: number, progress?: ProgressTracker): Promise<Map<string, PathSet | undefined>> {
    const result = new Map<string, PathSet | undefined>();
    const records = new Map<string, Awaited<ReturnType<TargetState['load']>>>();
    // The last scan's size, before load() may remove a foreign record: a total for the scan's estimate.
    const sizes = [...this.recorders.values()].map((r) => r.state.sizeHint() ?? 0);
    for (const [spec, recorder] of this.recorders) {
      records.set(spec, await recorder.state.load());
      recorder.state.rotate();
    }
    const [only] = this.recorders.values();
    if (this.recorders.size === 1 && only!.scansBeside() && (!this.options.trust || [...records.values()].every((r) => typeof r === 'string'))) {
      // A full sync first whatever the scan says: it scans beside its own rsyncs (RecordingTransport.fullSync).
      for (const [spec, record] of records) {
        if (typeof record !== 'string') await record.close();
        this.options.logger.info({ target: spec, reason: typeof record === 'string' ? record : 'started with --no-trust-state' }, 'no trusted state record: a full sync first');
        result.set(spec, undefined);
      }
      return result;
    }
    const last = Math.max(0, ...sizes);
    const pass = progress?.begin('scan', 'scanning', last > 0 ? { count: last, from: 'record' } : undefined);
    let scan: ScanFile;
    try {
      scan = await this.scan(this.recorders.size, pass);
      pass?.end('ok');
    } catch (error) {
      pass?.end('failed');
      throw error;
    }
    for (const [spec, recorder] of this.recorders) {
      const record = records.get(spec)!;
      recorder.adopt(scan);
      if (typeof record === 'string' || !this.options.trust) {
        if (typeof record !== 'string') await record.close();
        this.options.logger.info({ target: spec, reason: typeof record === 'string' ? record : 'started with --no-trust-state' }, 'no trusted state record: a full sync first');
        result.set(spec, undefined);
        continue;
      }
      const reader = await EntryReader.open(scan.path);
      try {
        const marks = await diffRecord(record.cursor(), reader.cursor(), limit);
        if (marks === undefined) this.options.logger.info({ target: spec, limit }, 'more changed while the agent was down than --max-pending: a full sync first');
        else recorder.verifyNext();
        result.set(spec, marks);
      } catch (error) {
        this.options.logger.warn({ target: spec, err: error }, 'the state record is broken: ignored, a full sync first');
        result.set(spec, undefined);
      } finally {
        await Promise.all([reader.close(), record.close()]);
      }
    }
    return result;
  }

  /** A change seen by the watch tree: forgotten by every target whose full sync runs. */
  note(change: Change): void {
    if (MAY_BRING_XATTRS.has(change.kind)) this.xattrChanges++;
    for (const recorder of this.recorders.values()) recorder.note(change);
  }

  forgetTarget(spec: string): void {
    this.recorders.delete(spec);
  }

  /** Whether a change that may bring an xattr was seen after `since`; made apart from scan(), whose frame it would keep alive. */
  private overtakenSince(since: number): () => boolean {
    return () => this.xattrChanges !== since;
  }

  /** Scans the source into a file; `pass` (phase 'scanning') counts the entries as they come. */
  private async scan(users: number, pass?: Pass, besideSince?: bigint): Promise<ScanFile> {
    const path = join(this.options.dir, `.scan-${randomBytes(8).toString('hex')}`);
    const writer = new EntryWriter(path, { kind: 'scan', version: FORMAT_VERSION, source: this.options.source });
    let entries = 0;
    const counted = pass ?? { scanned: 0 };
    const links = new LinkFinder();
    const since = this.xattrChanges;
    let xattrs = true;
    try {
      ({ xattrs } = await scanTree({ root: this.options.source, ...(this.options.exclude ? { exclude: this.options.exclude } : {}), ...(besideSince === undefined ? {} : { besideSince }), linked: (p, dev, ino) => links.add(p, dev, ino) }, (bytes, end, count) => {
        writer.addEncoded(bytes, 0, end, count);
        counted.scanned = entries += count;
      }));
      writer.close();
    } catch (error) {
      writer.abandon();
      removeFile(path, 'any');
      throw error;
    }
    // A turn later: this frame (the writer, its buffer) is gone by then.
    const { collect } = this.options;
    if (collect) setImmediate(collect);
    return scanFile(path, entries, links.found(), xattrs, this.overtakenSince(since), users);
  }
}

class RecordingTransport implements SyncTransport {
  /** The start's scan, for the first full sync (taken after the journal's rotation, before any rsync). */
  private pending: ScanFile | undefined;
  private fullRunning = false;
  private lowPriority = false;
  /** The next batch is the startup difference (verifyNext): it reports as such. */
  private difference = false;
  /** Recording stopped after a failure to write: the record was removed, starts do full syncs. */
  private broken = false;

  constructor(
    private readonly inner: PrioritizedTransport,
    readonly state: TargetState,
    private readonly scan: (pass?: Pass, besideSince?: bigint) => Promise<ScanFile>,
    private readonly guess: () => number | undefined,
    private readonly logger: Logger,
    private readonly progress?: ProgressTracker,
  ) {}

  adopt(scan: ScanFile): void {
    this.pending = scan;
  }

  /** The next full sync verifies what a startup difference sent: it runs at low priority. */
  verifyNext(): void {
    this.lowPriority = true;
    this.difference = true;
  }

  note(change: Change): void {
    if (this.fullRunning) this.guard(() => this.state.forget(change.from === undefined ? [change.path] : [change.path, change.from]));
  }

  /** Whether a full sync's scan may run beside its rsyncs: their split needs no hard links from it (see fullSync). */
  scansBeside(): boolean {
    return this.inner.keepsHardLinks === false && !this.broken;
  }

  async fullSync(signal: AbortSignal, causes: readonly FullSyncCause[]): Promise<BatchResult> {
    let taken = this.pending;
    this.pending = undefined;
    if (taken !== undefined && !taken.xattrs && taken.overtaken()) {
      taken.release(); // its word on xattrs is out of date (see the header): a fresh scan
      taken = undefined;
    }
    const lowPriority = this.lowPriority;
    this.lowPriority = false;
    this.difference = false;
    const beside = taken === undefined && this.scansBeside();
    const pass = this.progress?.begin(lowPriority ? 'verification' : 'full sync', taken === undefined && !this.broken && !beside ? 'scanning' : 'sending');
    let outcome: BatchResult['outcome'] = 'retry';
    let generation: number | undefined;
    let scanning: Promise<ScanFile | undefined> | undefined;
    try {
      if (taken === undefined && !this.broken && !beside) taken = await this.scan(pass);
      // What is forgotten from here on is kept over the scan: what changes while rsync reads (see the header).
      if (!this.broken) generation = this.state.rotate();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not scan the source for the state record: this full sync is not recorded');
    }
    pass?.phase('sending', taken === undefined ? undefined : { count: taken.entries, from: 'scan' });
    this.fullRunning = true;
    try {
      // Beside the rsyncs (their split cut by a guess of the size), once the first is spawned, measured against
      // the moment before any started (scan.ts besideSince): what they may have read before it changed is unknown.
      const since = BigInt(Date.now()) * 1_000_000n;
      const started = (): void => {
        scanning = this.scan(undefined, since).catch((error: unknown) => {
          this.logger.warn({ err: error }, 'could not scan the source for the state record: this full sync is not recorded');
          return undefined;
        });
      };
      const entries = taken?.entries ?? (beside ? this.guess() : undefined);
      const running = this.inner.fullSync(signal, causes, { lowPriority, serial: lowPriority, ...(pass ? { pass } : {}), ...(taken?.links ? { links: taken.links } : {}), ...(entries === undefined ? {} : { entries }), ...(taken ? { noXattrs: !taken.xattrs } : {}), ...(beside && generation !== undefined ? { started } : {}) });
      let result: BatchResult;
      try {
        result = await running;
      } finally {
        taken ??= await scanning; // released below, whatever became of the full sync
      }
      outcome = result.outcome;
      if (result.outcome === 'ok' && taken !== undefined && generation !== undefined && !this.broken) {
        await this.state.install(taken.path, generation).catch((error: unknown) => this.logger.warn({ err: error }, 'could not write the state record: the next start does a full sync'));
      }
      return result;
    } finally {
      this.fullRunning = false;
      taken?.release();
      pass?.end(outcome === 'ok' ? 'ok' : 'failed');
    }
  }

  transfer(batch: { paths: Buffer[]; trees: Buffer[] }, signal: AbortSignal): Promise<BatchResult> {
    this.guard(() => {
      this.state.forget([...batch.paths, ...batch.trees]);
      this.state.sync();
    });
    return this.difference ? this.sendDifference(batch, signal) : this.inner.transfer(batch, signal);
  }

  /** The first batch after verifyNext(): the startup difference, reported as a pass of its own. */
  private sendDifference(batch: { paths: Buffer[]; trees: Buffer[] }, signal: AbortSignal): Promise<BatchResult> {
    this.difference = false;
    const pass = this.progress?.begin('difference', 'sending', { count: batch.paths.length + batch.trees.length, from: 'marks' });
    return runAsPass(pass, () => this.inner.transfer(batch, signal, pass ? { pass } : {}));
  }

  remoteMove(from: Buffer, to: Buffer): Promise<boolean> {
    this.guard(() => {
      this.state.forget([from, to]);
      this.state.sync();
    });
    return this.inner.remoteMove(from, to);
  }

  async reachability(): Promise<(() => Promise<boolean>) | undefined> {
    return this.inner.reachability?.();
  }

  expectTrees(idle: boolean): void {
    this.inner.expectTrees?.(idle);
  }

  async stop(): Promise<void> {
    this.pending?.release();
    this.pending = undefined;
    this.state.close();
    await this.inner.stop();
  }

  /**
   * A record that cannot be kept true is removed: a start then does a full sync. If even that fails, the
   * error goes on (the rsync is then not started: better no batch than a record that lies).
   */
  private guard(write: () => void): void {
    if (this.broken) return;
    try {
      write();
    } catch (error) {
      this.logger.error({ err: error }, 'could not write the state journal: dropping this target\'s state record (the next start does a full sync)');
      this.state.discard();
      this.broken = true;
    }
  }
}

/** A scan's file, removed once its `users` have let go: made here, so that nothing of the scan's own (its writer's buffer) lives on with it. */
function scanFile(path: string, entries: number, links: LinkedNames | undefined, xattrs: boolean, overtaken: () => boolean, users: number): ScanFile {
  let left = users;
  return { path, entries, links, xattrs, overtaken, release: () => { if (--left === 0) removeFile(path, 'any'); } };
}

/** The source root's device and inode; a root that cannot be read is the watch tree's to report (it starts first). */
function rootIdentity(source: string): { dev: string; ino: string } {
  try {
    const stats = lstatSync(source, { bigint: true });
    return { dev: String(stats.dev), ino: String(stats.ino) };
  } catch {
    return { dev: 'unreadable', ino: 'unreadable' };
  }
}
