// Puts kernel events back together into renames: a MOVED_FROM and the MOVED_TO with the same cookie, even
// when the halves arrive in different reads. Events leave strictly in kernel order; a MOVED_FROM whose
// MOVED_TO has not come yet holds everything behind it until the MOVED_TO arrives or its window (counted
// from when the MOVED_FROM was read) runs out, when it leaves alone: a move out of the watched tree.
// A window only runs out on its timer, and then only after the event loop had one more chance to read the
// inotify fd: handling a big read can outlast the window, and the MOVED_TO may be waiting in the next read.
//
// Events are handled a slice at a time, the loop free between slices to read the fd again: the kernel's
// queue (fs.inotify.max_queued_events, 16,384 by default) then holds only what comes in while one slice is
// handled, not while a whole read is, and a storm that the handling lags behind is read on time instead of
// overflowing. What waits is bounded too: past `maxBacklog` events it is dropped and an overflow delivered,
// as the kernel itself would.
import { constants as C, type RawEvent } from '../inotify/binding.js';

export type Sequenced =
  | { kind: 'event'; event: RawEvent }
  /** `to` is undefined when no MOVED_TO came within the window. */
  | { kind: 'move'; from: RawEvent; to: RawEvent | undefined };

export interface MovePairingOptions {
  /** How long a MOVED_FROM waits for its MOVED_TO, from the moment it was read. */
  windowMs: number;
  /** Receives every event, or pair, in kernel order. */
  deliver: (item: Sequenced) => void;
  /** Runs after each pass that delivered what could be delivered (the rest waits on a MOVED_FROM). */
  drained?: () => void;
  /** Events delivered before the loop is let go to read the fd again (default 1024). */
  slice?: number;
  /** Events that may wait to be delivered before they are dropped for an overflow (default 1,048,576). */
  maxBacklog?: number;
  /** Clock, for unit tests. */
  now?: () => number;
}

const SLICE = 1024;
const MAX_BACKLOG = 1 << 20;
/** What a backlog past its bound becomes: the kernel's own overflow record (the roots are then rescanned). */
const OVERFLOW: RawEvent = { wd: -1, mask: C.IN_Q_OVERFLOW, cookie: 0, name: Buffer.alloc(0) };

export class MovePairing {
  private readonly options: MovePairingOptions;
  private readonly now: () => number;
  private queue: RawEvent[] = [];
  private head = 0;
  /**
   * When each queued MOVED_FROM was read: its window counts from then. Kept for those alone, not for every
   * event: a burst is nearly all other events.
   */
  private readonly readAt = new Map<RawEvent, number>();
  /** MOVED_TO events waiting in the queue, by cookie (cookies are unique per rename). */
  private readonly movedTo = new Map<number, RawEvent>();
  /** MOVED_TO events already delivered with their MOVED_FROM: skipped when reached. */
  private readonly paired = new Set<RawEvent>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** The rest of a pass, after the loop has read the fd again, and the windows it may end. */
  private resume: NodeJS.Immediate | undefined;
  private resumeExpiry = Number.NEGATIVE_INFINITY;
  private refed = true;
  private stopped = false;

  constructor(options: MovePairingOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Events waiting behind an unpaired MOVED_FROM. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Adds one read's events and delivers what can be delivered. */
  push(events: readonly RawEvent[]): void {
    const now = this.now();
    if (this.waiting + events.length > (this.options.maxBacklog ?? MAX_BACKLOG)) {
      this.queue = [OVERFLOW];
      this.head = 0;
      this.movedTo.clear();
      this.paired.clear();
      this.readAt.clear();
    } else {
      for (const event of events) {
        this.queue.push(event);
        if (event.mask & C.IN_MOVED_TO) this.movedTo.set(event.cookie, event);
        else if (event.mask & C.IN_MOVED_FROM) this.readAt.set(event, now);
      }
    }
    if (this.resume === undefined) this.drain(Number.NEGATIVE_INFINITY);
  }

  /**
   * Lets every MOVED_FROM whose window ended by now leave alone, and delivers what follows. Call it only when
   * the inotify fd has been read since the windows ended (the timer does).
   */
  expire(): void {
    this.drain(this.now());
  }

  /** Delivers in order until the queue is empty or a MOVED_FROM must still wait. */
  private drain(expireUpTo: number): void {
    let left = this.options.slice ?? SLICE;
    while (!this.stopped && this.head < this.queue.length) {
      if (left-- === 0) {
        this.resumeExpiry = Math.max(this.resumeExpiry, expireUpTo);
        if (this.resume === undefined) {
          this.resume = setImmediate(() => {
            const expiry = this.resumeExpiry;
            this.resume = undefined;
            this.resumeExpiry = Number.NEGATIVE_INFINITY;
            this.drain(expiry);
          });
          if (!this.refed) this.resume.unref();
        }
        return;
      }
      const event = this.queue[this.head] as RawEvent;
      if (this.paired.size > 0 && this.paired.delete(event)) {
        this.head++;
        continue;
      }
      if (event.mask & C.IN_MOVED_FROM) {
        const to = this.movedTo.get(event.cookie);
        if (to === undefined) {
          const deadline = (this.readAt.get(event) ?? Number.NEGATIVE_INFINITY) + this.options.windowMs;
          if (deadline > expireUpTo) {
            this.wake(deadline - this.now());
            break;
          }
        } else {
          this.movedTo.delete(event.cookie);
          this.paired.add(to);
        }
        this.head++;
        this.readAt.delete(event);
        this.options.deliver({ kind: 'move', from: event, to });
        continue;
      }
      this.head++;
      if (event.mask & C.IN_MOVED_TO && this.movedTo.get(event.cookie) === event) this.movedTo.delete(event.cookie);
      this.options.deliver({ kind: 'event', event });
    }
    this.compact();
    if (!this.stopped) this.options.drained?.();
  }

  /** Drops everything and stops the timer. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    clearImmediate(this.resume);
    this.queue = [];
    this.head = 0;
    this.movedTo.clear();
    this.paired.clear();
    this.readAt.clear();
  }

  ref(): void {
    this.refed = true;
    this.timer?.ref();
    this.immediate?.ref();
    this.resume?.ref();
  }

  unref(): void {
    this.refed = false;
    this.timer?.unref();
    this.immediate?.unref();
    this.resume?.unref();
  }

  private wake(ms: number): void {
    if (this.timer) return; // an earlier deadline is armed; drain() re-arms for the next one
    this.timer = setTimeout(() => {
      const firedAt = this.now();
      // Timers run before the poll phase, immediates after it: a read waiting on the fd comes first.
      this.immediate = setImmediate(() => {
        this.timer = undefined;
        this.immediate = undefined;
        this.drain(firedAt);
      });
      if (!this.refed) this.immediate.unref();
    }, Math.max(0, ms));
    if (!this.refed) this.timer.unref();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
