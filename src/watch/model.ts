// The watch tree's model: watched directories as nodes {parent, name}, found by wd. Paths are built on demand
// (and cached until a rename relinks the node or one of its ancestors). Names and cached paths are kept as
// latin1 strings, one char per byte (exact, and far lighter than a Buffer each); they leave as Buffers.
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
  /** `path` in latin1 form. */
  pathText: Latin1;
  node?: WatchNode;
  gone: boolean;
  /**
   * A symlink to a directory, given without a trailing slash and watched without recursion: inotifywait's %w
   * shows it as given, with no slash added (it tells directories by lstat).
   */
  shownBare?: boolean;
}

/** A name or path as bytes, in the model's latin1 form. */
export type Latin1 = string;

export interface WatchNode {
  wd: number;
  root: WatchRoot;
  /** Undefined for a root's node. */
  parent: WatchNode | undefined;
  name: Latin1;
  /** False only for a root that is a file. */
  isDir: boolean;
  /** Made on the first child: most directories have no subdirectory. */
  children: Map<Latin1, WatchNode> | undefined;
  /** Past occupants of a name, pushed aside by a listing that found another directory there. */
  past: Map<Latin1, WatchNode[]> | undefined;
  /** False once detached (deleted, moved out, replaced): its events are dropped until IN_IGNORED. */
  live: boolean;
  /** Cached path relative to the root. */
  rel: Latin1 | undefined;
  /** Cached path as given, with a trailing slash, as bytes: every event in the directory carries it. */
  dirBytes: Buffer | undefined;
}

export const SLASH = 0x2f;
const SEPARATOR = Buffer.from('/');

export const latin1 = (bytes: Buffer): Latin1 => bytes.toString('latin1');
export const bytes = (text: Latin1): Buffer => Buffer.from(text, 'latin1');

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

/** Path relative to the node's root, in latin1 form. */
export function relativeText(node: WatchNode): Latin1 {
  if (node.parent === undefined) return '';
  if (node.rel === undefined) {
    const above = relativeText(node.parent);
    node.rel = above === '' ? node.name : `${above}/${node.name}`;
  }
  return node.rel;
}

/**
 * A node's path relative to its root, then `name`: one Buffer, since a change's path is made for every event
 * (joining the relative path's bytes and the name would make two).
 */
export function childPath(node: WatchNode, name: Buffer): Buffer {
  const rel = relativeText(node);
  if (rel === '') return name;
  if (name.length === 0) return bytes(rel);
  // Byte by byte: for paths of a few dozen bytes, Buffer's write() and copy() cost more in their checks and call
  // into C++ than the copying (a burst's ingest: 280 ms instead of 375).
  const path = Buffer.allocUnsafe(rel.length + 1 + name.length);
  for (let i = 0; i < rel.length; i++) path[i] = rel.charCodeAt(i);
  path[rel.length] = SLASH;
  for (let i = 0, at = rel.length + 1; i < name.length; i++, at++) path[at] = name[i] as number;
  return path;
}

/** Path as the root was given, followed by the relative path, in latin1 form. */
export function absoluteText(node: WatchNode): Latin1 {
  return joinText(node.root.pathText, relativeText(node));
}

/**
 * The path of a watched directory as events give it (inotifywait's %w): as the root was given, with a
 * trailing slash. One Buffer per directory, made on its first event and shared by the next ones until a
 * rename relinks it: a burst in one directory would otherwise make one per event.
 */
export function eventDir(node: WatchNode): Buffer {
  node.dirBytes ??= node.parent === undefined && node.root.shownBare === true ? node.root.path : bytes(`${absoluteText(node)}/`);
  return node.dirBytes;
}

/** Path as the root was given, followed by the relative path. */
export function absolutePath(node: WatchNode): Buffer {
  return node.parent === undefined ? node.root.path : bytes(absoluteText(node));
}

/** a/b in latin1 form; either side may be empty. */
export function joinText(a: Latin1, b: Latin1): Latin1 {
  return b === '' ? a : dirPrefix(a) + b;
}

/** What a name is joined to, to make a path under directory `a` (itself if empty or ending in a slash). */
export function dirPrefix(a: Latin1): Latin1 {
  return a === '' || a.endsWith('/') ? a : `${a}/`;
}

export function subtree(node: WatchNode): WatchNode[] {
  const all: WatchNode[] = [];
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop() as WatchNode;
    all.push(n);
    for (const child of n.children?.values() ?? []) stack.push(child);
    for (const list of n.past?.values() ?? []) stack.push(...list);
  }
  return all;
}

export class WatchModel {
  /**
   * By wd, an array, not a Map: wds are small integers the kernel hands out in rising order, and a walk sets one
   * per directory (a replayed 20,000-directory walk: 33-36 ms of JavaScript instead of 39). Wds grow without
   * reuse until they wrap at INT_MAX; a sparse array becomes a dictionary, hence Object.values in nodes(),
   * never a scan up to its length.
   */
  private readonly byWd: Array<WatchNode | undefined> = [];
  private live = 0;

  /** Watched directories (and file roots) in the tree now. */
  get liveCount(): number {
    return this.live;
  }

  get(wd: number): WatchNode | undefined {
    return this.byWd[wd];
  }

  child(parent: WatchNode, name: Latin1): WatchNode | undefined {
    return parent.children?.get(name);
  }

  /** True when the node is recorded under parent/name (now, or as a past occupant). */
  isNamed(node: WatchNode, parent: WatchNode, name: Latin1): boolean {
    return node.parent === parent && node.name === name;
  }

  nodes(): WatchNode[] {
    return Object.values(this.byWd) as WatchNode[];
  }

  /**
   * The node that queued events naming parent/name refer to: its oldest past occupant, else the current one.
   * A past occupant is taken out of the list (the caller relinks, detaches or unwatches it).
   */
  takePast(parent: WatchNode, name: Latin1): WatchNode | undefined {
    const list = parent.past?.get(name);
    const first = list?.shift();
    if (list?.length === 0) parent.past?.delete(name);
    return first ?? parent.children?.get(name);
  }

  /** A newly watched directory found at parent/name now (a live node recorded there becomes a past occupant). */
  add(wd: number, root: WatchRoot, parent: WatchNode | undefined, name: Latin1, isDir: boolean): WatchNode {
    const node: WatchNode = { wd, root, parent, name, isDir, children: undefined, past: undefined, live: true, rel: undefined, dirBytes: undefined };
    this.byWd[wd] = node;
    this.live++;
    if (parent) {
      const occupant = parent.children?.get(name);
      if (occupant?.live) this.pushPast(parent, name, occupant);
      (parent.children ??= new Map()).set(name, node);
    }
    return node;
  }

  /**
   * Moves a node (and its subtree) to parent/name as what is there now; a live node recorded there becomes a
   * past occupant. Revives a detached node.
   */
  place(node: WatchNode, parent: WatchNode, name: Latin1): void {
    this.unlink(node);
    const occupant = parent.children?.get(name);
    if (occupant && occupant !== node && occupant.live) this.pushPast(parent, name, occupant);
    this.link(node, parent, name, (n) => (parent.children ??= new Map()).set(name, n));
  }

  /** True when `node` is `other` or one of its ancestors (placing it under `other` would make a loop). */
  isAncestor(node: WatchNode, other: WatchNode): boolean {
    for (let n: WatchNode | undefined = other; n !== undefined; n = n.parent) if (n === node) return true;
    return false;
  }

  /** Moves a node to parent/name as it was a moment ago: behind whatever is recorded there now. */
  placeAsPast(node: WatchNode, parent: WatchNode, name: Latin1): void {
    this.unlink(node);
    const occupant = parent.children?.get(name);
    if (occupant && occupant !== node && occupant.live) this.link(node, parent, name, (n) => this.pushPast(parent, name, n));
    else this.link(node, parent, name, (n) => (parent.children ??= new Map()).set(name, n));
  }

  /** Unlinks a subtree from the tree; its wds stay known (events dropped) until forgotten on IN_IGNORED. */
  detach(node: WatchNode): WatchNode[] {
    this.unlink(node);
    const all = subtree(node);
    for (const n of all) {
      if (n.live) this.live--;
      n.live = false;
    }
    node.children = undefined;
    node.past = undefined;
    return all;
  }

  /** The kernel no longer knows the wd. */
  forget(node: WatchNode): void {
    // A hole, not an undefined entry: nodes() lists every entry there is.
    if (this.byWd[node.wd] === node) delete this.byWd[node.wd];
  }

  clear(): void {
    this.byWd.length = 0;
    this.live = 0;
  }

  private link(node: WatchNode, parent: WatchNode, name: Latin1, put: (node: WatchNode) => void): void {
    node.parent = parent;
    node.name = name;
    put(node);
    for (const n of subtree(node)) {
      n.rel = undefined;
      n.dirBytes = undefined;
      n.root = parent.root; // a move between overlapping roots
    }
    if (!node.live) {
      node.live = true;
      this.live++;
    }
  }

  private pushPast(parent: WatchNode, name: Latin1, node: WatchNode): void {
    parent.past ??= new Map();
    const list = parent.past.get(name);
    if (list) list.push(node);
    else parent.past.set(name, [node]);
  }

  private unlink(node: WatchNode): void {
    const { parent } = node;
    if (!parent) return;
    const k = node.name;
    if (parent.children?.get(k) === node) parent.children.delete(k);
    const list = parent.past?.get(k);
    const at = list?.indexOf(node) ?? -1;
    if (list && at >= 0) {
      list.splice(at, 1);
      if (list.length === 0) parent.past?.delete(k);
    }
  }
}
