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
// Both streams are cursors over encoded entries (files.ts): a million entries cost no object each, and a
// path is copied only when it is marked.
import { setImmediate as turn } from 'node:timers/promises';
import { PathSet } from '../sync/path-set.js';
import { AT, compareRanges, isWithinRange, KIND, sameEncoded } from './entry.js';
import type { EntryCursor } from './files.js';

/** Steps between two yields to the event loop (a few milliseconds). */
const SLICE = 16_384;

/** The marks, or undefined when there are more than `limit` (a full sync is then the cheaper way). */
export async function diffRecord(r: EntryCursor, s: EntryCursor, limit: number): Promise<PathSet | undefined> {
  const marks = new PathSet();
  for (let steps = 1; !r.done || !s.done; steps++) {
    if (marks.size > limit) return undefined;
    if (steps % SLICE === 0) await turn();
    const order = r.done ? 1 : s.done ? -1 : compareRanges(r.bytes, r.at + AT.path, r.end, s.bytes, s.at + AT.path, s.end);
    if (order < 0) {
      skipWithin(r, marks, 'path');
      continue;
    }
    const kind = s.bytes[s.at + AT.kind];
    if (order > 0) {
      if (kind === KIND.dir || kind === KIND.unknown) skipWithin(s, marks, 'tree');
      else {
        marks.add(pathOf(s), 'path');
        s.next();
      }
      continue;
    }
    const was = r.bytes[r.at + AT.kind];
    if (was === KIND.unknown || kind === KIND.unknown || (was !== kind && kind === KIND.dir)) {
      const path = skipWithin(s, marks, 'tree');
      skipPast(r, path);
    } else if (was !== kind) {
      skipPast(r, skipWithin(s, marks, 'path', false));
    } else {
      if (!sameEncoded(r.bytes, r.at, s.bytes, s.at)) marks.add(pathOf(s), 'path');
      r.next();
      s.next();
    }
  }
  return marks;
}

/** The path of the entry in view, copied (the cursor's bytes do not outlive its next step). */
function pathOf(c: EntryCursor): Buffer {
  return Buffer.from(c.bytes.subarray(c.at + AT.path, c.end));
}

/** Marks the entry in view, then moves past it and (`below`) everything below it; returns its path. */
function skipWithin(c: EntryCursor, marks: PathSet, mark: 'path' | 'tree', below = true): Buffer {
  const path = pathOf(c);
  marks.add(path, mark);
  c.next();
  if (below) skipPast(c, path);
  return path;
}

/** Moves past `dir` and everything below it. */
function skipPast(c: EntryCursor, dir: Buffer): void {
  while (!c.done && isWithinRange(c.bytes, c.at + AT.path, c.end, dir)) c.next();
}
