// Turns the watch tree's stream of changes into coalesced sets of marks, released after a short quiet window
// (or at the latest after the maximum delay). A file that a writer still holds open waits for its close, or
// for the maximum delay when it is written continuously (a log), so it is sent once, complete.
import type { Change } from '../watch/types.js';
import { PathSet } from './path-set.js';

export interface ChangeSetOptions {
  /** Release once no change has arrived for this long (ms). */
  quietMs: number;
  /** Never hold a change longer than this (ms), whatever keeps arriving. */
  maxDelayMs: number;
  /**
   * While changes pour in (a deploy, an unpacked archive), a set of at least `marks` waits for `quietMs` of
   * quiet instead (the maximum delay still holds): one large rsync instead of a stream of small ones, whose
   * fixed costs (process starts, round trips, teardown) would compete with the writer for the CPU. A change
   * that comes alone, or a few together, still goes after the short quiet window.
   */
  storm?: { marks: number; quietMs: number };
  /** Told once per set, when it grows to `storm.marks`: a storm gathers (its directories may go whole). */
  onStorm?: () => void;
  /** Receives each released set; the set is the receiver's to keep. */
  onReady: (marks: PathSet) => void;
  now?: () => number;
}

interface Writing {
  path: Buffer;
  since: number;
}

export class ChangeSet {
  private ready = new PathSet();
  /** When the oldest mark in `ready` arrived. */
  private readySince = 0;
  private lastAdd = 0;
  /** Files written and not yet closed, keyed by their latin1 path. */
  private readonly writing = new Map<string, Writing>();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private readonly now: () => number;

  constructor(private readonly options: ChangeSetOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Marks held, written-to files included. */
  get size(): number {
    return this.ready.size + this.writing.size;
  }

  add(change: Change): void {
    const { path } = change;
    switch (change.kind) {
      case 'modified':
        if (change.isDir) this.mark(path, 'path');
        else this.startWriting(path);
        return;
      case 'closed':
        this.writing.delete(path.toString('latin1'));
        this.mark(path, 'path');
        return;
      case 'created':
        this.mark(path, change.isDir ? 'tree' : 'path');
        return;
      case 'attributes':
        this.mark(path, 'path');
        return;
      case 'deleted':
        this.gone(path);
        return;
      case 'moved':
        if (change.from) this.gone(change.from);
        this.mark(path, change.isDir ? 'tree' : 'path');
        return;
      case 'rescan':
        this.mark(path, 'tree');
        return;
    }
  }

  /**
   * A directory was renamed and the move will be replayed on the targets: marks held under the old name
   * now belong under the new one (they describe the same files).
   */
  rename(from: Buffer, to: Buffer): void {
    const moved = this.ready.detach(from);
    if (moved.size > 0) this.markSet(moved, to);
    const prefix = from.toString('latin1');
    for (const [key, entry] of this.writing) {
      if (key === prefix || key.startsWith(`${prefix}/`)) {
        this.writing.delete(key);
        const path = Buffer.concat([to, entry.path.subarray(from.length)]);
        this.writing.set(path.toString('latin1'), { path, since: entry.since });
      }
    }
  }

  /** True when a file at or below `path` is still being written (held until its writer closes it). */
  writingUnder(path: Buffer): boolean {
    const prefix = path.toString('latin1');
    if (prefix === '') return this.writing.size > 0;
    for (const key of this.writing.keys()) if (key === prefix || key.startsWith(`${prefix}/`)) return true;
    return false;
  }

  /** True when `path` or a directory above it is held to be sent whole. */
  coveredByTree(path: Buffer): boolean {
    return this.ready.coveredByTree(path);
  }

  /** True when a directory above `path` has a change held (see PathSet.markedAbove). */
  markedAbove(path: Buffer): boolean {
    return this.ready.markedAbove(path);
  }

  /** Releases everything held now, files still being written included (shutdown, forced resync). */
  flush(): void {
    for (const { path } of this.writing.values()) this.ready.add(path, 'path');
    this.writing.clear();
    this.release();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }

  /**
   * The path no longer exists: what was held below it is moot (a directory that comes back comes with a
   * create or move event, which sends it whole), and a directory held to be sent whole must not be.
   */
  private gone(path: Buffer): void {
    this.writing.delete(path.toString('latin1'));
    this.ready.detach(path);
    this.mark(path, 'path');
  }

  private mark(path: Buffer, kind: 'path' | 'tree'): void {
    if (this.ready.size === 0) this.readySince = this.now();
    const before = this.ready.size;
    this.ready.add(path, kind);
    this.grew(before);
    this.lastAdd = this.now();
    this.arm();
  }

  private markSet(set: PathSet, at: Buffer): void {
    if (this.ready.size === 0) this.readySince = this.now();
    const before = this.ready.size;
    this.ready.merge(set, at);
    this.grew(before);
    this.arm();
  }

  private grew(before: number): void {
    const marks = this.options.storm?.marks;
    if (marks !== undefined && before < marks && this.ready.size >= marks) this.options.onStorm?.();
  }

  private startWriting(path: Buffer): void {
    const key = path.toString('latin1');
    if (this.writing.has(key)) return;
    // Held until its writer closes it: a copy sent now would be a torn one.
    this.ready.unmark(path);
    this.writing.set(key, { path, since: this.now() });
    this.arm();
  }

  private quietMs(): number {
    const { storm } = this.options;
    return storm !== undefined && this.ready.size >= storm.marks ? Math.max(storm.quietMs, this.options.quietMs) : this.options.quietMs;
  }

  /** When the next release is due, or undefined when nothing is held. */
  private dueAt(): number | undefined {
    let due: number | undefined;
    if (this.ready.size > 0) due = Math.min(this.lastAdd + this.quietMs(), this.readySince + this.options.maxDelayMs);
    for (const { since } of this.writing.values()) {
      const at = since + this.options.maxDelayMs;
      if (due === undefined || at < due) due = at;
    }
    return due;
  }

  // One timer at a time: a burst of thousands of changes must not cost a timer each. It re-arms itself
  // when it fires early (a change came in meanwhile), and is moved only when something is due sooner.
  private arm(): void {
    const due = this.dueAt();
    if (due === undefined || due >= this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, due - this.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    const now = this.now();
    let overdue = false;
    for (const [key, entry] of this.writing) {
      if (entry.since + this.options.maxDelayMs <= now) {
        this.writing.delete(key);
        this.ready.add(entry.path, 'path');
        overdue = true;
      }
    }
    if (overdue || this.lastAdd + this.quietMs() <= now || this.readySince + this.options.maxDelayMs <= now) this.release();
    this.arm();
  }

  private release(): void {
    if (this.ready.size === 0) return;
    const marks = this.ready;
    this.ready = new PathSet();
    this.options.onReady(marks);
  }
}
