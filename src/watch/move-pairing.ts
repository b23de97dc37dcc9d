// Puts kernel events back together into renames: a MOVED_FROM and the MOVED_TO with the same cookie, even
// when the halves arrive in different reads. Events leave strictly in kernel order; a MOVED_FROM whose
// MOVED_TO has not come yet holds everything behind it until the MOVED_TO arrives or its window (counted
// from when the MOVED_FROM was read) runs out, when it leaves alone: a move out of the watched tree.
// A window only runs out on its timer, and then only after the event loop had one more chance to read the
// inotify fd: handling a big read can outlast the window, and the MOVED_TO may be waiting in the next read.
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
  /** Clock, for unit tests. */
  now?: () => number;
}

interface Queued {
  event: RawEvent;
  readAt: number;
}

export class MovePairing {
  private readonly options: MovePairingOptions;
  private readonly now: () => number;
  private queue: Queued[] = [];
  private head = 0;
  /** MOVED_TO events waiting in the queue, by cookie (cookies are unique per rename). */
  private readonly movedTo = new Map<number, RawEvent>();
  /** MOVED_TO events already delivered with their MOVED_FROM: skipped when reached. */
  private readonly paired = new Set<RawEvent>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
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
    const readAt = this.now();
    for (const event of events) {
      this.queue.push({ event, readAt });
      if (event.mask & C.IN_MOVED_TO) this.movedTo.set(event.cookie, event);
    }
    this.drain(Number.NEGATIVE_INFINITY);
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
    while (!this.stopped && this.head < this.queue.length) {
      const { event, readAt } = this.queue[this.head] as Queued;
      if (this.paired.delete(event)) {
        this.head++;
        continue;
      }
      if (event.mask & C.IN_MOVED_FROM) {
        const to = this.movedTo.get(event.cookie);
        if (to === undefined) {
          const deadline = readAt + this.options.windowMs;
          if (deadline > expireUpTo) {
            this.wake(deadline - this.now());
            break;
          }
        } else {
          this.movedTo.delete(event.cookie);
          this.paired.add(to);
        }
        this.head++;
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
    this.queue = [];
    this.head = 0;
    this.movedTo.clear();
    this.paired.clear();
  }

  ref(): void {
    this.refed = true;
    this.timer?.ref();
    this.immediate?.ref();
  }

  unref(): void {
    this.refed = false;
    this.timer?.unref();
    this.immediate?.unref();
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
