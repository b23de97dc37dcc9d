// One sync: a source tree kept identical on one or more targets.
//
//   watch tree ──change──► change set (quiet window, max delay) ──marks──► one host queue per target
//                                                                           └─► rsync transport
//
// Startup arms the watches first and only then starts each target's full sync (all in parallel, bounded by
// the shared limiter): whatever changes while the full sync runs is queued for that host and sent after it,
// so nothing that happens during startup is lost, and a restart after a crash converges. With state records
// (src/state/), the source is scanned once the watches are armed, and a target whose record is trusted is
// first sent what differs from it (what changed while the agent was down), its full sync following at low
// priority as a verification; what is released during the scan joins that difference.
//
// Targets may differ in what they are sent (per-target filters, target-filter.ts: each host is given the
// marks of its own view) and in which deletes reach them (delete-mode.ts: the transport's business).
// With `initialSync: false` the startup full syncs are skipped; targets added later still get theirs.
//
// Remote moves (--remote-moves) skip the change set: a directory rename goes to every host queue at once,
// which replays it before the marks it holds. So a rename is replayed only when no change is held here
// about its old directory (to be sent whole) or about any directory above its old or new name (the root
// included): a symlink the source replaced by a directory, still held, would be the target's idea of where
// the rename lands. Such a rename is an ordinary change instead (the old name deleted, the new one sent
// whole). The host queue applies the same rule to what it holds; the transport checks the target itself.
import { EventEmitter } from 'node:events';
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import PQueue from 'p-queue';
import { InosyncError } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { Transport } from '../rsync/transport.js';
import type { RsyncOptions } from '../safety/rsync-options.js';
import type { SyncStatus, HostStatus } from '../status/types.js';
import { OverlongDirectoryError, QueueOverflowError } from '../watch/errors.js';
import { WatchTree } from '../watch/tree.js';
import type { Change, ExcludeFn } from '../watch/types.js';
import { defaultBackoff, type BackoffOptions } from './backoff.js';
import { ChangeSet } from './changeset.js';
import { fullSyncDeletes } from './delete-mode.js';
import { HardLinkCheck } from './hard-links.js';
import { HostQueue, type BatchReport, type HostSnapshot, type HostState, type TransferPort } from './host-queue.js';
import { PathSet } from './path-set.js';
import { SourceRecords, type StateOptions } from '../state/recorder.js';
import { SkippedSubtrees } from './skipped.js';
import { ENTRIES_PER_WATCH, ProgressTracker } from '../status/progress.js';
import { marksInView, ownView, targetFilters, watchExclude, type SyncTarget, type TypeOf } from './target-filter.js';

export interface SyncOptions {
  /** The source directory. */
  source: string;
  /** How logs and status name the source when `source` is a private alias of it (src/safety/source-alias.ts). */
  sourceLabel?: string;
  /** Where to, each with its delete mode and its own filter rules. */
  targets: SyncTarget[];
  /** rsync-style exclude patterns: not watched, not sent (and protected from deletion on the targets). */
  excludes?: string[];
  /** rsync-style include patterns, ahead of the excludes (first match wins): what they match is watched and sent. */
  includes?: string[];
  /** False: no full sync at startup (the targets are known to be current); default true. */
  initialSync?: boolean;
  /** Directories left unwatched (the watch budget is short) but still sent: full syncs cover them. */
  unwatched?: (relativePath: Buffer) => boolean;
  /** Replaces the transport's default attribute flags (-aHAX, --numeric-ids as root). */
  rsyncOptions?: RsyncOptions;
  quietMs?: number;
  maxDelayMs?: number;
  /** rsyncs running at once across all targets of this sync. */
  maxProcs?: number;
  /** rsyncs one target's full sync of a large tree may run at once (a full sync takes one --max-procs slot). */
  fullSyncProcs?: number;
  /** Replay directory renames on the targets instead of sending the subtree again. */
  remoteMoves?: boolean;
  /** Marks per host past which its backlog becomes one full sync. */
  maxPending?: number;
  backoff?: BackoffOptions;
  /** rsync I/O timeout and ssh connect/keep-alive budget (s). */
  timeoutSec?: number;
  logger?: Logger;
  /** Builds the transport for a target; the default is the rsync transport. */
  transport?: (target: SyncTarget) => SyncTransport;
  /** Per-target state records: what each target confirmed, to send only the difference at start. */
  state?: StateOptions;
  /** A log line per running full sync, scan or large batch this often (src/status/progress.ts); default 10 s. */
  progressEveryMs?: number;
}

/** What the engine needs from a transport: the host queue's part, plus shutting it down. */
export interface SyncTransport extends TransferPort {
  stop(): Promise<void>;
}

export const syncDefaults = {
  quietMs: 1,
  maxDelayMs: 1000,
  maxProcs: 4,
  maxPending: 200_000,
  timeoutSec: 30,
} as const;

/** A storm: this many changes held and more still coming; they go once quiet this long (see ChangeSetOptions). */
const STORM = { marks: 64, quietMs: 20 } as const;
/**
 * A directory with this many files in a set, and at least this share of its entries, is sent whole. Half:
 * measured here (100 directories, rsync -aHAX over a multiplexed ssh, tmpfs), the local rsync's CPU for
 * the tree against the listed names was 0.51 s against 0.66 with half the entries in the set, even at a
 * third, and 0.56 against 0.35 at a fifth; a storm that outlasts the max delay leaves batches with about
 * half of each directory new, which at three quarters went as thousands of listed names.
 */
const CROWDED = { marked: 32, share: 0.5 } as const;

export interface SyncCounters {
  events: number;
  overflows: number;
  rescans: number;
  remoteMoves: number;
  /** Released sets escalated to a whole-tree send because a hard-linked file changed. */
  hardLinkResyncs: number;
}

/** What a host had not received when the agent stopped. */
export interface Unsynced {
  host: string;
  fullSync: boolean;
  marks: number;
  moves: number;
  sample: Buffer[];
}

export interface SyncEvents {
  /** After every rsync run of every host. */
  batch: [BatchReport];
  /** A host changed state (syncing, idle, retrying, down, stopped). */
  state: [string, HostState];
  /** The watch tree is broken (root gone, watch limit hit after start): the sync cannot go on as it is. */
  error: [InosyncError];
  /** Something to tell the operator that the sync survives (overflow, unreadable directory). */
  warning: [InosyncError];
}

interface Host {
  target: SyncTarget;
  queue: HostQueue;
  transport: SyncTransport;
  /** What this target's own rules leave out of the watched tree (undefined: nothing more). */
  view: ExcludeFn | undefined;
  /** Its full syncs and large batches, as far as they got. */
  progress: ProgressTracker;
}

export class SyncEngine extends EventEmitter<SyncEvents> {
  readonly source: string;
  private readonly options: SyncOptions;
  private readonly logger: Logger;
  private readonly limiter: PQueue;
  private readonly hosts = new Map<string, Host>();
  private readonly tree: WatchTree;
  private readonly changes: ChangeSet;
  private readonly counters: SyncCounters = { events: 0, overflows: 0, rescans: 0, remoteMoves: 0, hardLinkResyncs: 0 };
  private started = false;
  private stopping = false;
  /** `source/`, to stat changed paths. */
  private readonly sourcePrefix: Buffer;
  /** Whether what a release holds needs the whole tree for hard links to stay links (see dispatch). */
  private readonly hardLinks: HardLinkCheck;
  /** Directories too deep or too long to watch or send: kept from rsync (see skipped.ts). */
  private readonly skipped: SkippedSubtrees;
  private readonly records: SourceRecords | undefined;
  /** Released while the startup scan runs: joins each target's difference (see the header). */
  private early: PathSet | undefined;
  /** The startup scan, as far as it got. */
  private readonly scanProgress: ProgressTracker;

  constructor(options: SyncOptions) {
    super();
    this.options = options;
    this.source = options.source;
    this.sourcePrefix = Buffer.from(`${options.source.replace(/\/+$/, '')}/`);
    this.hardLinks = new HardLinkCheck(this.sourcePrefix);
    this.skipped = new SkippedSubtrees(this.sourcePrefix);
    this.logger = (options.logger ?? silentLogger).child({ source: options.sourceLabel ?? options.source });
    this.limiter = new PQueue({ concurrency: options.maxProcs ?? syncDefaults.maxProcs });
    this.scanProgress = this.tracker({}); // the logger names the source
    const excluded = watchExclude(options, options.targets);
    const { unwatched } = options;
    const exclude: ExcludeFn | undefined = unwatched ? (path, isDir, root) => (isDir && unwatched(path)) || (excluded?.(path, isDir, root) ?? false) : excluded;
    this.tree = new WatchTree({ roots: [options.source], ...(exclude ? { exclude } : {}) });
    this.records = options.state && new SourceRecords({
      ...options.state, source: options.source, excludes: options.excludes ?? [], exclude: excluded, rsyncOptions: options.rsyncOptions, logger: this.logger,
      guess: () => this.tree.watchCount * ENTRIES_PER_WATCH,
    });
    this.changes = new ChangeSet({
      quietMs: options.quietMs ?? syncDefaults.quietMs,
      maxDelayMs: options.maxDelayMs ?? syncDefaults.maxDelayMs,
      storm: STORM,
      // Its crowded directories will likely go whole (sendCrowdedWhole): the hosts that may send them so get ready.
      onStorm: () => { for (const host of this.hosts.values()) if (!host.view) host.queue.expectTrees(); },
      onReady: (marks) => this.dispatch(marks),
    });
    for (const target of options.targets) this.addHost(target, options.initialSync ?? true);
  }

  /**
   * Arms the watches, then starts every target's full sync. Resolves once watching (the full syncs go on);
   * rejects when the source cannot be watched (RootError, WatchLimitError, InstanceLimitError).
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('SyncEngine.start: already started');
    this.started = true;
    this.tree.on('change', (change) => this.onChange(change));
    this.tree.on('warning', (warning) => {
      if (warning instanceof QueueOverflowError) this.counters.overflows += 1;
      if (warning instanceof OverlongDirectoryError) this.skipped.add(warning.relative);
      this.logger.warn({ warning: warning.message, fix: warning.fix }, 'watch tree warning');
      this.emit('warning', warning);
    });
    this.tree.on('error', (error) => {
      this.logger.error({ error: error.message, fix: error.fix }, 'watch tree error');
      this.emit('error', error);
    });
    await this.tree.start();
    const differences = await this.startupDifferences();
    this.logger.info({ watches: this.tree.watchCount, targets: [...this.hosts.keys()] }, 'watching; starting the full sync of every target');
    for (const host of this.hosts.values()) {
      const difference = differences.get(host.target.spec);
      if (difference !== undefined) {
        this.logger.info({ host: host.target.spec, marks: difference.size }, 'sending what changed while the agent was down, then the full sync as a low-priority verification');
      }
      // The record is of the whole source: a target with rules of its own is given its own view of it.
      const own = difference && host.view ? marksInView(difference, host.view, this.typeOf) : difference;
      // What was deleted while the agent was down is a startup delete, not a live one: a target whose mode
      // keeps those (--delete running, never) is sent the rest only.
      host.queue.start(own && !fullSyncDeletes(host.target.deleteMode, ['start']) ? this.presentOnly(own) : own);
    }
  }

  /** Each trusted record's difference with the source, plus what was released meanwhile; none without records. */
  private async startupDifferences(): Promise<Map<string, PathSet | undefined>> {
    if (this.records === undefined || this.stopping) return new Map();
    this.early = new PathSet();
    try {
      const differences = await this.records.startup(this.options.maxPending ?? syncDefaults.maxPending, this.scanProgress);
      for (const difference of differences.values()) difference?.merge(this.early);
      return differences;
    } catch (error) {
      this.logger.warn({ err: error }, 'could not scan the source for the state records: full syncs first');
      return new Map();
    } finally {
      this.early = undefined;
    }
  }

  /**
   * Adds a target at run time (config reload); it starts with a full sync. Its own filter rules cannot widen
   * what is watched: a target that needs more watched comes with a new engine (the agent sees to it).
   */
  addTarget(target: SyncTarget): void {
    if (this.hosts.has(target.spec)) throw new InosyncError(`target ${target.spec} is already synced from ${this.source}`, 'Give each target once.', { exitCode: 2 });
    const host = this.addHost(target, true);
    if (this.started && !this.stopping) host.queue.start();
  }

  /** Stops syncing a target at run time; what it had not received is returned (and dropped). */
  async removeTarget(spec: string): Promise<Unsynced | undefined> {
    const host = this.hosts.get(spec);
    if (!host) return undefined;
    this.hosts.delete(spec);
    this.records?.forgetTarget(spec);
    const left = { host: spec, ...host.queue.unsynced() };
    host.queue.stop();
    await host.transport.stop();
    return left;
  }

  /** Forces a full sync of one target, or of all (SIGUSR1, a drifted target). */
  resync(spec?: string, reason = 'requested'): void {
    for (const host of this.hosts.values()) if (spec === undefined || host.target.spec === spec) host.queue.requestFullSync(reason);
  }

  /** The targets, as the user wrote them. */
  get targets(): string[] {
    return [...this.hosts.keys()];
  }

  /** True when every target has everything seen so far (nothing held, pending or in flight). */
  get settled(): boolean {
    return this.changes.size === 0 && [...this.hosts.values()].every((h) => h.queue.settled);
  }

  /** The snapshot `inosync status` and the metrics endpoint show. */
  status(): SyncStatus {
    return {
      source: this.options.sourceLabel ?? this.source,
      watches: this.tree.watchCount,
      skipped: this.skipped.paths.map((p) => p.toString('latin1')),
      hosts: [...this.hosts.values()].map((h) => ({ ...toHostStatus(h.queue.status()), progress: h.progress.current() })),
      counters: { events: this.counters.events, overflows: this.counters.overflows, rescans: this.counters.rescans },
      scan: this.scanProgress.current(),
    };
  }

  /** Everything the engine knows, per host in full detail. */
  snapshot(): { source: string; watches: number; counters: SyncCounters; held: number; hosts: HostSnapshot[] } {
    return {
      source: this.options.sourceLabel ?? this.source,
      watches: this.tree.watchCount,
      counters: { ...this.counters },
      held: this.changes.size,
      hosts: [...this.hosts.values()].map((h) => h.queue.status()),
    };
  }

  /**
   * Stops watching, sends what is held and pending to every host that takes it within `drainMs`, then
   * stops every rsync and ssh master. Returns, per host, what was left unsynced (empty when all is sent).
   */
  async stop(drainMs = 0): Promise<Unsynced[]> {
    if (this.stopping) return [];
    this.stopping = true;
    this.tree.close();
    this.changes.flush();
    this.changes.close();
    const hosts = [...this.hosts.values()];
    if (drainMs > 0 && this.started) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, drainMs); });
      await Promise.race([Promise.all(hosts.map((h) => h.queue.whenSettled())), deadline]);
      clearTimeout(timer);
    }
    const left: Unsynced[] = [];
    for (const host of hosts) {
      const unsynced = host.queue.unsynced();
      if (unsynced.fullSync || unsynced.marks > 0 || unsynced.moves > 0) left.push({ host: host.queue.name, ...unsynced });
      host.queue.stop();
    }
    await Promise.all(hosts.map((h) => h.transport.stop()));
    this.skipped.close();
    this.limiter.clear();
    return left;
  }

  /** Progress of long passes, logged every progressEveryMs; a total is guessed from the watches until a better one is known. */
  private tracker(fields: Record<string, string>): ProgressTracker {
    const everyMs = this.options.progressEveryMs;
    return new ProgressTracker({
      logger: this.logger, fields, ...(everyMs === undefined ? {} : { everyMs }),
      guess: () => (this.tree.watchCount > 0 ? { count: this.tree.watchCount * ENTRIES_PER_WATCH, from: 'watches' } : undefined),
    });
  }

  private addHost(target: SyncTarget, initialSync: boolean): Host {
    const progress = this.tracker({ host: target.spec });
    const direct = this.options.transport?.(target) ?? new Transport({
      source: this.source,
      target,
      ...(this.options.rsyncOptions ? { rsyncOptions: this.options.rsyncOptions } : {}),
      ...targetFilters(this.options, target),
      excludeRulesFile: () => this.skipped.rulesFile,
      ...(target.deleteMode === undefined ? {} : { deletes: target.deleteMode }),
      timeoutSec: this.options.timeoutSec ?? syncDefaults.timeoutSec,
      fullSyncProcs: this.options.fullSyncProcs,
      logger: this.logger,
      progress,
    });
    const transport = this.records?.wrap(target.spec, direct, progress) ?? direct;
    const view = ownView(this.options, target);
    const queue = new HostQueue({
      name: target.spec,
      transport,
      limiter: this.limiter,
      backoff: this.options.backoff ?? defaultBackoff,
      maxPending: this.options.maxPending ?? syncDefaults.maxPending,
      initialSync,
      // A host with a view of its own gets its marks cut to that view; a directory sent whole would reach past it.
      ...(view ? {} : { regroup: (marks: PathSet) => this.sendCrowdedWhole(marks) }),
      logger: this.logger,
    });
    queue.on('batch', (report) => this.emit('batch', report));
    queue.on('state', (name, state) => this.emit('state', name, state));
    const host = { target, queue, transport, view, progress };
    this.hosts.set(target.spec, host);
    return host;
  }

  private onChange(seen: Change): void {
    this.counters.events += 1;
    const change = this.skipped.admit(seen);
    if (change === undefined) return;
    // Asked first: a storm brings thousands of changes, whose fields would be built for nothing.
    if (this.logger.isLevelEnabled('trace')) this.logger.trace({ kind: change.kind, path: change.path.toString(), from: change.from?.toString(), isDir: change.isDir }, 'change');
    if (change.kind === 'rescan') this.counters.rescans += 1;
    this.records?.note(change);
    if (change.kind === 'moved' && change.isDir && change.from && this.options.remoteMoves && this.replayable(change.from, change.path)) {
      // Replayed on the targets at once, in order with what each host was already given; what the change
      // set still holds under the old name follows the directory to its new one.
      this.counters.remoteMoves += 1;
      this.changes.rename(change.from, change.path);
      for (const host of this.hosts.values()) this.moveOn(host, change.from, change.path);
      return;
    }
    this.hardLinks.note(change);
    this.changes.add(change);
  }

  /** See the header: nothing held may be about the old directory or about a directory above either name. */
  private replayable(from: Buffer, to: Buffer): boolean {
    return !this.changes.coveredByTree(from) && !this.changes.markedAbove(from) && !this.changes.markedAbove(to);
  }

  private dispatch(marks: PathSet): void {
    if (this.hardLinks.takeVerdict()) {
      this.counters.hardLinkResyncs += 1;
      this.logger.debug('a file with several names changed: sending the whole tree so its links stay links');
      marks.add(Buffer.alloc(0), 'tree');
    }
    this.sendCrowdedWhole(marks);
    this.early?.merge(marks);
    for (const host of this.hosts.values()) host.queue.add(host.view ? marksInView(marks, host.view, this.typeOf) : marks);
  }

  /**
   * A directory rename for one host: replayed when both names are in its view; else the plain way, as far
   * as its view goes (the old name brought in line, the new one sent whole).
   */
  private moveOn(host: Host, from: Buffer, to: Buffer): void {
    const plain = new PathSet();
    plain.add(from, 'path');
    plain.add(to, 'tree');
    const seen = host.view ? marksInView(plain, host.view, () => 'dir') : plain;
    if (seen.size === plain.size) host.queue.move(from, to);
    else host.queue.add(seen);
  }

  /** The marks whose paths still exist on the source (sent), without those that would delete on a target. */
  private presentOnly(marks: PathSet): PathSet {
    const present = new PathSet();
    for (const { path, mark } of marks.entries()) if (this.typeOf(path) !== undefined) present.add(path, mark);
    return present;
  }

  private readonly typeOf: TypeOf = (path) => {
    try {
      return lstatSync(Buffer.concat([this.sourcePrefix, path])).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  };

  /**
   * A directory whose entries are nearly all in the set, files only, is sent whole: rsync walks one
   * directory faster than it looks up thousands of listed names (a quarter less time for a storm of new
   * files). Not while a file in it is still being written: a tree run would send it torn.
   */
  private sendCrowdedWhole(marks: PathSet): void {
    for (const { path, marked } of marks.crowdedDirectories(CROWDED.marked)) {
      if (this.changes.writingUnder(path)) continue;
      let entries: Dirent[];
      try {
        entries = readdirSync(Buffer.concat([this.sourcePrefix, path]), { withFileTypes: true });
      } catch {
        continue; // gone meanwhile: its own events tell
      }
      if (marked >= entries.length * CROWDED.share && !entries.some((entry) => entry.isDirectory())) marks.add(path, 'tree');
    }
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toHostStatus(s: HostSnapshot): HostStatus {
  return {
    target: s.host,
    state: s.state === 'stopped' ? 'idle' : s.state,
    pending: s.pending,
    inFlight: s.inFlight ? { paths: s.inFlight.marks, full: s.inFlight.kind === 'full', startedAt: iso(s.inFlight.startedAt)! } : null,
    lastSuccess: iso(s.lastSuccessAt),
    fullSyncPending: s.fullSyncPending,
    lagMs: s.lagMs === 0 ? null : s.lagMs,
    failures: s.consecutiveFailures,
    lastError: s.lastError,
    cause: s.lastCause,
    counters: { batches: s.counters.batches, files: s.counters.files, bytes: s.counters.bytes, failures: s.counters.failures },
  };
}
