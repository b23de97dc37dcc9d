// A set of paths to bring in line on a target, kept as a tree of path components so that a directory to
// send whole swallows everything below it in O(depth), and a renamed directory's pending paths can follow it.
// Paths are bytes relative to the source root ('' is the root itself); components are keyed as latin1
// strings, which map bytes to code units one to one, so any file name survives the round trip.

/**
 * 'path': bring this one entry in line (send it if it exists on the source, delete it on the target if not).
 * 'tree': send it whole, recursively, deleting on the target what the source no longer has below it.
 */
export type Mark = 'path' | 'tree';

interface Node {
  mark: Mark | undefined;
  children: Map<string, Node> | undefined;
  /** Marks in this subtree, this node's own included. */
  count: number;
}

export interface MarkedPath {
  path: Buffer;
  mark: Mark;
}

const SLASH = 0x2f;

function newNode(): Node {
  return { mark: undefined, children: undefined, count: 0 };
}

/** Splits a relative path into components, ignoring empty ones ('a//b/' is 'a', 'b'). */
export function components(path: Buffer): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      if (i > start) parts.push(path.toString('latin1', start, i));
      start = i + 1;
    }
  }
  return parts;
}

function cloneNode(node: Node): Node {
  const copy: Node = { mark: node.mark, children: undefined, count: node.count };
  if (node.children) {
    copy.children = new Map();
    for (const [name, child] of node.children) copy.children.set(name, cloneNode(child));
  }
  return copy;
}

/**
 * Adds `source`'s marks to `target` (the same place in two sets), as add() would one by one: a tree covers
 * what is below it, a path mark on a path mark is one. Returns how many marks `target`'s subtree gained.
 */
function mergeNode(target: Node, source: Node): number {
  if (target.mark === 'tree') return 0;
  if (source.mark === 'tree') {
    const delta = 1 - target.count;
    target.mark = 'tree';
    target.children = undefined;
    target.count = 1;
    return delta;
  }
  let delta = 0;
  if (source.mark === 'path' && target.mark === undefined) {
    target.mark = 'path';
    delta += 1;
  }
  if (source.children) {
    target.children ??= new Map();
    for (const [name, child] of source.children) {
      let into = target.children.get(name);
      if (!into) {
        into = newNode();
        target.children.set(name, into);
      }
      delta += mergeNode(into, child);
    }
  }
  target.count += delta;
  return delta;
}

export class PathSet {
  private root: Node = newNode();

  /** Number of marks held. */
  get size(): number {
    return this.root.count;
  }

  /** Adds a mark; returns false when an ancestor (or the path itself) is already a tree, which covers it. */
  add(path: Buffer, mark: Mark): boolean {
    const place = this.place(components(path));
    if (place === undefined || place.node.mark === 'tree' || (place.node.mark === 'path' && mark === 'path')) return false;
    const delta = mergeNode(place.node, { mark, children: undefined, count: 1 });
    for (const ancestor of place.trail) ancestor.count += delta;
    return true;
  }

  /** True when the path, or a directory above it, is marked to be sent whole. */
  coveredByTree(path: Buffer): boolean {
    let node: Node | undefined = this.root;
    for (const part of components(path)) {
      if (node.mark === 'tree') return true;
      node = node.children?.get(part);
      if (!node) return false;
    }
    return node.mark === 'tree';
  }

  /** True when a directory above the path (the root included) holds a mark of its own: a change not yet sent. */
  markedAbove(path: Buffer): boolean {
    const parts = components(path);
    if (parts.length === 0) return false;
    let node: Node | undefined = this.root;
    for (const part of parts.slice(0, -1)) {
      if (node.mark !== undefined) return true;
      node = node.children?.get(part);
      if (!node) return false;
    }
    return node.mark !== undefined;
  }

  /** The mark on exactly this path, if any. */
  markOf(path: Buffer): Mark | undefined {
    return this.find(components(path))?.mark;
  }

  /** Drops the mark on exactly this path (not its descendants); returns whether there was one. */
  unmark(path: Buffer): boolean {
    const parts = components(path);
    const trail = this.trail(parts);
    if (!trail) return false;
    const node = trail[trail.length - 1]!;
    if (node.mark === undefined) return false;
    node.mark = undefined;
    for (const n of trail) n.count -= 1;
    this.prune(parts, trail);
    return true;
  }

  /** Removes and returns everything marked at or below `path`, as a set rooted at `path`. */
  detach(path: Buffer): PathSet {
    const parts = components(path);
    const taken = new PathSet();
    if (parts.length === 0) {
      taken.root = this.root;
      this.root = newNode();
      return taken;
    }
    const trail = this.trail(parts);
    if (!trail) return taken;
    const node = trail[trail.length - 1]!;
    const parent = trail[trail.length - 2]!;
    parent.children!.delete(parts[parts.length - 1]!);
    for (const n of trail.slice(0, -1)) n.count -= node.count;
    this.prune(parts.slice(0, -1), trail.slice(0, -1));
    taken.root = node;
    return taken;
  }

  /** A copy of what is marked at or below `path`, as a set rooted at `path`. */
  copyAt(path: Buffer): PathSet {
    const copy = new PathSet();
    const node = this.find(components(path));
    if (node) copy.root = cloneNode(node);
    return copy;
  }

  /**
   * Merges `other` into this set with its root placed at `at` (default: this set's root), node by node:
   * what it holds is copied, never shared, and no path is spelled out (a storm's sets hold thousands).
   */
  merge(other: PathSet, at: Buffer = Buffer.alloc(0)): void {
    if (other.root.count === 0) return;
    const place = this.place(components(at));
    if (place === undefined) return;
    const delta = mergeNode(place.node, other.root);
    for (const ancestor of place.trail) ancestor.count += delta;
  }

  clear(): void {
    this.root = newNode();
  }

  /** Every mark, parents before children. */
  entries(): MarkedPath[] {
    const out: MarkedPath[] = [];
    for (const { path, mark } of this.walk()) out.push({ path: Buffer.from(path, 'latin1'), mark });
    return out;
  }

  /**
   * Directories (the root included) with at least `min` children marked 'path' that have nothing marked
   * below them, each with how many: what a storm of new or rewritten files looks like.
   */
  crowdedDirectories(min: number): Array<{ path: Buffer; marked: number }> {
    const found: Array<{ path: Buffer; marked: number }> = [];
    const stack: Array<{ node: Node; parts: string[] }> = [{ node: this.root, parts: [] }];
    while (stack.length > 0) {
      const { node, parts } = stack.pop()!;
      if (node.mark === 'tree' || !node.children) continue;
      let marked = 0;
      for (const [name, child] of node.children) {
        if (child.mark === 'path' && !child.children) marked++;
        else stack.push({ node: child, parts: [...parts, name] });
      }
      if (marked >= min) found.push({ path: Buffer.from(parts.join('/'), 'latin1'), marked });
    }
    return found;
  }

  /** The marked paths split the way the transport takes them. */
  toBatch(): { paths: Buffer[]; trees: Buffer[] } {
    const paths: Buffer[] = [];
    const trees: Buffer[] = [];
    // From the walk itself, not entries(): a storm's batch is 10,000 paths, and a wrapper object each.
    for (const { path, mark } of this.walk()) (mark === 'tree' ? trees : paths).push(Buffer.from(path, 'latin1'));
    return { paths, trees };
  }

  /** Every mark with its path (latin1, '/'-joined), parents before children. */
  private *walk(): Generator<{ path: string; mark: Mark }> {
    const stack: Array<{ node: Node; path: string }> = [{ node: this.root, path: '' }];
    while (stack.length > 0) {
      const { node, path } = stack.pop()!;
      if (node.mark) yield { path, mark: node.mark };
      if (node.children) for (const [name, child] of node.children) stack.push({ node: child, path: path === '' ? name : `${path}/${name}` });
    }
  }

  /**
   * The node at `parts`, made where missing, and the nodes above it from the root down; undefined when a
   * directory above it is a tree (which covers it).
   */
  private place(parts: string[]): { node: Node; trail: Node[] } | undefined {
    const trail: Node[] = [];
    let node = this.root;
    for (const part of parts) {
      if (node.mark === 'tree') return undefined;
      trail.push(node);
      node.children ??= new Map();
      let child = node.children.get(part);
      if (!child) {
        child = newNode();
        node.children.set(part, child);
      }
      node = child;
    }
    return { node, trail };
  }

  private find(parts: string[]): Node | undefined {
    let node: Node | undefined = this.root;
    for (const part of parts) {
      node = node.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /** The nodes from the root down to `parts`, or undefined when the path holds nothing. */
  private trail(parts: string[]): Node[] | undefined {
    const trail: Node[] = [this.root];
    let node = this.root;
    for (const part of parts) {
      const child = node.children?.get(part);
      if (!child) return undefined;
      trail.push(child);
      node = child;
    }
    return trail;
  }

  /** Drops nodes left holding no mark, from the bottom of the trail up. */
  private prune(parts: string[], trail: Node[]): void {
    for (let i = parts.length; i > 0; i--) {
      const node = trail[i]!;
      if (node.count > 0) return;
      trail[i - 1]!.children!.delete(parts[i - 1]!);
    }
  }
}
