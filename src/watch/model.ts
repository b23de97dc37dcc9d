// The watch tree's model: watched directories as nodes {parent, name as bytes}, found by wd. Paths are built
// on demand (and cached until a rename relinks the node or one of its ancestors).

export interface WatchRoot {
  /** As the caller gave it. */
  given: Buffer;
  /** Without trailing slashes. */
  path: Buffer;
  node?: WatchNode;
  gone: boolean;
}

export interface WatchNode {
  wd: number;
  root: WatchRoot;
  /** Undefined for a root's node. */
  parent: WatchNode | undefined;
  name: Buffer;
  /** False only for a root that is a file. */
  isDir: boolean;
  children: Map<string, WatchNode>;
  /** False once detached (deleted, moved out, replaced): its events are dropped until IN_IGNORED. */
  live: boolean;
  /** Cached path relative to the root. */
  rel?: Buffer;
}

const SLASH = 0x2f;
const SEPARATOR = Buffer.from('/');
const EMPTY = Buffer.alloc(0);

/** Name as a map key: latin1 maps every byte to one char, so distinct byte names stay distinct. */
const key = (name: Buffer): string => name.toString('latin1');

/** a/b as bytes; either side may be empty. */
export function joinPath(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return a[a.length - 1] === SLASH ? Buffer.concat([a, b]) : Buffer.concat([a, SEPARATOR, b]);
}

export function trimSlashes(path: Buffer): Buffer {
  let end = path.length;
  while (end > 1 && path[end - 1] === SLASH) end--;
  return path.subarray(0, end);
}

/** Path relative to the node's root, empty for the root itself. */
export function relativePath(node: WatchNode): Buffer {
  if (node.parent === undefined) return EMPTY;
  node.rel ??= joinPath(relativePath(node.parent), node.name);
  return node.rel;
}

/** Path as the root was given, followed by the relative path. */
export function absolutePath(node: WatchNode): Buffer {
  return joinPath(node.root.path, relativePath(node));
}

export function subtree(node: WatchNode): WatchNode[] {
  const all: WatchNode[] = [];
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop() as WatchNode;
    all.push(n);
    for (const child of n.children.values()) stack.push(child);
  }
  return all;
}

export class WatchModel {
  private readonly byWd = new Map<number, WatchNode>();
  private live = 0;

  /** Watched directories (and file roots) in the tree now. */
  get liveCount(): number {
    return this.live;
  }

  get(wd: number): WatchNode | undefined {
    return this.byWd.get(wd);
  }

  child(parent: WatchNode, name: Buffer): WatchNode | undefined {
    return parent.children.get(key(name));
  }

  nodes(): WatchNode[] {
    return [...this.byWd.values()];
  }

  /** A newly watched directory at parent/name (whatever was recorded there before is detached). */
  add(wd: number, root: WatchRoot, parent: WatchNode | undefined, name: Buffer, isDir: boolean): WatchNode {
    const node: WatchNode = { wd, root, parent, name, isDir, children: new Map(), live: true };
    if (parent) this.detachChild(parent, name);
    this.byWd.set(wd, node);
    parent?.children.set(key(name), node);
    this.live++;
    return node;
  }

  /** Moves a node (and its subtree) to parent/name, replacing what was there; revives it if detached. */
  relink(node: WatchNode, parent: WatchNode, name: Buffer): void {
    this.unlink(node);
    this.detachChild(parent, name);
    node.parent = parent;
    node.name = name;
    parent.children.set(key(name), node);
    for (const n of subtree(node)) delete n.rel;
    if (!node.live) {
      node.live = true;
      this.live++;
    }
  }

  /** Unlinks a subtree from the tree; its wds stay known (events dropped) until forgotten on IN_IGNORED. */
  detach(node: WatchNode): WatchNode[] {
    this.unlink(node);
    const all = subtree(node);
    for (const n of all) {
      if (n.live) this.live--;
      n.live = false;
    }
    node.children.clear();
    return all;
  }

  detachChild(parent: WatchNode, name: Buffer): void {
    const child = parent.children.get(key(name));
    if (child) this.detach(child);
  }

  /** The kernel no longer knows the wd. */
  forget(node: WatchNode): void {
    if (this.byWd.get(node.wd) === node) this.byWd.delete(node.wd);
  }

  clear(): void {
    this.byWd.clear();
    this.live = 0;
  }

  private unlink(node: WatchNode): void {
    const { parent } = node;
    if (parent && parent.children.get(key(node.name)) === node) parent.children.delete(key(node.name));
  }
}
