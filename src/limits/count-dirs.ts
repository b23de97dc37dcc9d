// How many watches a tree needs: one per directory, symlinks not followed, excluded directories pruned.
import { readdirSync } from 'node:fs';
import { InosyncError } from '../errors.js';
import type { ExcludeFn } from '../watch/types.js';

export interface TreeToCount {
  root: string | Buffer;
  exclude?: ExcludeFn;
}

const SLASH = Buffer.from('/');

/**
 * Directories under `tree.root`, the root included. A directory that vanishes meanwhile is skipped; one
 * that cannot be read still needs its watch. The walk is synchronous on purpose: it runs before watches
 * are armed, and Node's thread pool makes an asynchronous walk about three times slower.
 */
export async function countDirectories(tree: TreeToCount): Promise<number> {
  const root = Buffer.isBuffer(tree.root) ? tree.root : Buffer.from(tree.root);
  const rootPrefix = root[root.length - 1] === 0x2f ? root : Buffer.concat([root, SLASH]);
  let count = 0;
  const pending: Buffer[] = [Buffer.alloc(0)]; // paths relative to the root
  while (pending.length > 0) {
    const relative = pending.pop() as Buffer;
    let entries;
    try {
      entries = readdirSync(Buffer.concat([rootPrefix, relative]), { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (relative.length === 0) {
        throw new InosyncError(`cannot list ${root.toString()}: ${code ?? String(error)}`, 'Give an existing directory this user can read.', { cause: error });
      }
      if (code === 'EACCES') count += 1;
      continue;
    }
    count += 1;
    for (const entry of entries) {
      if (!entry.isDirectory()) continue; // a symlink to a directory is not a directory here
      const child = relative.length === 0 ? entry.name : Buffer.concat([relative, SLASH, entry.name]);
      if (tree.exclude?.(child, true)) continue;
      pending.push(child);
    }
  }
  return count;
}
