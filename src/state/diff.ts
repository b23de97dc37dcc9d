// What a target lacks, from its record and a scan of the source: a merge-join of two streams in record order
// (entry.ts), so neither is ever held whole. The result is marks for the host queue, as a change set would
// make them:
//
//   only on the source      a directory: 'tree' (it is new, with all below)    anything else: 'path'
//   only in the record      'path': deleted on the target, directory and all (--force)
//   both, kinds differ      the source's is a directory: 'tree'; else 'path'
//   both, stats differ      'path' (a directory: its own attributes; what is below is compared on its own)
//   'unknown' on either     'tree': the record does not know, or the scan could not read it
//
// A renamed directory is the old name deleted and the new one sent whole, which is what rsync needs anyway.
import { PathSet } from '../sync/path-set.js';
import { comparePaths, isWithin, sameEntry, type Entry } from './entry.js';

/** The marks, or undefined when there are more than `limit` (a full sync is then the cheaper way). */
export async function diffRecord(record: AsyncIterable<Entry>, source: AsyncIterable<Entry>, limit: number): Promise<PathSet | undefined> {
  const marks = new PathSet();
  const r = await Peek.of(record);
  const s = await Peek.of(source);
  while (r.head !== undefined || s.head !== undefined) {
    if (marks.size > limit) return undefined;
    const was = r.head;
    const now = s.head;
    const order = was === undefined ? 1 : now === undefined ? -1 : comparePaths(was.path, now.path);
    if (order < 0) {
      marks.add(was!.path, 'path');
      await r.skipWithin(was!.path);
    } else if (order > 0) {
      const whole = now!.kind === 'dir' || now!.kind === 'unknown';
      marks.add(now!.path, whole ? 'tree' : 'path');
      if (whole) await s.skipWithin(now!.path);
      else await s.next();
    } else if (was!.kind === 'unknown' || now!.kind === 'unknown' || (was!.kind !== now!.kind && now!.kind === 'dir')) {
      marks.add(now!.path, 'tree');
      await Promise.all([r.skipWithin(now!.path), s.skipWithin(now!.path)]);
    } else if (was!.kind !== now!.kind) {
      marks.add(now!.path, 'path');
      await Promise.all([r.skipWithin(now!.path), s.next()]);
    } else {
      if (!sameEntry(was!, now!)) marks.add(now!.path, 'path');
      await Promise.all([r.next(), s.next()]);
    }
  }
  return marks;
}

/** An entry stream with its next entry in view. */
class Peek {
  head: Entry | undefined;

  private constructor(private readonly iterator: AsyncIterator<Entry>) {}

  static async of(stream: AsyncIterable<Entry>): Promise<Peek> {
    const peek = new Peek(stream[Symbol.asyncIterator]());
    await peek.next();
    return peek;
  }

  async next(): Promise<void> {
    const step = await this.iterator.next();
    this.head = step.done === true ? undefined : step.value;
  }

  /** Moves past `dir` and everything below it. */
  async skipWithin(dir: Buffer): Promise<void> {
    while (this.head !== undefined && isWithin(this.head.path, dir)) await this.next();
  }
}
