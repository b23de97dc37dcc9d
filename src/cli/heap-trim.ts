// Full garbage collections at moments the agent chooses: once its startup is over, after batches that
// left the heap grown, and once a scan of the source is written (src/state/recorder.ts: what it read is
// garbage then).
//
// Why: the launcher keeps V8's memory reducer asleep (an idle agent must not wake every 8 s) and its young
// generation small (src/cli/launcher.cts). Without the reducer V8 collects the old generation only when it
// reaches its allocation limit, which starts high, so what the startup and each storm promoted there
// (garbage too, and the Buffers that hold malloc memory) stayed in the agent's RSS: 121, 128, 136, 146,
// 153 MiB for the process tree over five storms of the sync bench, with about 9 MiB live. One collection
// after the startup (idle sync agent: ~3 MiB less RSS) and one once a batch has ended with the heap grown
// (a few milliseconds of a batch that took hundreds) bring it back; an agent sending small changes pays one
// only as often as its garbage reaches HEAP_SLACK.
// The heap's growth, not the batch's size, decides: a storm whose crowded directories went whole is a
// batch of about a hundred marks, and when the trim waited for 1000 marks it never came after such storms;
// the agent's heap then held 12, 13, 20, 25, 32 MB over five storms until V8 collected on its own.
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { STANDBY_IDLE_MS } from '../rsync/transport.js';

/** At most one collection after batches this often (ms): a storm's batches end one after the other on every host. */
const TRIM_EVERY_MS = 500;
/** After the startup, room for the standby rsyncs it leaves to end and their ends to be handled first. */
const AFTER_STARTUP_MS = STANDBY_IDLE_MS + 2000;
/** Growth of the heap (bytes used) since the last collection that is worth one (an idle agent's is ~9 MB). */
export const HEAP_SLACK = 4 * 2 ** 20;

type Collect = () => void;

/** V8's full collector: the launcher's --expose-gc gives it to new contexts, not to this one's global; none without the launcher. */
function collector(): Collect | undefined {
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  return typeof gc === 'function' ? (gc as Collect) : undefined;
}

export interface HeapTrimHooks {
  collect?: Collect | undefined;
  /** Bytes of the heap in use now. */
  heapUsed?: () => number;
  /** After each collection: the heap in use before and after it. */
  collected?: (before: number, after: number) => void;
}

export class HeapTrim {
  private readonly collect: Collect | undefined;
  private readonly heapUsed: () => number;
  private readonly collected: ((before: number, after: number) => void) | undefined;
  private startupTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private last = 0;
  /** The heap in use after the last collection, or when the agent began. */
  private floor: number;

  constructor(hooks: HeapTrimHooks = {}) {
    this.collect = 'collect' in hooks ? hooks.collect : collector();
    this.heapUsed = hooks.heapUsed ?? (() => getHeapStatistics().used_heap_size);
    this.collected = hooks.collected;
    this.floor = this.heapUsed();
  }

  /** The startup's full syncs are done: a collection once the standbys they left have ended. */
  afterStartup(): void {
    clearTimeout(this.startupTimer);
    this.startupTimer = setTimeout(() => this.run(), AFTER_STARTUP_MS);
    this.startupTimer.unref();
  }

  /** A batch or full sync has ended: a collection soon, if the heap has grown HEAP_SLACK since the last one. */
  afterBatch(): void {
    if (this.batchTimer !== undefined || this.heapUsed() - this.floor < HEAP_SLACK) return;
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      this.run();
    }, Math.max(0, this.last + TRIM_EVERY_MS - Date.now()));
    this.batchTimer.unref();
  }

  /** A collection now: the caller knows that much has just become garbage (a scan's). */
  now(): void {
    this.run();
  }

  close(): void {
    clearTimeout(this.startupTimer);
    clearTimeout(this.batchTimer);
  }

  private run(): void {
    if (this.collect === undefined) return;
    const before = this.heapUsed();
    this.collect();
    this.last = Date.now();
    this.floor = this.heapUsed();
    this.collected?.(before, this.floor);
  }
}
