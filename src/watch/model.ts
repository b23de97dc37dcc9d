// The watch tree's model: watched directories as nodes {parent, name as bytes}, found by wd. Paths are built
// on demand (and cached until a rename relinks the node or one of its ancestors).
//
// Listings run ahead of the event queue: a listing shows the disk as it is now, while queued events tell what
// happened a moment ago. When a listing finds another directory under a name than the model holds, the old
// one is not dropped (its watch and its pending events are real) but kept as a past occupant of that name:
// the queued events that name it (MOVED_FROM, DELETE) refer to it, first in, first out.

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
  /** Past occupants of a name, pushed aside by a listing that found another directory there. */
  past?: Map<string, WatchNode[]>;
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
    for (const list of n.past?.values() ?? []) stack.push(...list);
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

  /**
   * The node that queued events naming parent/name refer to: its oldest past occupant, else the current one.
   * A past occupant is taken out of the list (the caller relinks, detaches or unwatches it).
   */
  takePast(parent: WatchNode, name: Buffer): WatchNode | undefined {
    const list = parent.past?.get(key(name));
    const first = list?.shift();
    if (list?.length === 0) parent.past?.delete(key(name));
    return first ?? parent.children.get(key(name));
  }

  /** A newly watched directory found at parent/name now (a live node recorded there becomes a past occupant). */
  add(wd: number, root: WatchRoot, parent: WatchNode | undefined, name: Buffer, isDir: boolean): WatchNode {
    const node: WatchNode = { wd, root, parent: undefined, name, isDir, children: new Map(), live: true };
    this.byWd.set(wd, node);
    this.live++;
    if (parent) this.place(node, parent, name);
    return node;
  }

  /**
   * Moves a node (and its subtree) to parent/name as what is there now; a live node recorded there becomes a
   * past occupant. Revives a detached node.
   */
  place(node: WatchNode, parent: WatchNode, name: Buffer): void {
    this.unlink(node);
    const occupant = parent.children.get(key(name));
    if (occupant && occupant !== node && occupant.live) this.pushPast(parent, name, occupant);
    this.link(node, parent, name, (n) => parent.children.set(key(name), n));
  }

  /** True when `node` is `other` or one of its ancestors (placing it under `other` would make a loop). */
  isAncestor(node: WatchNode, other: WatchNode): boolean {
    for (let n: WatchNode | undefined = other; n !== undefined; n = n.parent) if (n === node) return true;
    return false;
  }

  /** Moves a node to parent/name as it was a moment ago: behind whatever is recorded there now. */
  placeAsPast(node: WatchNode, parent: WatchNode, name: Buffer): void {
    this.unlink(node);
    const occupant = parent.children.get(key(name));
    if (occupant && occupant !== node && occupant.live) this.link(node, parent, name, (n) => this.pushPast(parent, name, n));
    else this.link(node, parent, name, (n) => parent.children.set(key(name), n));
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
    delete node.past;
    return all;
  }

  /** The kernel no longer knows the wd. */
  forget(node: WatchNode): void {
    if (this.byWd.get(node.wd) === node) this.byWd.delete(node.wd);
  }

  clear(): void {
    this.byWd.clear();
    this.live = 0;
  }

  private link(node: WatchNode, parent: WatchNode, name: Buffer, put: (node: WatchNode) => void): void {
    node.parent = parent;
    node.name = name;
    put(node);
    for (const n of subtree(node)) delete n.rel;
    if (!node.live) {
      node.live = true;
      this.live++;
    }
  }

  private pushPast(parent: WatchNode, name: Buffer, node: WatchNode): void {
    parent.past ??= new Map();
    const list = parent.past.get(key(name));
    if (list) list.push(node);
    else parent.past.set(key(name), [node]);
  }

  private unlink(node: WatchNode): void {
    const { parent } = node;
    if (!parent) return;
    const k = key(node.name);
    if (parent.children.get(k) === node) parent.children.delete(k);
    const list = parent.past?.get(k);
    const at = list?.indexOf(node) ?? -1;
    if (list && at >= 0) {
      list.splice(at, 1);
      if (list.length === 0) parent.past?.delete(k);
    }
  }
}
