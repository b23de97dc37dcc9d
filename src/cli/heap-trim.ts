// Full garbage collections at moments the agent chooses: once its startup is over, after large batches, and
// once a scan of the source is written (src/state/recorder.ts: what it read is garbage then).
//
// Why: the launcher keeps V8's memory reducer asleep (an idle agent must not wake every 8 s) and its young
// generation small (src/cli/launcher.cts). Without the reducer V8 collects the old generation only when it
// reaches its allocation limit, which starts high, so what the startup and each storm promoted there
// (garbage too, and the Buffers that hold malloc memory) stayed in the agent's RSS: 121, 128, 136, 146,
// 153 MiB for the process tree over five storms of the sync bench, with about 9 MiB live. One collection
// after the startup (idle sync agent: ~3 MiB less RSS) and one once a large batch has ended (a few
// milliseconds of a batch that took hundreds) bring it back; an agent sending small changes never pays it.
import { runInNewContext } from 'node:vm';
import { STANDBY_IDLE_MS } from '../rsync/transport.js';
import { BIG_BATCH } from '../status/progress.js';

/** At most one collection after batches this often (ms): a storm's batches end one after the other on every host. */
const TRIM_EVERY_MS = 500;
/** After the startup, room for the standby rsyncs it leaves to end and their ends to be handled first. */
const AFTER_STARTUP_MS = STANDBY_IDLE_MS + 2000;

type Collect = () => void;

/** V8's full collector: the launcher's --expose-gc gives it to new contexts, not to this one's global; none without the launcher. */
function collector(): Collect | undefined {
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  return typeof gc === 'function' ? (gc as Collect) : undefined;
}

export class HeapTrim {
  private readonly collect = collector();
  private startupTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private last = 0;

  /** The startup's full syncs are done: a collection once the standbys they left have ended. */
  afterStartup(): void {
    clearTimeout(this.startupTimer);
    this.startupTimer = setTimeout(() => this.run(), AFTER_STARTUP_MS);
    this.startupTimer.unref();
  }

  /** After a batch of `marks` (undefined: a full sync) has ended: a collection soon, if it was large (BIG_BATCH). */
  afterBatch(marks: number | undefined): void {
    if ((marks !== undefined && marks < BIG_BATCH) || this.batchTimer !== undefined) return;
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
    this.last = Date.now();
    this.collect?.();
  }
}
