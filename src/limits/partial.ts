// When a tree needs more watches than are left: which subtrees to leave unwatched (covered by periodic full
// syncs instead) so that the rest fits, leaving out as few directories as it can.
import { readdir } from 'node:fs/promises';
import type { TreeToCount } from './count-dirs.js';

export interface UnwatchedPlan {
  /** Subtree roots, relative to the tree root, none inside another. */
  subtrees: Buffer[];
  /** Directories they hold (the watches saved). */
  directories: number;
}

interface Node {
  path: Buffer;
  size: number;
  children: Node[];
}

const SLASH = Buffer.from('/');

/** The tree's directories with their subtree sizes; vanished or unreadable directories count as leaves. */
async function sizeTree(tree: TreeToCount): Promise<Node> {
  const root = Buffer.isBuffer(tree.root) ? tree.root : Buffer.from(tree.root);
  const prefix = Buffer.concat([root, SLASH]);
  const visit = async (path: Buffer): Promise<Node> => {
    const node: Node = { path, size: 1, children: [] };
    let entries;
    try {
      entries = await readdir(Buffer.concat([prefix, path]), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return node;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const child = path.length === 0 ? entry.name : Buffer.concat([path, SLASH, entry.name]);
      if (tree.exclude?.(child, true)) continue;
      node.children.push(await visit(child));
    }
    node.size += node.children.reduce((sum, c) => sum + c.size, 0);
    return node;
  };
  return visit(Buffer.alloc(0));
}

/**
 * Subtrees to leave unwatched so that at least `save` watches are saved: each round takes the smallest
 * subtree that covers what is still missing, or, when none does, the largest one and goes on. The root is
 * never left out: when everything below it is not enough, that is what is returned.
 */
export async function chooseUnwatched(tree: TreeToCount, save: number): Promise<UnwatchedPlan> {
  const root = await sizeTree(tree);
  // Not enough below the root: leave all of it out, and let the caller find the rest elsewhere.
  if (root.size - 1 <= save) return { subtrees: root.children.map((c) => c.path), directories: root.size - 1 };
  const candidates: Node[] = [];
  const collect = (node: Node): void => {
    for (const child of node.children) {
      candidates.push(child);
      collect(child);
    }
  };
  collect(root);
  const taken: Node[] = [];
  const inside = (node: Node, outer: Node): boolean =>
    node.path.length > outer.path.length && node.path[outer.path.length] === 0x2f && node.path.subarray(0, outer.path.length).equals(outer.path);
  let missing = save;
  while (missing > 0) {
    const free = candidates.filter((c) => !taken.some((t) => c === t || inside(c, t) || inside(t, c)));
    if (free.length === 0) break;
    const covering = free.filter((c) => c.size >= missing).sort((a, b) => a.size - b.size)[0];
    const pick = covering ?? free.reduce((a, b) => (b.size > a.size ? b : a));
    taken.push(pick);
    missing -= pick.size;
  }
  return { subtrees: taken.map((t) => t.path), directories: taken.reduce((sum, t) => sum + t.size, 0) };
}
