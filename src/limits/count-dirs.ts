// How many watches a tree needs: one per directory, symlinks not followed, excluded directories pruned.
import { constants } from 'node:os';
import { InosyncError } from '../errors.js';
import { ENTRY, listDirectories, syscallError } from '../inotify/binding.js';
import type { ExcludeFn } from '../watch/types.js';

export interface TreeToCount {
  root: string | Buffer;
  exclude?: ExcludeFn;
}

const SLASH = Buffer.from('/');

/** Directories listed in one native call: enough to spread a call's cost, few enough to keep its records small. */
const BATCH = 64;

/**
 * Directories under `tree.root`, the root included. A directory that vanishes meanwhile is skipped; one
 * that cannot be read still needs its watch. Synchronous on purpose: it runs before watches are armed, and
 * Node's thread pool makes an asynchronous walk about three times slower. Native listings of directories
 * only, many a call (binding.ts list()): a leaf directory (a link count of 2) is not even opened, and no
 * object is made per entry; readdirSync's Dirent per entry cost the agent 0.48 s of CPU before arming
 * 20,000 directories of 200,000 files, on the path of every start.
 */
export async function countDirectories(tree: TreeToCount): Promise<number> {
  const root = Buffer.isBuffer(tree.root) ? tree.root : Buffer.from(tree.root);
  const rootPrefix = root[root.length - 1] === 0x2f ? root : Buffer.concat([root, SLASH]);
  // The root with every kind: a listing of directories only skips a leaf unopened, which would hide an unreadable root.
  const top = listDirectories(Buffer.concat([rootPrefix, NUL]), ENTRY.directory | ENTRY.other);
  if (top.results[0] !== 0) {
    const code = syscallError(top.results[0]!, 'scandir', root).code;
    throw new InosyncError(`cannot list ${root.toString()}: ${code}`, 'Give an existing directory this user can read.');
  }
  let count = 1;
  const pending: Buffer[] = [];
  const addChildren = (relative: Buffer, records: Buffer, offset: number): number => {
    for (; records[offset] !== 0; offset++) {
      const end = records.indexOf(0, offset + 1);
      if (records[offset] === ENTRY.directory) {
        const name = records.subarray(offset + 1, end);
        const child = relative.length === 0 ? Buffer.from(name) : Buffer.concat([relative, SLASH, name]);
        if (tree.exclude?.(child, true) !== true) pending.push(child);
      }
      offset = end;
    }
    return offset + 1;
  };
  addChildren(Buffer.alloc(0), top.records, 0);
  while (pending.length > 0) {
    const batch = pending.splice(Math.max(0, pending.length - BATCH));
    const { results, records } = listDirectories(Buffer.concat(batch.flatMap((dir) => [rootPrefix, dir, NUL])), ENTRY.directory);
    let offset = 0;
    batch.forEach((dir, i) => {
      // Gone meanwhile: skipped; unreadable: it still needs its watch.
      if (results[i] === 0 || results[i] === constants.errno.EACCES) count += 1;
      offset = addChildren(dir, records, offset);
    });
  }
  return count;
}

const NUL = Buffer.alloc(1);
