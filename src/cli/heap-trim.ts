// A full garbage collection after large batches, so that a storm's garbage does not stay in the agent's RSS.
//
// Why: the launcher turns V8's memory reducer off (an idle agent must not wake every 8 s, launcher.cts), and
// without it V8 collects the old generation only when it reaches its allocation limit, which starts high. A
// storm's batches (path sets, lists, rsync output) leave megabytes promoted and dead there, and each storm
// raised the agent's RSS further: 121, 128, 136, 146, 153 MiB for the process tree over five storms of the
// sync bench, with about 9 MiB live. One collection once a large batch has ended costs a few milliseconds
// of a batch that took hundreds; an idle agent, or one sending small changes, never pays it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BIG_BATCH } from '../status/progress.js';

/** At most one collection this often (ms): a storm's batches end one after the other on every host. */
const TRIM_EVERY_MS = 500;

type Collect = () => void;

/** V8's collector, exposed at run time (a flag on the command line would reject the launcher's code cache). */
function exposeCollector(): Collect {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Collect;
}

export class HeapTrim {
  private collect: Collect | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  /** After a batch of `marks` (undefined: a full sync) has ended: a collection soon, if it was large (BIG_BATCH). */
  afterBatch(marks: number | undefined): void {
    if (marks !== undefined && marks < BIG_BATCH) return;
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.last + TRIM_EVERY_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.last = Date.now();
      this.collect ??= exposeCollector();
      this.collect();
    }, wait);
    this.timer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
