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
// What waits is kept as the drains' own buffers, read record by record as it leaves: a storm the handling
// lags behind held tens of thousands of decoded events (an object and a Buffer view each, ~160 bytes), which
// lived long enough to be promoted to V8's old generation. Only the halves of renames are decoded on arrival.
import { constants as C, decodeRecord, hasRecord, nextRecord, type RawEvent } from '../inotify/binding.js';

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
const OVERFLOW = overflowRecord();

/** struct inotify_event { wd -1, mask IN_Q_OVERFLOW, cookie 0, len 0 }. */
function overflowRecord(): Buffer {
  const record = Buffer.alloc(16);
  record.writeInt32LE(-1, 0);
  record.writeUInt32LE(C.IN_Q_OVERFLOW, 4);
  return record;
}

export class MovePairing {
  private readonly options: MovePairingOptions;
  private readonly now: () => number;
  /** The drains not yet delivered whole, each with the offset of its next record; those before `first` are done. */
  private drains: Array<{ records: Buffer; at: number }> = [];
  private first = 0;
  /** Records are numbered in kernel order as they are pushed: the next to deliver, and how many were pushed. */
  private next = 0;
  private pushed = 0;
  /**
   * When each queued MOVED_FROM was read (by number): its window counts from then. Kept for those alone, not
   * for every event: a burst is nearly all other events.
   */
  private readonly readAt = new Map<number, number>();
  /** MOVED_TO events waiting in the queue, by cookie (cookies are unique per rename), decoded on arrival. */
  private readonly movedTo = new Map<number, { seq: number; event: RawEvent }>();
  /** The numbers of MOVED_TO events already delivered with their MOVED_FROM: skipped when reached. */
  private readonly paired = new Set<number>();
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
    return this.pushed - this.next;
  }

  /** Adds one read's records (a drain's buffer, as the kernel wrote them) and delivers what can be delivered. */
  push(records: Buffer): void {
    const now = this.now();
    let count = 0;
    for (let at = 0; hasRecord(records, at); at = nextRecord(records, at)) count++;
    if (this.waiting + count > (this.options.maxBacklog ?? MAX_BACKLOG)) {
      this.drains = [{ records: OVERFLOW, at: 0 }];
      this.first = 0;
      this.next = this.pushed;
      this.pushed += 1;
      this.movedTo.clear();
      this.paired.clear();
      this.readAt.clear();
    } else if (count > 0) {
      this.drains.push({ records, at: 0 });
      for (let at = 0; hasRecord(records, at); at = nextRecord(records, at), this.pushed++) {
        const mask = records.readUInt32LE(at + 4);
        if (mask & C.IN_MOVED_TO) this.movedTo.set(records.readUInt32LE(at + 8), { seq: this.pushed, event: decodeRecord(records, at) });
        else if (mask & C.IN_MOVED_FROM) this.readAt.set(this.pushed, now);
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
    while (!this.stopped && this.next < this.pushed) {
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
      const seq = this.next;
      const drain = this.drains[this.first]!;
      const { records, at } = drain;
      if (this.paired.size > 0 && this.paired.delete(seq)) {
        this.advance(drain);
        continue;
      }
      const mask = records.readUInt32LE(at + 4);
      if (mask & C.IN_MOVED_FROM) {
        const cookie = records.readUInt32LE(at + 8);
        const to = this.movedTo.get(cookie);
        if (to === undefined) {
          const deadline = (this.readAt.get(seq) ?? Number.NEGATIVE_INFINITY) + this.options.windowMs;
          if (deadline > expireUpTo) {
            this.wake(deadline - this.now());
            break;
          }
        } else {
          this.movedTo.delete(cookie);
          this.paired.add(to.seq);
        }
        this.advance(drain);
        this.readAt.delete(seq);
        this.options.deliver({ kind: 'move', from: decodeRecord(records, at), to: to?.event });
        continue;
      }
      this.advance(drain);
      const event = decodeRecord(records, at);
      if (mask & C.IN_MOVED_TO && this.movedTo.get(event.cookie)?.seq === seq) this.movedTo.delete(event.cookie);
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
    this.drains = [];
    this.first = 0;
    this.next = this.pushed;
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

  /** Past the record `drain` is at (the next to deliver), and past the drain when that was its last. */
  private advance(drain: { records: Buffer; at: number }): void {
    drain.at = nextRecord(drain.records, drain.at);
    this.next++;
    if (!hasRecord(drain.records, drain.at)) this.first++;
  }

  private compact(): void {
    if (this.first === this.drains.length) {
      this.drains = [];
      this.first = 0;
    } else if (this.first > 64) {
      this.drains = this.drains.slice(this.first);
      this.first = 0;
    }
  }
}
