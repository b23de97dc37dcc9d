// Turns "send these paths to this target" into rsync (and ssh) child processes.
//
// One Transport per target. The engine calls it one batch at a time (order per host is what keeps a delete
// from being overtaken by an older create); nothing here queues or retries: a result says `retry` and the
// engine decides when.
//
//   transfer({ paths, trees })
//     paths: `rsync ATTRS --files-from=- --from0 --delete-missing-args --force SRC/ DST/`
//            each path is sent if it exists on the source (a directory: itself, not its contents) and
//            deleted on the target if it does not (a populated directory too: --force)
//     trees: the same with `-r --delete`: listed directories are sent whole and pruned inside
//   fullSync: `rsync ATTRS -r --delete --force SRC/ DST/`; a large tree is split into runs side by side,
//             deletes still exact (full-sync-plan.ts, up to fullSyncProcs at once, for a local target no more than
//             the cores: partsAtOnce); with -H in ATTRS only
//             when the caller's scan says where the hard links are (hard-links.ts), and each inode's names
//             then go in one run. A verification (`serial`) is split only as its size needs, one part at a time.
//             It leaves out -A and -X, which cost rsync as much as the scan itself, where the source holds
//             no ACL or xattr: by the scan just before it (src/state/), or by its filesystems (bare-source.ts).
//
// The target's delete mode (src/sync/delete-mode.ts) takes deletes out where it keeps them: live batches
// then run with --ignore-missing-args and trees without --delete (a renamed directory's old name stays), a
// full sync without --delete, and directory renames are not replayed (sent the plain way, which keeps the
// old name). --force stays: a directory the source replaced by a file is replaced on the target too.
//
// The paths run of the next batch is started ahead (a standby): spawned and connected once a batch has ended,
// fed the next batch's list, so a change costs its transfer and not a process start and a session setup.
// Not beside a live batch: a host has one rsync at a time, so a storm's peak memory is one rsync and its ssh
// per host, not twice that (measured: 36 MiB of children instead of 64 for two hosts; a waiting standby of
// the other kind is ended before a run starts). One started beside a batch saved only the next batch its
// start, a small share of what a batch that gathered while another ran costs. A full sync starts the first
// once it has ended (beside it, it added to the peak); later ones only once the receiver has taken
// --delete-missing-args (a standby carries it). While a storm gathers (expectTrees), the standby is the
// trees run instead, whose crowded directories the storm's batch will likely send whole; the batch after
// it is back to a paths standby.
// A standby left unused for STANDBY_IDLE_MS is ended: it costs two local processes (about 14 MiB) and a
// session on the host, and without it the ssh master, too, closes after its ControlPersist (ssh-master.ts).
// The next change then pays a fresh rsync start (and an ssh handshake if the master has closed), and the
// standby behind it is started again.
//
// Names only ever travel NUL-separated on stdin; argv holds options, the source root and the target.
// ATTRS is `-aHAX` (+ `--numeric-ids` as root) unless `rsyncOptions` replaces it, and those are checked here
// too (src/safety/rsync-options.ts), whoever built them; the mechanism options above, excludes,
// --modify-window=-1, --timeout and the per-item output format are always added.
// A listed path is matched against the excludes by its own name only (rsync does not prune the parents of
// --files-from entries): callers must not list paths below an excluded directory.
//
// Whether deletes happened is read from rsync's own reports, not its exit status: a directory it would not
// remove (it holds excluded entries on the target) is counted in `kept` and named in the message.
// A receiver whose rsync rejects --delete-missing-args (rsync issue #910: "invalid file mode ... protocol
// incompatibility", exit 2; or too old to know it) is detected on first use; the batch is redone at once
// with deletes sent as a filter list (delete-filter.ts), checked afterwards with a dry-run listing of the
// target, and the target stays on that method.
//
// An rsync daemon target has no ssh master: each rsync opens its own session to the daemon (a standby holds
// one, logged in, waiting for its list), with the options of daemon-target.ts. Remote moves need a shell on
// the far side, which a daemon does not give: remoteMove() says no, and the move is sent as usual.
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { silentLogger, type Logger } from '../log/logger.js';
import type { ChildResult } from './child.js';
import { deleteRules } from './delete-filter.js';
import { diagnose, type FailureCause } from './failure.js';
import { classifyExit, classifySpawnError, worse, type Outcome } from './exit-codes.js';
import { addCounts, emptyCounts, type ItemCounts } from './itemize.js';
import { isPlainRelative, moveLocally, runRemoteMove } from './remote-move.js';
import { checkRsyncOptions } from '../safety/rsync-options.js';
import { sshEndpoint, tcpAnswers, tcpReply, type SshEndpoint } from './probe.js';
import { launchRsync, succeeded, type Launched, type Run } from './run.js';
import { SshMaster } from './ssh-master.js';
import { daemonOptions } from './daemon-target.js';
import { BIG_BATCH, runAsPass, type Pass, type ProgressTracker } from '../status/progress.js';
import { rsyncDestination, type Target } from './target.js';
import { planFullSync, type FullSyncPlan } from './full-sync-plan.js';
import type { LinkedNames } from './hard-links.js';
import { bareSource } from './bare-source.js';
import { fullSyncDeletes, liveDeletes, type DeleteMode, type FullSyncCause } from '../sync/delete-mode.js';

export type { Outcome } from './exit-codes.js';

export interface Batch {
  /** Paths relative to the source root: sent if they exist there, deleted on the target if not. */
  paths: Buffer[];
  /** Directories sent whole, recursively, with --delete inside; an empty Buffer is the whole root. */
  trees: Buffer[];
}

export interface TransferResult {
  outcome: Outcome;
  /** Exit status of the last rsync that ran (the first failing one), null when killed or not started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Items created or changed on the target, deletions not included. */
  files: number;
  deleted: number;
  /** Regular files whose data was sent. */
  sent: number;
  bytes: number;
  /** Directories rsync would not delete because they hold excluded (protected) entries on the target. */
  kept: number;
  durationMs: number;
  /** One line for logs. */
  message: string;
  stderrTail: string;
  /** rsync's or ssh's own first error line, when the run failed and they said one. */
  said?: string;
  /** A failure that lasts until it is fixed on the host (failure.ts). */
  cause?: FailureCause;
}

export interface TransportOptions {
  /** Source root directory. */
  source: string;
  target: Target;
  /** Replaces the default attribute flags (DEFAULT_RSYNC_OPTIONS); the mechanism flags are always added. */
  rsyncOptions?: readonly string[];
  /** rsync filter patterns, as --exclude. */
  excludes?: string[];
  /** rsync include patterns, as --include ahead of every exclude (first match wins). */
  includes?: string[];
  /** Which deletes reach this target; default always. */
  deletes?: DeleteMode;
  /** A file of more exclude rules, NUL-separated, that may change between runs (each run reads it as it starts). */
  excludeRulesFile?: () => string | undefined;
  /** I/O timeout for rsync, connect timeout and keep-alive budget for ssh; default 30. */
  timeoutSec?: number;
  /** rsyncs one full sync of a large tree may run at once (full-sync-plan.ts); default 4, 1 keeps it whole. */
  fullSyncProcs?: number;
  /** The cores a local target's full sync may use (see partsAtOnce); default os.availableParallelism(). */
  cores?: number;
  logger?: Logger;
  /** Where full syncs and large batches report how far they got (src/status/progress.ts). */
  progress?: ProgressTracker;
}

/** A pass of the caller's (a state record's scan before it, a startup difference), which the run reports into. */
export interface PassOption {
  pass?: Pass;
}

export interface FullSyncOptions extends PassOption {
  /** Under ionice/nice, for a verification that runs behind a startup difference (src/state/). */
  lowPriority?: boolean;
  /** Where the hard links are, from a scan taken just before: with -H, a large tree is split only with it. */
  links?: LinkedNames;
  /** The entries that scan counted: a large tree goes in more, smaller parts (full-sync-plan.ts). */
  entries?: number;
  /** A verification: split only as its size needs, the parts one after another (full-sync-plan.ts `serial`). */
  serial?: boolean;
  /** Called once its first rsync is spawned (its split made): work beside it starts then, not in the plan's way. */
  started?: () => void;
  /**
   * No entry holds an xattr or ACL, by a scan of the whole tree finished before this full sync and not
   * overtaken since by what the host queue may have dropped (src/state/recorder.ts): -A/-X are left out.
   */
  noXattrs?: boolean;
}

/** Nothing to keep together: without -H a split breaks no link. */
const NO_LINKS: LinkedNames = [];

/** rsyncs of one split full sync at once, per target: the cores of a small server, within sshd's MaxSessions (10). */
export const DEFAULT_FULL_SYNC_PROCS = 4;

/** What the classic mirror script keeps: links, perms, times, owner/group, devices, hard links, ACLs, xattrs. */
export const DEFAULT_RSYNC_OPTIONS: readonly string[] = ['-a', '-H', '-A', '-X', ...(process.getuid?.() === 0 ? ['--numeric-ids'] : [])];

// Not "protocol incompatibility" alone: a login shell that prints to stdout ends the same way.
// Recursion without incremental recursion: with -H, an incremental-recursion rsync whose source changes
// under it deadlocks now and then (all three processes wait in poll trading keep-alives, so --timeout never
// fires): seen in full syncs and tree runs alike under a live workload, never with --no-inc-recursive or
// without -H. The price is the whole file list in memory before the first file moves.
const RECURSE = ['-r', '--no-inc-recursive'] as const;

/** How long an unused standby waits before it is ended (measured: see the header). */
export const STANDBY_IDLE_MS = 10_000;

/** A probe's connect timeout: long enough for any working link's handshake, short enough to try again soon. */
const PROBE_TIMEOUT_MS = 1000;
/**
 * An ssh target's rsync that has read nothing this long has its host probed (child.ts): a host that gives
 * no reply ends it and its master, and the queue waits for the host's return. One that answers is asked
 * again only after as long a quiet again: a probe is a TCP connect, which sshd logs.
 */
const QUIET_MS = 3000;

export type DeleteMethod = 'missing-args' | 'filter-list';

const MISSING_ARGS: readonly string[] = ['--delete-missing-args'];
/** A target that keeps live deletes: a listed path gone from the source is skipped. */
const KEEP_MISSING: readonly string[] = ['--ignore-missing-args'];
/** The paths run's mechanism, deletes sent the given way. */
const pathsMechanism = (missingArgs: readonly string[]): string[] => ['--files-from=-', '--from0', '--force', ...missingArgs];
/** The paths run's mechanism, or the trees run's: recursive, with the deletes inside the trees. */
const mechanism = (trees: boolean, treeDeletes: readonly string[], missingArgs: readonly string[]): string[] =>
  (trees ? [...RECURSE, ...treeDeletes, ...pathsMechanism(missingArgs)] : pathsMechanism(missingArgs));

interface Direction { attrs: string[]; from: string; to: string }

export class Transport {
  readonly target: Target;
  private readonly source: string;
  private readonly attrs: string[];
  private readonly filters: string[];
  private readonly excludeRulesFile: () => string | undefined;
  private readonly deletes: DeleteMode | undefined;
  /** How the paths run treats a listed path gone from the source: MISSING_ARGS, or KEEP_MISSING. */
  private readonly pathsArgs: readonly string[];
  /** Whether tree runs delete inside the trees. */
  private readonly treeDeletes: string[];
  private readonly timeoutSec: number;
  private readonly fullSyncProcs: number;
  private readonly cores: number;
  /** -H: a full sync is split only when the hard links are known, each inode's names in one run. */
  readonly keepsHardLinks: boolean;
  /** `--no-A`, `--no-X` for those of -A, -X the options have: what a full sync of a bare source leaves out. */
  private readonly aclXattrOff: string[];
  private readonly logger: Logger;
  private readonly progress: ProgressTracker | undefined;
  private readonly master: SshMaster | undefined;
  /** A daemon target's --password-file and --contimeout, fixed with the target, timeout and options. */
  private readonly daemonArgs: readonly string[];
  private readonly stopping = new AbortController();
  private deleteMethod: DeleteMethod = 'missing-args';
  private standby: Launched | undefined;
  /** The standby waits with the trees run's options (expectTrees), not the paths run's. */
  private standbyTrees = false;
  /** A storm gathers (expectTrees): the next standby is a trees run, until a batch takes it. */
  private treesNext = false;
  /** rsyncs started so far: whether any began while a replaced standby was ending (expectTrees). */
  private launches = 0;
  /** A standby to be started after this turn of the loop (prepareStandby). */
  private standbySoon: NodeJS.Immediate | undefined;
  /** Ends an unused standby: one shot, armed when a standby is started, so nothing ticks while idle. */
  private standbyIdle: NodeJS.Timeout | undefined;
  /** Where ssh connects (probe.ts), looked up once; undefined inside when it goes through a proxy. */
  private endpoint: Promise<SshEndpoint | undefined> | undefined;
  /** The receiver took --delete-missing-args once: standbys (which carry it) may be started ahead. */
  private missingArgsWork = false;
  /** The pass of the batch being sent, when it is large (see transfer()): its runs report into it. */
  private batchPass: Pass | undefined;

  constructor(opts: TransportOptions) {
    this.source = resolve(opts.source);
    this.target = opts.target;
    this.timeoutSec = opts.timeoutSec ?? 30;
    this.logger = (opts.logger ?? silentLogger).child({ target: opts.target.spec });
    this.progress = opts.progress;
    this.attrs = [...(opts.rsyncOptions === undefined ? DEFAULT_RSYNC_OPTIONS : checkRsyncOptions(opts.rsyncOptions, 'the rsync options'))];
    this.excludeRulesFile = opts.excludeRulesFile ?? (() => undefined);
    this.filters = [
      ...(opts.includes ?? []).map((p) => `--include=${p}`),
      ...(opts.excludes ?? []).map((p) => `--exclude=${p}`),
    ];
    this.deletes = opts.deletes;
    this.fullSyncProcs = opts.fullSyncProcs ?? DEFAULT_FULL_SYNC_PROCS;
    this.cores = opts.cores ?? availableParallelism();
    this.keepsHardLinks = hasFlag(this.attrs, 'H', '--hard-links');
    this.aclXattrOff = [...(hasFlag(this.attrs, 'A', '--acls') ? ['--no-A'] : []), ...(hasFlag(this.attrs, 'X', '--xattrs') ? ['--no-X'] : [])];
    this.pathsArgs = liveDeletes(opts.deletes) ? MISSING_ARGS : KEEP_MISSING;
    this.treeDeletes = liveDeletes(opts.deletes) ? ['--delete'] : [];
    this.master = opts.target.kind === 'ssh' ? new SshMaster(opts.target, { timeoutSec: this.timeoutSec, logger: this.logger }) : undefined;
    this.daemonArgs = daemonOptions(opts.target, this.timeoutSec, this.attrs);
  }

  /** Which way deletes are sent to this target; 'filter-list' once its rsync rejected --delete-missing-args. */
  get deleteMode(): DeleteMethod {
    return this.deleteMethod;
  }

  /** Brings the ssh master up (no-op for local targets). A host that is down is a retry, not an error. */
  async start(): Promise<TransferResult> {
    const started = performance.now();
    return (await this.connect(started)) ?? this.result('ok', started, emptyCounts(), 0, null, 'connected');
  }

  /** `rsync -a --delete SRC/ DST/` with the excludes: the startup and recovery sync (--delete as the mode says). */
  async fullSync(signal?: AbortSignal, causes: readonly FullSyncCause[] = ['start'], options: FullSyncOptions = {}): Promise<TransferResult> {
    const started = performance.now();
    const down = await this.connect(started);
    if (down) return down;
    const pass = options.pass ?? this.progress?.begin(options.lowPriority === true ? 'verification' : 'full sync', 'sending');
    const common = [...this.attrsNotHeld(options.noXattrs === true), ...(fullSyncDeletes(this.deletes, causes) ? ['--delete'] : [])];
    const links = this.keepsHardLinks ? options.links : NO_LINKS;
    const atOnce = this.partsAtOnce();
    // One core left to a local target: parts only as its size needs, one after another (a verification's way).
    const serial = options.serial === true || (atOnce === 1 && this.fullSyncProcs > 1);
    const plan = links === undefined ? undefined : await planFullSync(this.source, { procs: atOnce, filtered: this.filtered(), links, serial, ...(options.entries === undefined ? {} : { entries: options.entries }) });
    if (plan !== undefined) this.logger.debug({ parts: plan.parts.length, atOnce: serial ? 1 : atOnce, shallow: plan.shallow.length, linkedInodes: links?.length }, 'full sync split into parts');
    const runs = plan === undefined ? this.rsync([...RECURSE, ...common, '--force'], undefined, signal, undefined, options.lowPriority, pass).then((run) => [run]) : this.runParts(plan, common, serial ? 1 : atOnce, signal, options.lowPriority, pass);
    options.started?.();
    try {
      return await runAsPass(options.pass === undefined ? pass : undefined, async () => this.finish(started, await runs));
    } finally {
      // Ahead of any proof that the receiver takes --delete-missing-args: the first change after startup then
      // costs its transfer alone, and a receiver that rejects the flag does so once, in this standby. Once the
      // full sync has ended, not beside it: its two processes (about 11 MiB) added to the full sync's peak,
      // and it ended unused anyway when the full sync took longer than STANDBY_IDLE_MS.
      this.prepareStandby(true);
    }
  }

  /**
   * A split full sync (full-sync-plan.ts): the shallow run, then the parts, `procs` at a time. Side by side
   * they report into the pass by their item lines alone, without rsync's --info=progress2: that adds a line
   * for every file sent (200k files: 420k lines, 22.6 MB on the agent's stdin pipes instead of 200k), and
   * what it tells a pass of several runs (entries only checked between two sent files; its file list's size
   * is one run's, not the pass's) is little where nearly every entry is sent anyway. One part at a time (a
   * verification, which has little to send) keeps it: there it costs next to nothing and is the count.
   */
  private async runParts(plan: FullSyncPlan, common: string[], procs: number, signal?: AbortSignal, lowPriority = false, pass?: Pass): Promise<Run[]> {
    const progress = pass !== undefined && procs === 1;
    const shallow = await this.rsync(['--no-recursive', '-d', ...common, '--force', '--files-from=-', '--from0'], Buffer.concat(plan.shallow.flatMap((dir) => [dir, NUL])), signal, undefined, lowPriority, pass, progress);
    if (!succeeded(shallow)) return [shallow];
    const runs: Run[] = [shallow];
    const waiting = [...plan.parts];
    const worker = async (): Promise<void> => {
      for (let part = waiting.shift(); part !== undefined; part = waiting.shift()) {
        const run = await this.rsync([...RECURSE, ...common, '--force', '--files-from=-', '--from0', '--ignore-missing-args'], nulList(part), signal, undefined, lowPriority, pass, progress);
        runs.push(run);
        if (!succeeded(run)) waiting.length = 0; // the result is that failure: the rest would be redone anyway
      }
    };
    await Promise.all(Array.from({ length: Math.min(procs, plan.parts.length) }, worker));
    // The first failure (finish() stops at it) is what the result reports.
    return [...runs.filter(succeeded), ...runs.filter((run) => !succeeded(run))];
  }

  /**
   * rsyncs of a split full sync side by side: --full-sync-procs, and for a local target no more than the
   * cores. Each local run is three processes on this machine (sender, generator, receiver), which keep about
   * one and a half cores busy; more runs than cores only take turns on them, each holding its file list and
   * program (about 17 MiB a run). Measured, 200k files on 2 cores (loaded by other work, so CPU and RSS, not
   * wall time): 4 runs at once 21.4-24.5 s of CPU for the process tree and a peak of 146-150 MiB, 2 runs
   * 19.2-22.3 s and 115-121 MiB. An ssh or daemon target receives on its own cores, and its runs also wait on
   * the network: there --full-sync-procs alone decides.
   */
  private partsAtOnce(): number {
    return this.target.kind === 'local' ? Math.min(this.fullSyncProcs, Math.max(1, this.cores)) : this.fullSyncProcs;
  }

  /**
   * `--no-A`/`--no-X` when the source holds no ACL or xattr (bare-source.ts says what that gives up): by the
   * scan before this full sync (`scanned`), else by its filesystems, looked at for every full sync (a mount
   * may come or go between two). Logged for every full sync that could leave them out.
   */
  private attrsNotHeld(scanned: boolean): string[] {
    if (this.aclXattrOff.length === 0) return [];
    const off = this.aclXattrOff.join(' ');
    if (scanned) {
      this.logger.info(`the scan before this full sync found no ACL or xattr on the source: it runs with ${off}`);
      return this.aclXattrOff;
    }
    const { bare, types } = bareSource(this.source);
    this.logger.info({ filesystems: types }, bare ? `the source's filesystems hold no ACLs or xattrs: this full sync runs with ${off}` : 'the source may hold ACLs or xattrs: this full sync keeps -A/-X');
    return bare ? this.aclXattrOff : [];
  }

  /** Whether any filter applies to the full sync: then only the root may be split (full-sync-plan.ts). */
  private filtered(): boolean {
    return this.filters.length > 0 || this.excludeRulesFile() !== undefined;
  }

  async transfer(batch: Batch, signal?: AbortSignal, options: PassOption = {}): Promise<TransferResult> {
    const started = performance.now();
    if (batch.paths.length === 0 && batch.trees.length === 0) return this.result('ok', started, emptyCounts(), 0, null, 'nothing to send');
    // A live change's batch is never tracked: only one large enough to take a while (src/status/progress.ts).
    const marks = batch.paths.length + batch.trees.length;
    const pass = options.pass ?? (marks >= BIG_BATCH ? this.progress?.begin('batch', 'sending', { count: marks, from: 'marks' }) : undefined);
    if (pass === undefined) return this.sendBatch(batch, started, signal);
    this.batchPass = pass;
    return runAsPass(options.pass === undefined ? pass : undefined, () => this.sendBatch(batch, started, signal)).finally(() => { this.batchPass = undefined; });
  }

  private async sendBatch(batch: Batch, started: number, signal?: AbortSignal): Promise<TransferResult> {
    // A waiting standby rides on a live connection (it dies with it): no need to check the master first.
    const down = this.standby?.prepared.waiting ? undefined : await this.connect(started);
    if (down) return down;
    if (this.deleteMethod === 'missing-args') {
      const runs = await this.sendLists(batch, this.pathsArgs, signal);
      if (!runs.some((r) => r.rejectedDeletes)) {
        if (!this.missingArgsWork && runs.some(succeeded)) {
          this.missingArgsWork = true;
          this.prepareStandby();
        }
        return this.finish(started, runs);
      }
      this.deleteMethod = 'filter-list';
      this.logger.warn({ stderr: runs.find((r) => r.rejectedDeletes)?.child.stderrTail }, 'the receiving rsync rejects --delete-missing-args; sending deletes to this target as a filter list from now on');
    }
    return this.finish(started, await this.transferWithFilterDeletes(batch, signal));
  }

  /**
   * Renames `from` to `to` (relative paths) on the target, for a directory renamed inside the source tree.
   * False when it cannot be done (source missing on the target, destination already there, connection
   * trouble): the caller then sends `to` as a tree and deletes `from` as usual. After true, sending `to` as
   * a tree confirms the result and costs no file data.
   */
  async remoteMove(from: Buffer, to: Buffer): Promise<boolean> {
    // A replayed move removes the old name, which this target keeps: sent the plain way, it stays.
    if (!liveDeletes(this.deletes)) return false;
    if (!isPlainRelative(from) || !isPlainRelative(to)) return false;
    if (this.target.kind === 'local') return moveLocally(this.target.path, from, to);
    if (this.target.kind === 'daemon') return false;
    if (!(await this.master!.ensure()).ok) return false;
    const moved = await runRemoteMove(this.master!, this.target.path, from, to, this.timeoutSec, this.stopping.signal);
    this.logger.debug({ from: from.toString('latin1'), to: to.toString('latin1'), moved }, 'remote move');
    return moved;
  }

  /**
   * A cheap check of whether the host answers (a TCP connect to its ssh port, see probe.ts), for a queue
   * that waits for the host's return; undefined when none can be made (a local target, an ssh proxy).
   */
  async reachability(): Promise<(() => Promise<boolean>) | undefined> {
    const endpoint = await this.probedEndpoint();
    return endpoint === undefined ? undefined : () => tcpAnswers(endpoint, this.probeTimeoutMs);
  }

  /** Where an ssh target's probes go (looked up once), or undefined when none can be made. */
  private probedEndpoint(): Promise<SshEndpoint | undefined> {
    const master = this.master;
    if (master === undefined) return Promise.resolve(undefined);
    this.endpoint ??= sshEndpoint(master.clientOptions(), master.target.host);
    return this.endpoint;
  }

  private get probeTimeoutMs(): number {
    return Math.min(PROBE_TIMEOUT_MS, this.timeoutSec * 1000);
  }

  /** Kills running children, closes the ssh master and removes its control directory. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.standbyIdle);
    this.cancelStandby();
    void this.standby?.prepared.discard();
    await this.master?.stop();
  }

  /**
   * Undefined when the target can be reached (ssh master up), else the result that says why not. A master
   * to (re)start is preceded by a probe: a black-holed host would hold ssh's connect for ConnectTimeout (the
   * whole --timeout), and one restored meanwhile would be reached only at the kernel's next SYN retry,
   * seconds later; a probe that goes unanswered makes it a failure at once, and the queue then waits for
   * the host's return with probes that see it within their interval.
   */
  private async connect(started: number): Promise<TransferResult | undefined> {
    if (this.stopping.signal.aborted) return this.result('retry', started, emptyCounts(), 0, null, 'the transport is stopped');
    // A master that answers on its socket is all a batch needs: no second look at the socket.
    if (this.master === undefined || (await this.master.isUp())) return undefined;
    // A host that refuses is left to ssh, which says so at once in its own words.
    if (await this.silent()) {
      return this.result('retry', started, emptyCounts(), 0, null, `ssh: connect to ${this.master.target.host}: no answer within ${PROBE_TIMEOUT_MS} ms, twice (host unreachable, or its packets dropped)`, 255);
    }
    const state = await this.master.ensure();
    return state.ok ? undefined : withDiagnosis(this.result('retry', started, emptyCounts(), 0, null, state.message, 255), state.message);
  }

  /** True when the host's ssh port gets no reply at all, twice asked (one lost SYN is not an outage); false when it cannot be probed. */
  private async silent(): Promise<boolean> {
    const endpoint = await this.probedEndpoint();
    return endpoint !== undefined && (await tcpReply(endpoint, this.probeTimeoutMs)) === 'silent' && (await tcpReply(endpoint, this.probeTimeoutMs)) === 'silent';
  }

  /** The paths run, then the trees run (each only when it has something to do); stops at the first failure. */
  private async sendLists(batch: Batch, missingArgs: readonly string[], signal?: AbortSignal): Promise<Run[]> {
    const runs: Run[] = [];
    this.treesNext = false;
    if (batch.paths.length > 0) runs.push(await this.runList(false, batch.paths, missingArgs, signal));
    if (batch.trees.length > 0 && runs.every(succeeded)) runs.push(await this.runList(true, batch.trees, missingArgs, signal));
    // The next batch's rsync: it connects while this batch's results are taken and the next one gathers.
    this.prepareStandby();
    return runs;
  }

  /** The paths run or the trees run of a batch, on the standby when it waits with that run's options. */
  private async runList(trees: boolean, paths: Buffer[], missingArgs: readonly string[], signal?: AbortSignal): Promise<Run> {
    const list = nulList(paths);
    const fresh = (): Launched => this.launch(mechanism(trees, this.treeDeletes, missingArgs), undefined, false, trees && this.batchPass !== undefined);
    const standby = this.takeStandby(missingArgs, trees);
    // One rsync per host at a time: a standby of the other kind has exited before a fresh one starts.
    const launched = standby ?? (await this.endStandby(), fresh());
    this.batchPass?.watch(launched.live);
    let run = await launched.complete(list, signal);
    // A standby may have died with its connection a moment before it was fed (its end not yet seen): that
    // is no verdict on the batch, which gets one fresh rsync at once. A rejected flag is one, though, and so
    // is a connection that died (the master is gone): a fresh ssh would hang on a black-holed host.
    if (standby && !succeeded(run) && !run.rejectedDeletes && !signal?.aborted && !this.stopping.signal.aborted && (await this.master?.isUp() ?? true)) {
      run = await fresh().complete(list, signal);
    }
    return run;
  }

  /** Sends what exists with --ignore-missing-args, and deletes what does not with a filter-list run. */
  private async transferWithFilterDeletes(batch: Batch, signal?: AbortSignal): Promise<Run[]> {
    const missing: Buffer[] = [];
    const present: Batch = { paths: [], trees: [] };
    for (const key of ['paths', 'trees'] as const) {
      for (const path of batch[key]) {
        if (await existsOnSource(this.source, path)) present[key].push(path);
        else missing.push(path);
      }
    }
    const runs = await this.sendLists(present, ['--ignore-missing-args'], signal);
    if (missing.length === 0 || !runs.every(succeeded)) return runs;
    const deleting = await this.rsync([...RECURSE, '--delete', '--force', '--from0', '--include-from=-', '--exclude=*'], deleteRules(missing), signal);
    runs.push(deleting);
    if (succeeded(deleting) && deleting.kept === 0) runs.push(await this.verifyGone(missing, signal));
    return runs;
  }

  /**
   * The filter-list rules are ours, so their effect is checked, not assumed: a dry run pulling the deleted
   * paths from the target into an empty directory lists whichever of them are still there.
   */
  private async verifyGone(paths: Buffer[], signal?: AbortSignal): Promise<Run> {
    const empty = await mkdtemp(join(tmpdir(), 'inosync-verify-'));
    try {
      const run = await this.rsync(['-n', '-dlD', '--no-implied-dirs', '--files-from=-', '--from0', '--ignore-missing-args'], nulList(paths), signal, { attrs: [], from: rsyncDestination(this.target), to: `${empty}/` });
      const left = run.counts.changed;
      run.counts = emptyCounts();
      if (succeeded(run) && left > 0) run.problem = { outcome: 'retry', meaning: `${left} deleted path${left === 1 ? ' is' : 's are'} still on the target after the filter-list delete` };
      return run;
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }

  /** One rsync, fed `stdin`; with a `pass`, it reports its progress into it (by default with --info=progress2 too). */
  private rsync(mechanism: string[], stdin: Buffer | undefined, signal?: AbortSignal, direction?: Direction, lowPriority = false, pass?: Pass, progress = pass !== undefined): Promise<Run> {
    const launched = this.launch(mechanism, direction, lowPriority, progress);
    pass?.watch(launched.live);
    return launched.complete(stdin ?? Buffer.alloc(0), signal);
  }

  /** Spawns an rsync that waits for its stdin; complete() feeds it and reads what it did. */
  private launch(mechanism: string[], direction?: Direction, lowPriority = false, progress = false): Launched {
    this.launches += 1;
    return launchRsync({
      lowPriority,
      progress,
      attrs: direction?.attrs ?? this.attrs,
      // The ssh command names the control socket, whose directory the master creates when it first starts.
      shell: this.master === undefined ? this.daemonArgs : ['-e', this.master.rsyncShell()],
      filters: this.currentFilters(),
      mechanism,
      from: direction?.from ?? `${this.source}/`,
      to: direction?.to ?? rsyncDestination(this.target),
      timeoutSec: this.timeoutSec,
      where: this.target.kind === 'local' ? 'the target' : this.target.host,
      logger: this.logger,
      stopping: this.stopping.signal,
      ...(this.master ? { silence: { afterMs: QUIET_MS, answers: () => this.stillAnswers() } } : {}),
    });
  }

  /** For a quiet rsync: false when the host gives no reply, and then its master (riding a dead connection) is closed first. */
  private async stillAnswers(): Promise<boolean> {
    if (!(await this.silent())) return true;
    this.logger.warn('the host stopped answering in the middle of an rsync: ending it and the ssh connection');
    await this.master?.drop();
    return false;
  }

  /** The excludes, and the rules file's when there is one (NUL-separated: --from0, which the lists use too). */
  private currentFilters(): string[] {
    const rules = this.excludeRulesFile();
    // First: rsync's first matching rule wins, and no include of a user's may re-admit a skipped subtree.
    return rules === undefined ? this.filters : ['--from0', `--exclude-from=${rules}`, ...this.filters];
  }

  /**
   * The next batch's paths run, started now: spawned and connected, waiting for its list, so that a change
   * costs its transfer alone, not a process start and a session setup (about 16 ms of a 20 ms round trip to
   * a loopback host). An idle rsync waits on stdin without timing out; it dies with the ssh connection.
   */
  private prepareStandby(beforeProof = false): void {
    // After this turn of the loop: spawning takes milliseconds, which the other hosts' batches must not wait for.
    // A batch that starts first cancels it (cancelStandby): it would run beside that batch.
    clearImmediate(this.standbySoon);
    this.standbySoon = setImmediate(() => {
      this.standbySoon = undefined;
      if (this.standby?.prepared.waiting || !(this.missingArgsWork || beforeProof) || this.deleteMethod !== 'missing-args' || this.stopping.signal.aborted) return;
      const standby = this.launch(mechanism(this.treesNext, this.treeDeletes, this.pathsArgs));
      this.standby = standby;
      this.standbyTrees = this.treesNext;
      clearTimeout(this.standbyIdle);
      this.standbyIdle = setTimeout(() => {
        if (this.standby !== standby) return;
        this.standby = undefined;
        void standby.prepared.discard();
      }, STANDBY_IDLE_MS);
      this.standbyIdle.unref();
    });
  }

  /**
   * The standby, when it carries these delete arguments and is of this kind (a trees run or not), even one
   * that has ended unfed: its end is then the verdict (a rejected flag), or the reason for one fresh rsync
   * (see runList). Any other is left for endStandby.
   */
  private takeStandby(missingArgs: readonly string[], trees: boolean): Launched | undefined {
    const standby = this.standby;
    if (missingArgs !== this.pathsArgs || !standby || this.standbyTrees !== trees) return undefined;
    this.standby = undefined;
    this.cancelStandby();
    return standby;
  }

  /**
   * A storm gathers whose directories will likely go whole: the standby waits with the trees run's options
   * from now on, so that the storm's one run is not a process start and a session setup after its last write
   * (about 0.1 s of a 10,000-file storm's 1.4 s on a tmpfs). A waiting paths standby is replaced at once (it
   * waits, so no run is under way; it was allowed, so its replacement is); with none waiting, one is started
   * now when `idle`, else after the run under way, as every standby is.
   */
  expectTrees(idle: boolean): void {
    this.treesNext = true;
    if (this.standby === undefined) {
      if (idle) this.prepareStandby();
      return;
    }
    if (this.standbyTrees) return;
    const launches = this.launches;
    // Not if a run began meanwhile: a standby is never started beside one (it comes after it instead).
    void this.endStandby().then(() => { if (this.launches === launches) this.prepareStandby(true); });
  }

  /** Ends the standby, if one waits (or is about to be started); resolves once it has exited. */
  private async endStandby(): Promise<void> {
    const standby = this.standby;
    this.standby = undefined;
    this.cancelStandby();
    await standby?.prepared.discard();
  }

  /** A standby not started yet never will be: a batch that runs now would have it beside it. */
  private cancelStandby(): void {
    clearImmediate(this.standbySoon);
    this.standbySoon = undefined;
  }

  private finish(started: number, runs: Run[]): TransferResult {
    const counts = emptyCounts();
    let outcome: Outcome = 'ok';
    let kept = 0;
    let last: Run | undefined;
    const reasons: string[] = [];
    for (const run of runs) {
      addCounts(counts, run.counts);
      kept += run.kept;
      last = run;
      const meaning = run.child.spawnError !== undefined
        ? classifySpawnError(run.child.spawnError)
        : run.problem ?? classifyExit(run.child.exitCode, run.child.signal);
      if (run.child.killed === 'silent') reasons.push('rsync killed: the host stopped answering (unreachable)');
      else if (run.child.killed !== undefined) reasons.push(`rsync ${run.child.killed === 'aborted' ? 'was stopped' : `${run.child.killed}, killed`}`);
      if (meaning.outcome !== 'ok' || run.child.exitCode !== 0) reasons.push(meaning.meaning);
      outcome = worse(outcome, meaning.outcome);
      if (meaning.outcome !== 'ok') break;
    }
    if (kept > 0) reasons.push(`${kept} deleted director${kept === 1 ? 'y' : 'ies'} kept on the target: they hold excluded entries`);
    const summary = `${counts.changed} changed, ${counts.deleted} deleted, ${counts.sent} files sent`;
    const message = reasons.length === 0 ? summary : `${summary}; ${reasons.join('; ')}`;
    // A run ended because its host went silent failed the way a lost ssh connection does (255): the queue waits for the host's return.
    const silent = runs.some((run) => run.child.killed === 'silent');
    const result = this.result(outcome, started, counts, kept, last?.child ?? null, message, silent ? 255 : last?.child.exitCode ?? null);
    if (outcome !== 'ok') withDiagnosis(result, result.stderrTail);
    if (outcome === 'fatal') this.logger.error({ exitCode: result.exitCode, stderr: result.stderrTail, args: last?.args }, `rsync to ${this.target.spec} failed and will fail the same way again: ${message}`);
    return result;
  }

  private result(outcome: Outcome, started: number, counts: ItemCounts, kept: number, child: ChildResult | null, message: string, exitCode: number | null = child?.exitCode ?? null): TransferResult {
    return {
      outcome,
      exitCode,
      signal: child?.signal ?? null,
      files: counts.changed,
      deleted: counts.deleted,
      sent: counts.sent,
      bytes: counts.bytes,
      kept,
      durationMs: performance.now() - started,
      message,
      stderrTail: child?.stderrTail ?? '',
    };
  }
}

/** Adds the tools' own first error line and the lasting cause it names to a failed result's message. */
function withDiagnosis(result: TransferResult, said: string): TransferResult {
  const diagnosis = diagnose(said);
  if (diagnosis.said !== '' && !result.message.includes(diagnosis.said)) result.message = `${result.message}: ${diagnosis.said}`;
  if (diagnosis.said !== '') result.said = diagnosis.said;
  if (diagnosis.cause !== undefined) result.cause = diagnosis.cause;
  return result;
}

/** Whether rsync options `attrs` set the flag `short` (alone or in a bundle, as -aHAX) or its long form. */
function hasFlag(attrs: readonly string[], short: string, long: string): boolean {
  return attrs.some((arg) => arg === long || (/^-[^-]/.test(arg) && arg.includes(short)));
}

/**
 * The --files-from list: relative paths, NUL-terminated; the root is '.'. Written into one Buffer sized
 * first: a storm's list of 10,000 paths made an array of 20,000 parts and a view per path to concat.
 */
function nulList(paths: Buffer[]): Buffer {
  let size = 0;
  for (const path of paths) {
    const [start, end] = trimmedBounds(path);
    size += Math.max(1, end - start) + 1;
  }
  const list = Buffer.allocUnsafe(size);
  let at = 0;
  for (const path of paths) {
    const [start, end] = trimmedBounds(path);
    at = end > start ? at + path.copy(list, at, start, end) : list.writeUInt8(DOT_BYTE, at);
    at = list.writeUInt8(0, at);
  }
  return list;
}

const DOT_BYTE = 0x2e;

const NUL = Buffer.from([0]);

/** 'a/b/' would mean "the contents of a/b" to rsync, '/a' nothing relative: neither is what a path means here. */
function trimSlashes(path: Buffer): Buffer {
  const [start, end] = trimmedBounds(path);
  return path.subarray(start, end);
}

/** Where `path` starts and ends without its leading and trailing slashes (see trimSlashes). */
function trimmedBounds(path: Buffer): [number, number] {
  let start = 0;
  let end = path.length;
  while (start < end && path[start] === 0x2f) start++;
  while (end > start && path[end - 1] === 0x2f) end--;
  return [start, end];
}

async function existsOnSource(source: string, path: Buffer): Promise<boolean> {
  try {
    await lstat(Buffer.concat([Buffer.from(`${source}/`), trimSlashes(path)]));
    return true;
  } catch {
    return false;
  }
}
