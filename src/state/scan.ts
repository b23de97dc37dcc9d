// A local scan of the source tree, as a stream of entries in record order (entry.ts): depth-first, siblings
// sorted by their bytes. Only the listings of the directories on the current path are held, never the tree.
//
// Why TypeScript and not the native walk: the arming walk in native/ uses threads and getdents64, but the
// native layer has a line budget, and here fs.opendir plus batched lstat calls (which run on libuv's thread
// pool, several at once) are fast enough: see the figures in the report of issue 14 / scripts (scan of a
// 100k-file tree). A directory that cannot be read yields an 'unknown' entry: sent whole at the next start.
import { lstat, opendir } from 'node:fs/promises';
import type { ExcludeFn } from '../watch/types.js';
import { entryFromStats, MAX_PATH_BYTES, unknownEntry, type Entry } from './entry.js';

/** lstat calls in flight at once: enough to keep the thread pool busy. */
const LSTAT_BATCH = 64;
const SLASH = Buffer.from('/');

export interface ScanOptions {
  /** The source root (absolute). */
  root: string;
  exclude?: ExcludeFn;
  /** The clock racy stats are measured against (ns since the epoch). */
  now?: () => bigint;
}

const wallClockNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** Every entry below the root (the root itself first, as ''), in record order. */
export async function* scanTree(options: ScanOptions): AsyncGenerator<Entry> {
  const now = options.now ?? wallClockNs;
  const rootPath = Buffer.from(options.root.replace(/\/+$/, '') || '/');
  const prefix = Buffer.concat([rootPath, SLASH]);
  const rootStats = await lstat(rootPath, { bigint: true });
  yield entryFromStats(Buffer.alloc(0), rootStats, now());
  yield* walk(Buffer.alloc(0), prefix, options.exclude, now);
}

async function* walk(dir: Buffer, prefix: Buffer, exclude: ExcludeFn | undefined, now: () => bigint): AsyncGenerator<Entry> {
  let names: Buffer[];
  try {
    names = await listNames(Buffer.concat([prefix, dir]));
  } catch {
    // Gone meanwhile or unreadable: whatever it holds is not known.
    if (dir.length > 0) yield unknownEntry(dir);
    return;
  }
  names.sort(Buffer.compare);
  for (let start = 0; start < names.length; start += LSTAT_BATCH) {
    const paths = names.slice(start, start + LSTAT_BATCH).map((name) => (dir.length === 0 ? name : Buffer.concat([dir, SLASH, name])));
    const readAt = now();
    const stats = await Promise.all(paths.map((path) => lstat(Buffer.concat([prefix, path]), { bigint: true }).catch(() => undefined)));
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i]!;
      const stat = stats[i];
      if (stat === undefined) continue; // vanished between listing and stat: it is not there
      const isDir = stat.isDirectory();
      if (exclude?.(path, isDir)) continue;
      if (path.length + prefix.length >= MAX_PATH_BYTES) {
        yield unknownEntry(path);
        continue;
      }
      const entry = entryFromStats(path, stat, readAt);
      yield entry;
      if (isDir && entry.kind === 'dir') yield* walk(path, prefix, exclude, now);
    }
  }
}

async function listNames(dir: Buffer): Promise<Buffer[]> {
  const names: Buffer[] = [];
  // Names as bytes (Node's types know only string encodings here; the runtime takes 'buffer').
  const handle = await opendir(dir as unknown as string, { encoding: 'buffer' as BufferEncoding, bufferSize: 256 });
  for await (const dirent of handle) names.push(dirent.name as unknown as Buffer);
  return names;
}
