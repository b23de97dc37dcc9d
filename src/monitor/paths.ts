// What to watch: the command line's paths and --fromfile's lines; `@PATH` leaves a directory out of a
// recursive watch, as in inotifywait (compared with the path as built from the root given, trailing '/' aside).
import type { ExcludeFn } from '../watch/types.js';

export interface WatchList {
  roots: Buffer[];
  exclusions: Buffer[];
}

const AT = 0x40;
const SLASH = 0x2f;
const NEWLINE = 0x0a;

function add(list: WatchList, entry: Buffer): void {
  if (entry.length === 0 || (entry.length === 1 && entry[0] === AT)) return;
  if (entry[0] === AT) list.exclusions.push(entry.subarray(1));
  else list.roots.push(entry);
}

/** --fromfile content (one path per line, bytes kept), then the command-line paths. */
export function buildWatchList(fromfile: Buffer | undefined, operands: readonly string[]): WatchList {
  const list: WatchList = { roots: [], exclusions: [] };
  if (fromfile !== undefined) {
    let start = 0;
    while (start < fromfile.length) {
      let end = fromfile.indexOf(NEWLINE, start);
      if (end === -1) end = fromfile.length;
      add(list, fromfile.subarray(start, end));
      start = end + 1;
    }
  }
  for (const operand of operands) add(list, Buffer.from(operand));
  return list;
}

function withoutTrailingSlash(path: Buffer): Buffer {
  return path.length > 1 && path[path.length - 1] === SLASH ? path.subarray(0, path.length - 1) : path;
}

/** The watch tree's exclusion for `@PATH` entries: a directory whose path, built from its root as given, is listed. */
export function atExclusions(exclusions: readonly Buffer[]): ExcludeFn | undefined {
  if (exclusions.length === 0) return undefined;
  const excluded = new Set(exclusions.map((p) => withoutTrailingSlash(p).toString('latin1')));
  return (relativePath, isDir, root) => {
    if (!isDir || root === undefined) return false;
    const base = root[root.length - 1] === SLASH ? root : Buffer.concat([root, Buffer.from('/')]);
    return excluded.has(Buffer.concat([base, relativePath]).toString('latin1'));
  };
}
