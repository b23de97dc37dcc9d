// How many watches a tree needs: one per directory, symlinks not followed, excluded directories pruned.
import { readdir } from 'node:fs/promises';
import { InosyncError } from '../errors.js';
import type { ExcludeFn } from '../watch/types.js';

export interface TreeToCount {
  root: string | Buffer;
  exclude?: ExcludeFn;
}

const SLASH = Buffer.from('/');
/** Directory listings in flight at once: enough to hide latency, few enough to spare the fd table. */
const PARALLEL_LISTINGS = 16;

function join(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SLASH, name]);
}

/** Directories under `tree.root`, the root included. A directory that vanishes meanwhile is skipped. */
export async function countDirectories(tree: TreeToCount): Promise<number> {
  const root = Buffer.isBuffer(tree.root) ? tree.root : Buffer.from(tree.root);
  const rootPrefix = root[root.length - 1] === 0x2f ? root : Buffer.concat([root, SLASH]);
  let count = 0;
  const pending: Buffer[] = [Buffer.alloc(0)]; // paths relative to the root
  const list = async (relative: Buffer): Promise<void> => {
    let entries;
    try {
      entries = await readdir(Buffer.concat([rootPrefix, relative]), { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (relative.length === 0) {
        throw new InosyncError(`cannot list ${root.toString()}: ${code ?? String(error)}`, 'Give an existing directory this user can read.', { cause: error });
      }
      // ENOENT/ENOTDIR: gone meanwhile. EACCES: still needs its watch, but its insides cannot be seen.
      if (code === 'EACCES') count += 1;
      return;
    }
    count += 1;
    for (const entry of entries) {
      if (!entry.isDirectory()) continue; // a symlink to a directory is not a directory here
      const child = join(relative, entry.name);
      if (tree.exclude?.(child, true)) continue;
      pending.push(child);
    }
  };
  const running = new Set<Promise<void>>();
  while (pending.length > 0 || running.size > 0) {
    while (pending.length > 0 && running.size < PARALLEL_LISTINGS) {
      const job = list(pending.pop() as Buffer).finally(() => running.delete(job));
      running.add(job);
    }
    await Promise.race(running);
  }
  return count;
}
