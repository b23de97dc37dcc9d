// One target's queue: what it still needs (a set of marks, pending remote moves, or a whole full sync), at
// most one rsync to it at a time (so a delete is never overtaken by an older create), retries with backoff,
// and a bound on its backlog past which it forgets the details and does one full sync instead. Each host
// has its own queue, so a slow or dead host holds back nobody else; a shared limiter bounds the rsyncs
// running at once across all of them.
//
// Order of a host's work: a full sync owed goes first and replaces everything else; then the queued remote
// moves, in the order they happened, then the marks, as one batch. One exception: the verification that
// follows a startup difference (start(first), src/state/) runs beside the batches, not ahead of them, so that
// live changes are not held for as long as a full pass of a large tree takes. It may then write an older
// copy over what a batch sent meanwhile, or delete what a batch created: everything sent while it runs is
// sent again once it has ended. Renames are not replayed while it runs (sent the plain way instead). A move is replayed ahead of the marks
// only when none of them is on a directory above its old or new name (the root included): those are
// changes the target has not had yet (a symlink turned directory, a directory deleted), and the move must
// not be resolved through the target's stale copy of them. Such a move is sent the plain way instead (the
// old name deleted, the new one sent whole, after those marks as part of the same batch).
import { EventEmitter } from 'node:events';
import type PQueue from 'p-queue';
import type { Logger } from '../log/logger.js';
import type { FailureCause } from '../rsync/failure.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { FullSyncCause } from './delete-mode.js';
import { PathSet } from './path-set.js';
import { awaitReturn, type Probe } from './reachability.js';

/** What one rsync run reported (the rsync transport's result, as far as the queue cares). */
export interface BatchResult {
  outcome: 'ok' | 'retry' | 'fatal';
  exitCode: number | null;
  /** Entries sent (created or updated) on the target. */
  files: number;
  /** Entries deleted on the target. */
  deleted: number;
  /** Regular files whose data was sent, when the transport counts them. */
  sent?: number;
  /** Bytes of file data sent, when the transport counts them. */
  bytes?: number;
  durationMs: number;
  message: string;
  /** rsync's or ssh's own first error line, for a failure. */
  said?: string;
  /** A failure that lasts until it is fixed on the host: retried slowly (see src/rsync/failure.ts). */
  cause?: FailureCause;
}

/** The part of the rsync transport a host queue drives. */
export interface TransferPort {
  /** The causes tell which deletes the full sync may make (delete-mode.ts). */
  fullSync(signal: AbortSignal, causes: readonly FullSyncCause[]): Promise<BatchResult>;
  transfer(batch: { paths: Buffer[]; trees: Buffer[] }, signal: AbortSignal): Promise<BatchResult>;
  /** Renames `from` to `to` on the target; false when it could not (the caller then sends instead). */
  remoteMove(from: Buffer, to: Buffer): Promise<boolean>;
  /** A cheap check that the host answers, to retry the moment an unreachable host is back (reachability.ts). */
  reachability?(): Promise<Probe | undefined>;
  /**
   * The next batch will likely send directories whole: a transport that starts its runs ahead may start
   * that one; now when `idle` (no run of this host's under way), else once the run under way has ended.
   */
  expectTrees?(idle: boolean): void;
}

export type HostState = 'syncing' | 'idle' | 'retrying' | 'down' | 'stopped';

/** What the queue emits after each rsync run (event 'batch'). */
export interface BatchReport {
  host: string;
  kind: 'full' | 'batch';
  /** Marks in the batch (0 for a full sync). */
  marks: number;
  /** The batch's paths (undefined for a full sync): for hooks that want to know what was sent. */
  set: PathSet | undefined;
  result: BatchResult;
}

export interface HostSnapshot {
  host: string;
  state: HostState;
  /** Marks waiting (paths or trees to send), plus pending remote moves. */
  pending: number;
  /** A full sync is owed or running (startup, forced, a backlog that outgrew its bound, a verification). */
  fullSyncPending: boolean;
  /** The batch running now, if any. */
  inFlight: { kind: 'full' | 'batch'; marks: number; startedAt: number } | null;
  lastSuccessAt: number | null;
  /** Age (ms) of the oldest change the target does not have yet; 0 when it is in line. */
  lagMs: number;
  /** Failures in a row (0 after a success). */
  consecutiveFailures: number;
  lastError: string | null;
  /** What the last failure was, with the fix, when it is one that lasts until fixed (failure.ts). */
  lastCause: FailureCause | null;
  nextRetryAt: number | null;
  counters: HostCounters;
}

export interface HostCounters {
  batches: number;
  fullSyncs: number;
  files: number;
  deleted: number;
  bytes: number;
  failures: number;
  remoteMoves: number;
  remoteMoveFallbacks: number;
  /** Times the backlog outgrew its bound and collapsed into a full sync. */
  collapses: number;
}

export interface HostQueueOptions {
  /** The target as the user wrote it: used in logs, status and events. */
  name: string;
  transport: TransferPort;
  /** Shared by every host: bounds rsyncs running at once. */
  limiter: PQueue;
  backoff: BackoffOptions;
  /** Marks (plus moves) past which the backlog becomes one full sync. */
  maxPending: number;
  /** False: no full sync at start (the target is known to be current); default true. */
  initialSync?: boolean;
  /**
   * Regroups a backlog that built up over several releases (while a batch ran, or the host failed) the way
   * one release is grouped: each release of a storm holds a part of a directory's new files, the backlog
   * nearly all of them, and rsync walks a directory sent whole faster than it looks up thousands of listed
   * names (rsync 3.5 reads a --files-from list a byte at a time, and walks each listed name's parents).
   */
  regroup?: (marks: PathSet) => void;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

interface Move {
  from: Buffer;
  to: Buffer;
}

interface InFlight {
  kind: 'full' | 'batch';
  marks: PathSet | undefined;
  startedAt: number;
  /** When the oldest change it carries arrived. */
  since: number;
  controller: AbortController;
}

// Exit statuses that mean the host (or the way to it) is not there, as opposed to a batch that went wrong.
const UNREACHABLE = new Set([5, 10, 12, 30, 35, 255]);

export class HostQueue extends EventEmitter<{ batch: [BatchReport]; state: [string, HostState] }> {
  readonly name: string;
  private pending = new PathSet();
  private moves: Move[] = [];
  /** The first sync of a host is a full one: it may hold anything. */
  private full: boolean;
  /** Why the full sync is owed. */
  private fullCauses = new Set<FullSyncCause>();
  /** A verification is owed once the batch ahead of it has run (a startup difference, see start()). */
  private verifyAfterBatch = false;
  /** The verification running beside the batches (see the header), and what they sent meanwhile. */
  private verification: InFlight | undefined;
  private resend = new PathSet();
  /** When the oldest change not yet taken into a batch arrived (0: none). */
  private pendingSince = 0;
  /** Releases merged into `pending` since a batch last took it (see regroup). */
  private releases = 0;
  private inFlight: InFlight | undefined;
  private queued = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt: number | null = null;
  private failures = 0;
  private lastFailureUnreachable = false;
  private lastError: string | null = null;
  private lastCause: FailureCause | null = null;
  /** Set while an unreachable host is probed for its return (state 'down'). */
  private probing: AbortController | undefined;
  private lastSuccessAt: number | null = null;
  private stopped = false;
  private lastState: HostState | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly counters: HostCounters = {
    batches: 0, fullSyncs: 0, files: 0, deleted: 0, bytes: 0, failures: 0, remoteMoves: 0, remoteMoveFallbacks: 0, collapses: 0,
  };
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: HostQueueOptions) {
    super();
    this.name = options.name;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.pendingSince = this.now();
    this.full = options.initialSync ?? true;
    if (this.full) this.fullCauses.add('start');
  }

  /**
   * Starts the first (full) sync; with `first`, what the target is known to lack (its state record's
   * difference, src/state/) goes as one batch ahead of it, and the full sync runs beside later batches as a
   * verification (see the header).
   */
  start(first?: PathSet): void {
    if (first !== undefined && first.size > 0) {
      // Without an initial sync (initialSync: false) the difference still goes; no verification follows it.
      if (this.full) {
        this.full = false;
        this.fullCauses.clear();
        this.verifyAfterBatch = true;
      }
      this.pending.merge(first);
    }
    this.kick();
  }

  /**
   * A storm gathers whose directories will likely go whole (the engine's word, passed to the transport).
   * Not when a full sync is to come: it covers the storm, and a run started ahead would wait beside it.
   */
  expectTrees(): void {
    if (!this.stopped && !this.full) this.options.transport.expectTrees?.(this.inFlight === undefined);
  }

  /** Adds released marks; the set is copied, so one set may go to every host. */
  add(marks: PathSet): void {
    if (this.stopped || marks.size === 0) return;
    if (this.full) return; // the full sync still to come covers it
    this.touchPending();
    this.pending.merge(marks);
    this.releases += 1;
    this.bound();
    this.kick();
  }

  /**
   * A directory was renamed on the source: replay the rename on the target instead of sending the subtree
   * again. Marks waiting under the old name follow it. Falls back to a plain send when the target may not
   * have the old directory yet (it is itself still to be sent), when a directory above either name has a
   * change still to be sent (see the header), or when the move fails there.
   */
  move(from: Buffer, to: Buffer): void {
    if (this.stopped || this.full) return;
    this.touchPending();
    const running = this.inFlight;
    const notThereYet = this.pending.coveredByTree(from) || running?.kind === 'full' || running?.marks?.coveredByTree(from) === true || this.verification !== undefined;
    if (notThereYet) {
      this.sendInstead(from, to);
    } else {
      const waiting = this.pending.detach(from);
      if (waiting.size > 0) this.pending.merge(waiting, to);
      // What the running batch sends under the old name will not be there once the move is replayed.
      const sending = running?.marks?.copyAt(from);
      if (sending && sending.size > 0) this.pending.merge(sending, to);
      this.moves.push({ from, to });
    }
    this.bound();
    this.kick();
  }

  /** Forgets the details and sends everything (SIGUSR1, a drifted target, an overflow). */
  requestFullSync(reason: string): void {
    if (this.stopped) return;
    this.options.logger.info({ host: this.name, reason }, 'full sync requested');
    this.collapse('start');
    this.retryNow();
    this.kick(); // an idle host has no retry timer for retryNow to cut short
  }

  status(): HostSnapshot {
    const running = this.inFlight;
    const shown = running ?? this.verification;
    const oldest = Math.min(running ? running.since : Infinity, this.hasWork() ? this.pendingSince : Infinity);
    return {
      host: this.name,
      state: this.state(),
      pending: this.pending.size + this.moves.length,
      fullSyncPending: this.fullSyncOwed(),
      inFlight: shown ? { kind: shown.kind, marks: shown.marks?.size ?? 0, startedAt: shown.startedAt } : null,
      lastSuccessAt: this.lastSuccessAt,
      lagMs: Number.isFinite(oldest) ? Math.max(0, this.now() - oldest) : 0,
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      lastCause: this.lastCause,
      nextRetryAt: this.retryAt,
      counters: { ...this.counters },
    };
  }

  /** True when the target has everything it was given. */
  get settled(): boolean {
    return !this.hasWork() && !this.inFlight && !this.queued && !this.verification;
  }

  /** Resolves when settled; a host waiting out a backoff is tried again at once (it may be back). */
  whenSettled(): Promise<void> {
    this.retryNow();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.settled) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** What the target is still missing, for the log at shutdown. */
  unsynced(sample = 5): { fullSync: boolean; marks: number; moves: number; sample: Buffer[] } {
    const marks = new PathSet();
    marks.merge(this.pending);
    if (this.inFlight?.marks) marks.merge(this.inFlight.marks);
    return { fullSync: this.fullSyncOwed(), marks: marks.size, moves: this.moves.length, sample: marks.entries().slice(0, sample).map((e) => e.path) };
  }

  /** Stops for good: cancels the retry timer and aborts the running rsync. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.probing?.abort();
    this.probing = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAt = null;
    this.inFlight?.controller.abort();
    this.verification?.controller.abort();
    this.emitState();
    for (const waiter of [...this.waiters]) waiter();
  }

  private hasWork(): boolean {
    return this.full || this.pending.size > 0 || this.moves.length > 0;
  }

  /** A full sync is owed or running: the target may lack anything until it ends well. */
  private fullSyncOwed(): boolean {
    return this.full || this.inFlight?.kind === 'full' || this.verification !== undefined;
  }

  private touchPending(): void {
    if (!this.hasWork()) this.pendingSince = this.now();
  }

  private state(): HostState {
    if (this.stopped) return 'stopped';
    if (this.inFlight || this.queued || this.verification) return 'syncing';
    if (this.probing) return 'down';
    if (this.retryTimer) return this.lastFailureUnreachable ? 'down' : 'retrying';
    return this.hasWork() ? 'syncing' : 'idle';
  }

  private emitState(): void {
    const state = this.state();
    if (state === this.lastState) return;
    this.lastState = state;
    this.emit('state', this.name, state);
  }

  private bound(): void {
    if (this.pending.size + this.moves.length <= this.options.maxPending) return;
    this.counters.collapses += 1;
    this.options.logger.warn({ host: this.name, pending: this.pending.size, moves: this.moves.length, bound: this.options.maxPending },
      'backlog past its bound: collapsing it into one full sync');
    this.collapse('backlog');
  }

  private collapse(cause: FullSyncCause): void {
    this.touchPending();
    this.full = true;
    this.fullCauses.add(cause);
    this.pending.clear();
    this.moves = [];
  }

  private retryNow(): void {
    if (this.probing) {
      this.probing.abort();
      this.probing = undefined;
      this.kick();
    }
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAt = null;
    this.kick();
  }

  private kick(): void {
    if (this.stopped || this.inFlight || this.queued || this.retryTimer || this.probing) {
      this.emitState();
      return;
    }
    if (!this.hasWork()) {
      this.emitState();
      for (const waiter of [...this.waiters]) waiter();
      return;
    }
    this.queued = true;
    this.emitState();
    // The work is taken when the limiter lets the job run, not now: what arrives meanwhile joins it.
    this.options.limiter.add(() => this.runOne()).catch((error: unknown) => this.recover(error));
  }

  private async runOne(): Promise<void> {
    this.queued = false;
    if (this.stopped) return;
    const controller = new AbortController();
    const since = this.pendingSince;
    let report: BatchReport;
    if (this.full) {
      this.full = false;
      const causes = [...this.fullCauses];
      this.fullCauses.clear();
      this.pending.clear();
      this.moves = [];
      this.pendingSince = this.now();
      this.inFlight = { kind: 'full', marks: undefined, startedAt: this.now(), since, controller };
      const result = await this.guard(() => this.options.transport.fullSync(controller.signal, causes));
      report = { host: this.name, kind: 'full', marks: 0, set: undefined, result };
      if (result.outcome !== 'ok') {
        this.full = true;
        for (const cause of causes) this.fullCauses.add(cause);
        this.pendingSince = Math.min(this.pendingSince, since);
      }
    } else {
      await this.replayMoves();
      const marks = this.pending;
      this.pending = new PathSet();
      this.pendingSince = this.now();
      // One release was grouped as it was released: only a backlog of several, or a retried one, is regrouped.
      if (this.failures > 0 || this.releases > 1) this.options.regroup?.(marks);
      this.releases = 0;
      if (marks.size === 0) {
        this.kick();
        return;
      }
      this.inFlight = { kind: 'batch', marks, startedAt: this.now(), since, controller };
      if (this.verification) this.resend.merge(marks);
      const result = await this.guard(() => this.options.transport.transfer(marks.toBatch(), controller.signal));
      report = { host: this.name, kind: 'batch', marks: marks.size, set: marks, result };
      if (result.outcome !== 'ok' && !this.full) {
        this.touchPending();
        this.pending.merge(marks);
        this.pendingSince = Math.min(this.pendingSince, since);
        this.bound();
      }
      if (this.verifyAfterBatch) {
        this.verifyAfterBatch = false;
        if (result.outcome === 'ok') this.verify();
        else this.collapse('start');
      }
    }
    this.inFlight = undefined;
    this.report(report);
  }

  private report(report: BatchReport): void {
    this.account(report);
    try {
      this.emit('batch', report);
    } catch (error) {
      this.options.logger.error({ host: this.name, err: error }, 'a batch listener failed');
    }
    this.kick();
  }

  /** Starts the verification beside the batches (see the header); it takes a slot of the shared limiter. */
  private verify(): void {
    const controller = new AbortController();
    const run: InFlight = { kind: 'full', marks: undefined, startedAt: this.now(), since: this.now(), controller };
    this.verification = run;
    this.resend = new PathSet();
    this.options.limiter.add(async () => {
      const result = this.stopped
        ? { outcome: 'retry' as const, exitCode: null, files: 0, deleted: 0, durationMs: 0, message: 'stopped' }
        : await this.guard(() => this.options.transport.fullSync(controller.signal, ['start']));
      this.verification = undefined;
      if (result.outcome === 'ok') {
        if (this.resend.size > 0 && !this.full) {
          this.touchPending();
          this.pending.merge(this.resend);
          this.bound();
        }
      } else this.collapse('start');
      this.resend = new PathSet();
      if (!this.stopped) this.report({ host: this.name, kind: 'full', marks: 0, set: undefined, result });
    }).catch((error: unknown) => {
      this.verification = undefined;
      this.recover(error);
    });
    this.emitState();
  }

  /** A bug of ours in a run must not wedge the host: forget the details, owe a full sync, retry later. */
  private recover(error: unknown): void {
    this.options.logger.error({ host: this.name, err: error }, 'internal error while syncing this host: a full sync will follow');
    this.queued = false;
    this.inFlight = undefined;
    this.collapse('backlog'); // the live changes it lost go with their deletes
    const message = error instanceof Error ? error.message : String(error);
    this.account({ host: this.name, kind: 'full', marks: 0, set: undefined, result: { outcome: 'retry', exitCode: null, files: 0, deleted: 0, durationMs: 0, message } });
  }

  /** A rename sent the plain way: the old name brought in line (deleted), the new one sent whole. */
  private sendInstead(from: Buffer, to: Buffer): void {
    this.pending.detach(from);
    this.pending.add(from, 'path');
    this.pending.add(to, 'tree');
  }

  /** Replays queued directory renames, in order (see the header); a failed one becomes a plain send of both names. */
  private async replayMoves(): Promise<void> {
    while (this.moves.length > 0 && !this.stopped) {
      const { from, to } = this.moves.shift()!;
      let moved = false;
      try {
        // Checked now, not when queued: a failed batch puts its marks back.
        const behindChanges = this.pending.markedAbove(from) || this.pending.markedAbove(to);
        moved = !behindChanges && await this.options.transport.remoteMove(from, to);
      } catch (error) {
        this.options.logger.warn({ host: this.name, err: error }, 'remote move failed');
      }
      if (moved) {
        this.counters.remoteMoves += 1;
        // Confirms the result: rsync finds every file in place, so this costs a listing, no file data.
        this.pending.add(to, 'tree');
      } else {
        this.counters.remoteMoveFallbacks += 1;
        this.options.logger.debug({ host: this.name, from: from.toString(), to: to.toString() }, 'remote move not possible: sending instead');
        this.sendInstead(from, to);
      }
    }
  }

  /** A transport that throws is a failed batch like any other, never a crash of the agent. */
  private async guard(run: () => Promise<BatchResult>): Promise<BatchResult> {
    const started = this.now();
    try {
      return await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { outcome: 'retry', exitCode: null, files: 0, deleted: 0, durationMs: this.now() - started, message };
    }
  }

  private account({ kind, marks, result }: BatchReport): void {
    const log = this.options.logger;
    if (result.outcome === 'ok') {
      this.failures = 0;
      this.lastError = null;
      this.lastCause = null;
      this.lastSuccessAt = this.now();
      this.counters.batches += 1;
      if (kind === 'full') this.counters.fullSyncs += 1;
      this.counters.files += result.files;
      this.counters.deleted += result.deleted;
      this.counters.bytes += result.bytes ?? 0;
      log.info({ host: this.name, kind, marks, files: result.files, deleted: result.deleted, sent: result.sent, bytes: result.bytes, ms: Math.round(result.durationMs) }, 'synced');
      return;
    }
    this.failures += 1;
    this.counters.failures += 1;
    this.lastError = result.message;
    const cause = result.cause ?? null;
    const newCause = cause !== null && cause.kind !== this.lastCause?.kind;
    this.lastCause = cause;
    this.lastFailureUnreachable = result.exitCode === null ? /ssh|connect|refused|unreachable/i.test(result.message) : UNREACHABLE.has(result.exitCode);
    if (this.stopped) return;
    // A fatal outcome, or a failure with a lasting cause (a key, a directory, a disk), will not mend by itself
    // soon: say so loudly and wait the longest delay. A fatal outcome without a cause gets one quick retry
    // first: rsync reports some live-tree accidents as fatal ones (exit 2, "Invalid packet at end of run",
    // when files vanish under -H).
    const slow = cause !== null || (result.outcome === 'fatal' && this.failures > 1);
    const delay = slow ? this.options.backoff.capMs : backoffDelay(this.failures, this.options.backoff, this.random);
    const fields = { host: this.name, kind, marks, exitCode: result.exitCode, error: result.message, said: result.said, failures: this.failures, retryInMs: delay };
    if (cause !== null) {
      const line = `${this.name} fails: ${cause.summary}; fix: ${cause.fix}`;
      // Said loudly once per cause; while it lasts, each retry is a warning.
      if (newCause) log.error({ ...fields, cause: cause.kind, fix: cause.fix }, line);
      else log.warn({ ...fields, cause: cause.kind, fix: cause.fix }, line);
    } else if (result.outcome === 'fatal') log.error(fields, 'rsync failed in a way retrying will not fix soon: check this host (its rsync, its disk, the options)');
    else log.warn(fields, 'rsync failed: will retry');
    // An unreachable host is retried the moment it answers again, not when a backoff runs out.
    if (this.lastFailureUnreachable && cause === null && this.options.transport.reachability) this.retryOnReturn(delay);
    else this.retryIn(delay);
  }

  private retryIn(delay: number): void {
    this.retryAt = this.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = null;
      this.kick();
    }, delay);
  }

  /**
   * Probes the host until it answers, then retries at once; a host that answers at the first probe is up and
   * failed anyway (or cannot be probed): it waits `delay`, the plain backoff.
   */
  private retryOnReturn(delay: number): void {
    const controller = new AbortController();
    this.probing = controller;
    this.emitState();
    const wait = async (): Promise<'answers' | 'back' | 'aborted'> => {
      const probe = await this.options.transport.reachability!();
      return probe === undefined ? 'answers' : awaitReturn(probe, controller.signal);
    };
    wait().catch(() => 'answers' as const).then((verdict) => {
      if (this.probing !== controller) return; // cut short by retryNow or stop, which took it from here
      this.probing = undefined;
      if (verdict === 'back') {
        this.options.logger.info({ host: this.name }, 'host answers again: retrying now');
        this.kick();
      } else this.retryIn(delay);
    }, () => undefined);
  }
}
