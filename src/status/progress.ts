// Progress of long work: the startup scan, the startup difference, full syncs and verification passes.
// What `inosync status` (and --json), /metrics, the terminal line and the log say about them.
//
//   tracker.begin(kind, phase, total?) ─► pass.scanned = n  (our own scan of the source, phase 'scanning')
//                                         pass.watch(run)     (an rsync's live counts, phase 'sending')
//                                         pass.end(outcome)   (one log line with the totals and the duration)
//   while a pass runs: one log line every `everyMs` (a timer of its own: bounded whatever rsync prints)
//
// Only passes get one: full syncs, scans, the startup difference and other batches of at least BIG_BATCH marks. A live change's batch
// never builds one, and an rsync's counts are the ones run.ts keeps anyway (read when asked, not pushed).
// The estimate is of the phase under way: its entries left at the rate so far. The total is rsync's own
// (its file list, once built: --info=progress2 with --no-inc-recursive) or, before that, the best guess at
// hand: the scan just taken, the state record's size, or the watched directories times an average. rsync
// says nothing of the entries it only checks (progress2 moves when a file is sent): a pass with nothing to
// send yet is estimated at the rate of the last pass of its kind on that target.
import type { Logger } from '../log/logger.js';
import type { ItemCounts } from '../rsync/itemize.js';
import { describeProgress, describeTotals, formatDuration } from './render.js';
import type { PassKind, PassPhase, PassProgress, TotalFrom } from './types.js';

/** A batch with this many marks (paths and trees) or more gets a pass: a startup difference, a large backlog. */
export const BIG_BATCH = 1000;
/** Log lines of a running pass: one per this long. */
export const DEFAULT_PROGRESS_EVERY_MS = 10_000;
/** Entries per watched directory, for a total before anything better is known (a directory and ten files). */
export const ENTRIES_PER_WATCH = 11;

/** What one rsync run has done so far; run.ts updates it as its lines arrive. */
export interface RunProgress {
  counts: ItemCounts;
  /** From --info=progress2 (to-chk=LEFT/TOTAL): entries rsync has gone through, and its file list's size. */
  checked: number;
  total: number | null;
}

export interface Total {
  count: number;
  from: TotalFrom;
}

/** Time left for `total` entries after `done` in `elapsedMs`; null without a rate or a total. */
export function estimateMs(done: number, total: number | null, elapsedMs: number): number | null {
  if (total === null || done <= 0 || elapsedMs <= 0) return null;
  if (done >= total) return 0;
  return Math.round((total - done) * (elapsedMs / done));
}

export class Pass {
  /** Entries our own scan has read (phase 'scanning'). */
  scanned = 0;
  private phaseName: PassPhase;
  private phaseStarted: number;
  private total: Total | undefined;
  private runs: RunProgress[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(readonly kind: PassKind, phase: PassPhase, total: Total | undefined, private readonly started: number, private readonly tracker: ProgressTracker) {
    this.phaseName = phase;
    this.phaseStarted = started;
    this.total = total;
  }

  /** Moves on to rsync's part (or back to a scan); the count and the clock of the estimate start again. */
  phase(phase: PassPhase, total?: Total): void {
    this.phaseName = phase;
    this.phaseStarted = this.tracker.now();
    this.scanned = 0;
    this.runs = [];
    if (total !== undefined) this.total = total;
  }

  /** An rsync run of this pass: its counts are read whenever the pass is shown. */
  watch(run: RunProgress): void {
    this.runs.push(run);
  }

  snapshot(): PassProgress {
    const now = this.tracker.now();
    let checked = this.scanned;
    let sent = 0;
    let bytes = 0;
    for (const run of this.runs) {
      // rsync's own count when it has said one; the items it reported otherwise (each is an entry it went through).
      checked += Math.max(run.checked, run.counts.changed + run.counts.deleted);
      sent += run.counts.sent;
      bytes += run.counts.bytes;
    }
    // rsync's file list is the whole pass's only when the pass is that one run (not parts or a batch's runs).
    const listed = this.runs.length === 1 ? this.runs[0]!.total : null;
    const total: Total | undefined = listed !== null ? { count: listed, from: 'rsync' } : this.total;
    return {
      pass: this.kind,
      phase: this.phaseName,
      startedAt: new Date(this.started).toISOString(),
      phaseStartedAt: new Date(this.phaseStarted).toISOString(),
      checked,
      total: total?.count ?? null,
      totalFrom: total?.from ?? null,
      sent,
      bytes,
      etaMs: estimateMs(checked, total?.count ?? null, now - this.phaseStarted) ?? this.tracker.fromLastRate(this.kind, total?.count, now - this.phaseStarted),
    };
  }

  /** Ends the pass: its last log line, with what it did and how long it took. */
  end(outcome: 'ok' | 'failed'): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.tracker.ended(this, outcome);
  }

  /** @internal the tracker's timer for this pass's log lines. */
  tick(everyMs: number, log: () => void): void {
    this.timer = setInterval(log, everyMs);
    this.timer.unref();
  }
}

/** Runs `work` as the whole of `pass`, if any: it ends 'ok' when the work's outcome is, 'failed' otherwise or on a throw. */
export async function runAsPass<T extends { outcome: string }>(pass: Pass | undefined, work: () => Promise<T>): Promise<T> {
  let outcome: string | undefined;
  try {
    const result = await work();
    outcome = result.outcome;
    return result;
  } finally {
    pass?.end(outcome === 'ok' ? 'ok' : 'failed');
  }
}

export interface TrackerOptions {
  logger: Logger;
  /** Names the work in log lines: the host, or the source for a scan. */
  fields: Record<string, string>;
  everyMs?: number;
  /** A total for a pass begun without one. */
  guess?: () => Total | undefined;
  now?: () => number;
}

/** The passes of one host (or one sync's scans): the oldest running one is what status shows. */
export class ProgressTracker {
  readonly now: () => number;
  private readonly passes = new Set<Pass>();
  /** Entries per ms of the last pass of each kind that ended well: rsync says nothing while it only checks. */
  private readonly rates = new Map<PassKind, number>();

  constructor(private readonly options: TrackerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A pass without a total is given the tracker's guess (the watched directories times an average). */
  begin(kind: PassKind, phase: PassPhase, total?: Total): Pass {
    const pass = new Pass(kind, phase, total ?? this.options.guess?.(), this.now(), this);
    this.passes.add(pass);
    pass.tick(this.options.everyMs ?? DEFAULT_PROGRESS_EVERY_MS, () => {
      const progress = pass.snapshot();
      this.options.logger.info({ ...this.options.fields, progress }, describeProgress(progress, this.now()));
    });
    return pass;
  }

  /** The oldest pass running, as status shows it; null when none runs. */
  current(): PassProgress | null {
    const [first] = this.passes;
    return first === undefined ? null : first.snapshot();
  }

  /** Time left at the rate of the last such pass, for a phase that has no count yet; null without one. */
  fromLastRate(kind: PassKind, total: number | undefined, elapsedMs: number): number | null {
    const rate = this.rates.get(kind);
    return rate === undefined || total === undefined ? null : Math.max(0, Math.round(total / rate - elapsedMs));
  }

  /** @internal */
  ended(pass: Pass, outcome: 'ok' | 'failed'): void {
    this.passes.delete(pass);
    const p = pass.snapshot();
    const now = this.now();
    const ms = now - Date.parse(p.startedAt);
    const phaseMs = now - Date.parse(p.phaseStartedAt);
    if (outcome === 'ok' && p.checked > 0 && phaseMs > 0) this.rates.set(p.pass, p.checked / phaseMs);
    const fields = { ...this.options.fields, pass: p.pass, outcome, checked: p.checked, sent: p.sent, bytes: p.bytes, ms };
    this.options.logger.info(fields, `${p.pass} ${outcome === 'ok' ? 'done' : 'failed'}: ${describeTotals(p)} in ${formatDuration(ms)}`);
  }
}

/** An rsync's --info=progress2 line (or several, \r-separated): its last to-chk=LEFT/TOTAL into `run`. */
export function readProgress2(run: RunProgress, line: string): boolean {
  const at = line.lastIndexOf('to-chk=');
  if (at < 0) return false;
  const match = /^to-chk=(\d{1,12})\/(\d{1,12})\)/.exec(line.slice(at));
  if (match === null) return false;
  const left = Number(match[1]);
  const total = Number(match[2]);
  if (left > total) return false;
  run.total = total;
  run.checked = total - left;
  return true;
}
