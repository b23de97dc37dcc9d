// The watch tree's model: watched directories as nodes {parent, name}, found by wd. Paths are built on demand
// (and cached until a rename relinks a node). Names are bytes; a name or path is handed out in latin1 form,
// one char per byte (exact, and lighter than a Buffer each), and leaves the tree as Buffers.
//
// Nodes are small integers (ids) into columns of typed arrays, not objects: a tree of 100,000 directories
// held 168 bytes of heap a directory as objects, a name string each and a Map per parent; columns, names as
// bytes in one buffer and two open-addressing tables of ids (wd -> node, (parent, name) -> node) hold about
// a third of that, outside the collected heap. The id of a forgotten node is used again for the next new one.
//
// Listings run ahead of the event queue: a listing shows the disk as it is now, while queued events tell what
// happened a moment ago. When a listing finds another directory under a name than the model holds, the old
// one is not dropped (its watch and its pending events are real) but kept as a past occupant of that name:
// the queued events that name it (MOVED_FROM, DELETE) refer to it, first in, first out.
import { grown, GROWTH } from './columns.js';
import { IdTable } from './id-table.js';

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

/** A watched directory (or file root): an id of the model that made it, never 0 (so always truthy). */
export type WatchNode = number & { readonly watchNode: unique symbol };

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

/** a/b in latin1 form; either side may be empty. */
export function joinText(a: Latin1, b: Latin1): Latin1 {
  return b === '' ? a : dirPrefix(a) + b;
}

/** What a name is joined to, to make a path under directory `a` (itself if empty or ending in a slash). */
export function dirPrefix(a: Latin1): Latin1 {
  return a === '' || a.endsWith('/') ? a : `${a}/`;
}

const USED = 1;
const LIVE = 2;
const DIR = 4;
/** In its parent's list of children (as what is there now, or as a past occupant). */
const LINKED = 8;
/** A past occupant of its name (see the header): in the list of children, not in the table of names. */
const PAST = 16;

/** Nodes in the first columns: pages are given to the entries used only (see columns.ts). */
const FIRST_CAPACITY = 2 ** 17;
/** Bytes of names (and their lengths) a node reserves in the buffer of names. */
const NAME_BYTES = 16;
/** Cached paths (relative, and as events show them) kept at most: the directories events come from now. */
const PATH_CACHE = 4096;

const wdHash = (wd: number): number => Math.imul(wd, 0x9e3779b1);

/**
 * Mixed into every name's hash, drawn anew by each process: names come from whoever may write to the source,
 * and a fixed hash would let them make thousands of directories whose names share a slot, each new one then
 * probing past all the others (V8's own Maps are seeded likewise).
 */
const NAME_SEED = (Math.random() * 2 ** 32) | 0;

/** Where a name's FNV-1a starts: the process's seed and the parent's id. */
const nameHashStart = (parent: number): number => Math.imul(parent ^ NAME_SEED ^ 0x811c9dc5, 0x01000193);

/** FNV-1a of a name's chars (bytes), from nameHashStart. */
export function nameHash(parent: number, name: Latin1): number {
  let h = nameHashStart(parent);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h;
}

export class WatchModel {
  private flags = new Uint8Array(FIRST_CAPACITY);
  private wds = new Int32Array(FIRST_CAPACITY);
  private parents = new Int32Array(FIRST_CAPACITY);
  private rootOf = new Int32Array(FIRST_CAPACITY);
  /** Where the node's name starts in `names`: two bytes of length (little-endian), then the bytes. */
  private nameAt = new Int32Array(FIRST_CAPACITY);
  /** Children as a doubly linked list: a node's first child, and each child's siblings. */
  private first = new Int32Array(FIRST_CAPACITY);
  private next = new Int32Array(FIRST_CAPACITY);
  private prev = new Int32Array(FIRST_CAPACITY);
  /** Ids handed out so far; id 0 is none. */
  private top = 0;
  private readonly free: number[] = [];
  private names = new Uint8Array(NAME_BYTES * FIRST_CAPACITY);
  private namesEnd = 0;
  /** Bytes of `names` no node uses any more (renamed, forgotten): compacted once they are half. */
  private namesWasted = 0;
  private readonly roots: WatchRoot[] = [];
  private readonly byWd = new IdTable((id) => wdHash(this.wds[id] as number));
  private readonly hasWd = (id: number, wd: number): boolean => this.wds[id] === wd;
  /** Children by name: only what is there now, not past occupants. */
  private readonly byName = new IdTable((id) => this.storedNameHash(id));
  /** The parent of the name `hasName` looks for. */
  private lookingUnder = 0;
  private readonly hasName = (id: number, name: Latin1): boolean => this.parents[id] === this.lookingUnder && this.nameIs(id, name);
  /** Past occupants by parent and name, oldest first: rare (a listing ahead of a rename), so a plain Map. */
  private readonly pastOf = new Map<string, WatchNode[]>();
  private readonly relCache = new Map<WatchNode, Latin1>();
  private readonly dirCache = new Map<WatchNode, Buffer>();
  private live = 0;
  /** Called when a node is forgotten, before its id may be used again. */
  onForget: (node: WatchNode) => void = () => {};

  /** Watched directories (and file roots) in the tree now. */
  get liveCount(): number {
    return this.live;
  }

  get(wd: number): WatchNode | undefined {
    const id = this.byWd.find(wdHash(wd), wd, this.hasWd);
    return id === 0 ? undefined : (id as WatchNode);
  }

  wd(node: WatchNode): number {
    return this.wds[node] as number;
  }

  /** Undefined for a root's node. */
  parent(node: WatchNode): WatchNode | undefined {
    const p = this.parents[node] as number;
    return p === 0 ? undefined : (p as WatchNode);
  }

  root(node: WatchNode): WatchRoot {
    return this.roots[this.rootOf[node] as number] as WatchRoot;
  }

  /** False only for a root that is a file. */
  isDir(node: WatchNode): boolean {
    return ((this.flags[node] as number) & DIR) !== 0;
  }

  /** False once detached (deleted, moved out, replaced): its events are dropped until IN_IGNORED. */
  isLive(node: WatchNode): boolean {
    return ((this.flags[node] as number) & LIVE) !== 0;
  }

  name(node: WatchNode): Latin1 {
    const at = this.nameAt[node] as number;
    return String.fromCharCode(...this.names.subarray(at + 2, at + 2 + this.nameLength(at)));
  }

  child(parent: WatchNode, name: Latin1): WatchNode | undefined {
    return this.childByHash(parent, name, nameHash(parent, name));
  }

  private childByHash(parent: WatchNode, name: Latin1, hash: number): WatchNode | undefined {
    this.lookingUnder = parent;
    const id = this.byName.find(hash, name, this.hasName);
    return id === 0 ? undefined : (id as WatchNode);
  }

  /** True when the node is recorded under parent/name (now, or as a past occupant). */
  isNamed(node: WatchNode, parent: WatchNode, name: Latin1): boolean {
    return this.parents[node] === parent && this.nameIs(node, name);
  }

  /** Every node the kernel may still know, in the order of their wds. */
  nodes(): WatchNode[] {
    const all: WatchNode[] = [];
    for (let id = 1; id <= this.top; id++) if ((this.flags[id] as number) & USED) all.push(id as WatchNode);
    return all.sort((a, b) => (this.wds[a] as number) - (this.wds[b] as number));
  }

  /** The node and every node below it, past occupants included. */
  subtree(node: WatchNode): WatchNode[] {
    const all: WatchNode[] = [];
    const stack = [node];
    while (stack.length > 0) {
      const n = stack.pop() as WatchNode;
      all.push(n);
      for (let c = this.first[n] as number; c !== 0; c = this.next[c] as number) stack.push(c as WatchNode);
    }
    return all;
  }

  /** The children of a node now (not its past occupants). */
  children(node: WatchNode): WatchNode[] {
    const all: WatchNode[] = [];
    for (let c = this.first[node] as number; c !== 0; c = this.next[c] as number) if (!((this.flags[c] as number) & PAST)) all.push(c as WatchNode);
    return all;
  }

  /**
   * The node that queued events naming parent/name refer to: its oldest past occupant, else the current one.
   * A past occupant is taken out of the list (the caller relinks, detaches or unwatches it).
   */
  takePast(parent: WatchNode, name: Latin1): WatchNode | undefined {
    const list = this.pastOf.get(pastKey(parent, name));
    const oldest = list?.[0];
    if (oldest === undefined) return this.child(parent, name);
    this.unlink(oldest);
    return oldest;
  }

  /** A newly watched directory found at parent/name now (a live node recorded there becomes a past occupant). */
  add(wd: number, root: WatchRoot, parent: WatchNode | undefined, name: Latin1, isDir: boolean): WatchNode {
    const node = this.newId();
    this.wds[node] = wd;
    let r = this.roots.indexOf(root);
    if (r < 0) r = this.roots.push(root) - 1;
    this.rootOf[node] = r;
    this.flags[node] = USED | LIVE | (isDir ? DIR : 0);
    const hash = this.setName(node, name, parent ?? 0);
    this.byWd.insert(node, wdHash(wd));
    this.live++;
    if (parent !== undefined) {
      const occupant = this.childByHash(parent, name, hash);
      if (occupant !== undefined && this.isLive(occupant)) this.pushPast(parent, occupant);
      else if (occupant !== undefined) this.unlink(occupant);
      this.link(node, parent, false, hash);
    }
    return node;
  }

  /**
   * Moves a node (and its subtree) to parent/name as what is there now; a live node recorded there becomes a
   * past occupant. Revives a detached node.
   */
  place(node: WatchNode, parent: WatchNode, name: Latin1): void {
    this.unlink(node);
    const occupant = this.child(parent, name);
    if (occupant !== undefined && occupant !== node) {
      if (this.isLive(occupant)) this.pushPast(parent, occupant);
      else this.unlink(occupant);
    }
    this.relink(node, parent, name, false);
  }

  /** True when `node` is `other` or one of its ancestors (placing it under `other` would make a loop). */
  isAncestor(node: WatchNode, other: WatchNode): boolean {
    for (let n: number = other; n !== 0; n = this.parents[n] as number) if (n === node) return true;
    return false;
  }

  /** Moves a node to parent/name as it was a moment ago: behind whatever is recorded there now. */
  placeAsPast(node: WatchNode, parent: WatchNode, name: Latin1): void {
    this.unlink(node);
    const occupant = this.child(parent, name);
    if (occupant !== undefined && occupant !== node && this.isLive(occupant)) this.relink(node, parent, name, true);
    else {
      if (occupant !== undefined) this.unlink(occupant);
      this.relink(node, parent, name, false);
    }
  }

  /** Unlinks a subtree from the tree; its wds stay known (events dropped) until forgotten on IN_IGNORED. */
  detach(node: WatchNode): WatchNode[] {
    this.unlink(node);
    const all = this.subtree(node);
    for (const n of all) {
      if (this.isLive(n)) this.live--;
      this.flags[n] = (this.flags[n] as number) & ~LIVE;
    }
    // Its children leave it (they keep theirs): a node revived here is listed again, as new.
    while (this.first[node] !== 0) this.unlink(this.first[node] as WatchNode);
    this.clearPaths();
    return all;
  }

  /** The kernel no longer knows the wd: the node goes, and its id may be used again. */
  forget(node: WatchNode): void {
    if (!((this.flags[node] as number) & USED)) return;
    this.onForget(node);
    this.byWd.remove(node, wdHash(this.wds[node] as number));
    this.unlink(node);
    while (this.first[node] !== 0) this.unlink(this.first[node] as WatchNode);
    if (this.isLive(node)) this.live--;
    this.namesWasted += 2 + this.nameLength(this.nameAt[node] as number);
    this.flags[node] = 0;
    this.parents[node] = 0;
    this.relCache.delete(node);
    this.dirCache.delete(node);
    this.free.push(node);
  }

  /** Forgets every node at once (the tree closes): new columns, whose pages are given as written again. */
  clear(): void {
    this.grow(FIRST_CAPACITY, 0);
    this.names = grown(this.names, NAME_BYTES * FIRST_CAPACITY, 0);
    this.top = 0;
    this.free.length = 0;
    this.namesEnd = 0;
    this.namesWasted = 0;
    this.byWd.clear();
    this.byName.clear();
    this.pastOf.clear();
    this.clearPaths();
    this.live = 0;
  }

  /** Path relative to the node's root, in latin1 form. */
  relativeText(node: WatchNode): Latin1 {
    const parent = this.parents[node] as number;
    if (parent === 0) return '';
    let rel = this.relCache.get(node);
    if (rel === undefined) {
      const above = this.relativeText(parent as WatchNode);
      rel = above === '' ? this.name(node) : `${above}/${this.name(node)}`;
      this.cachePath(this.relCache, node, rel);
    }
    return rel;
  }

  /** Path as the root was given, followed by the relative path, in latin1 form. */
  absoluteText(node: WatchNode): Latin1 {
    return joinText(this.root(node).pathText, this.relativeText(node));
  }

  /** Path as the root was given, followed by the relative path. */
  absolutePath(node: WatchNode): Buffer {
    return this.parents[node] === 0 ? this.root(node).path : bytes(this.absoluteText(node));
  }

  /**
   * The path of a watched directory as events give it (inotifywait's %w): as the root was given, with a
   * trailing slash. One Buffer per directory, made on its first event and shared by the next ones until a
   * rename relinks it: a burst in one directory would otherwise make one per event.
   */
  eventDir(node: WatchNode): Buffer {
    let dir = this.dirCache.get(node);
    if (dir === undefined) {
      const root = this.root(node);
      dir = this.parents[node] === 0 && root.shownBare === true ? root.path : bytes(`${this.absoluteText(node)}/`);
      this.cachePath(this.dirCache, node, dir);
    }
    return dir;
  }

  /**
   * A node's path relative to its root, then `name`: one Buffer, since a change's path is made for every event
   * (joining the relative path's bytes and the name would make two).
   */
  childPath(node: WatchNode, name: Buffer): Buffer {
    const rel = this.relativeText(node);
    if (rel === '') return name;
    if (name.length === 0) return bytes(rel);
    // Byte by byte: for paths of a few dozen bytes, Buffer's write() and copy() cost more in their checks and
    // call into C++ than the copying (a burst's ingest: 280 ms instead of 375).
    const path = Buffer.allocUnsafe(rel.length + 1 + name.length);
    for (let i = 0; i < rel.length; i++) path[i] = rel.charCodeAt(i);
    path[rel.length] = SLASH;
    for (let i = 0, at = rel.length + 1; i < name.length; i++, at++) path[at] = name[i] as number;
    return path;
  }

  private cachePath<V>(cache: Map<WatchNode, V>, node: WatchNode, value: V): void {
    if (cache.size >= PATH_CACHE) cache.clear();
    cache.set(node, value);
  }

  private clearPaths(): void {
    this.relCache.clear();
    this.dirCache.clear();
  }

  /** nameHash of a node's parent and stored name, from its bytes. */
  private storedNameHash(node: number): number {
    const at = this.nameAt[node] as number;
    const end = at + 2 + this.nameLength(at);
    let h = nameHashStart(this.parents[node] as number);
    for (let i = at + 2; i < end; i++) h = Math.imul(h ^ (this.names[i] as number), 0x01000193);
    return h;
  }

  private nameIs(node: number, name: Latin1): boolean {
    const at = this.nameAt[node] as number;
    if (this.nameLength(at) !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (this.names[at + 2 + i] !== name.charCodeAt(i)) return false;
    return true;
  }

  private newId(): WatchNode {
    const reused = this.free.pop();
    if (reused !== undefined) return reused as WatchNode;
    const id = ++this.top;
    if (id >= this.flags.length) this.grow(this.flags.length * GROWTH, id);
    return id as WatchNode;
  }

  /** New columns of `size` nodes, with the first `used` (ids 0 to used - 1) copied. */
  private grow(size: number, used: number): void {
    this.flags = grown(this.flags, size, used);
    this.wds = grown(this.wds, size, used);
    this.parents = grown(this.parents, size, used);
    this.rootOf = grown(this.rootOf, size, used);
    this.nameAt = grown(this.nameAt, size, used);
    this.first = grown(this.first, size, used);
    this.next = grown(this.next, size, used);
    this.prev = grown(this.prev, size, used);
  }

  private nameLength(at: number): number {
    return (this.names[at] as number) | ((this.names[at + 1] as number) << 8);
  }

  /**
   * Stores a node's name (one unused before: the caller has taken the node out of the table of names).
   * Returns nameHash(parent, name), made in the same loop: a walk adds a node a directory, mostly before the
   * JIT has, where each pass over a name costs.
   */
  private setName(node: WatchNode, name: Latin1, parent: number): number {
    if (this.namesWasted > 65536 && this.namesWasted * 2 > this.namesEnd) this.compactNames();
    const need = this.namesEnd + 2 + name.length;
    if (need > this.names.length) this.names = grown(this.names, Math.max(need, this.names.length * GROWTH), this.namesEnd);
    const at = this.namesEnd;
    this.names[at] = name.length & 0xff;
    this.names[at + 1] = name.length >> 8;
    // A char a byte, in a loop: Buffer's write() costs a call into C++ for a name of a few bytes.
    let h = nameHashStart(parent);
    for (let i = 0; i < name.length; i++) {
      const byte = name.charCodeAt(i);
      this.names[at + 2 + i] = byte;
      h = Math.imul(h ^ byte, 0x01000193);
    }
    this.nameAt[node] = at;
    this.namesEnd = need;
    return h;
  }

  private compactNames(): void {
    const compact = new Uint8Array(this.names.length);
    let end = 0;
    for (let id = 1; id <= this.top; id++) {
      if (!((this.flags[id] as number) & USED)) continue;
      const at = this.nameAt[id] as number;
      const size = 2 + this.nameLength(at);
      compact.set(this.names.subarray(at, at + size), end);
      this.nameAt[id] = end;
      end += size;
    }
    this.names = compact;
    this.namesEnd = end;
    this.namesWasted = 0;
  }

  /** Gives a node (and its subtree) its place under parent/name. */
  private relink(node: WatchNode, parent: WatchNode, name: Latin1, past: boolean): void {
    if (!this.isNamed(node, parent, name)) {
      this.namesWasted += 2 + this.nameLength(this.nameAt[node] as number);
      this.parents[node] = parent;
      this.setName(node, name, parent);
    }
    this.link(node, parent, past);
    const root = this.rootOf[parent] as number;
    if (this.rootOf[node] !== root) for (const n of this.subtree(node)) this.rootOf[n] = root; // a move between overlapping roots
    this.clearPaths();
    if (!this.isLive(node)) {
      this.flags[node] = (this.flags[node] as number) | LIVE;
      this.live++;
    }
  }

  /** Into its parent's children (as a past occupant, or as what is there now): parent and name are set. */
  /** `hash`: the nameHash of parent and the node's name, when the caller has it. */
  private link(node: WatchNode, parent: WatchNode, past: boolean, hash = this.storedNameHash(node)): void {
    this.parents[node] = parent;
    this.flags[node] = (this.flags[node] as number) | LINKED | (past ? PAST : 0);
    const head = this.first[parent] as number;
    this.next[node] = head;
    this.prev[node] = 0;
    if (head !== 0) this.prev[head] = node;
    this.first[parent] = node;
    if (past) {
      const key = pastKey(parent, this.name(node));
      const list = this.pastOf.get(key);
      if (list) list.push(node);
      else this.pastOf.set(key, [node]);
    } else this.byName.insert(node, hash);
  }

  private pushPast(parent: WatchNode, node: WatchNode): void {
    this.unlink(node);
    this.link(node, parent, true);
  }

  /** Out of its parent's children; keeps its parent and name (they tell where it was). */
  private unlink(node: WatchNode): void {
    const flags = this.flags[node] as number;
    if (!(flags & LINKED)) return;
    const parent = this.parents[node] as number;
    if (flags & PAST) {
      const key = pastKey(parent as WatchNode, this.name(node));
      const list = this.pastOf.get(key) as WatchNode[];
      list.splice(list.indexOf(node), 1);
      if (list.length === 0) this.pastOf.delete(key);
    } else this.byName.remove(node, this.storedNameHash(node));
    const before = this.prev[node] as number;
    const after = this.next[node] as number;
    if (before === 0) this.first[parent] = after;
    else this.next[before] = after;
    if (after !== 0) this.prev[after] = before;
    this.next[node] = 0;
    this.prev[node] = 0;
    this.flags[node] = flags & ~(LINKED | PAST);
  }
}

const pastKey = (parent: WatchNode, name: Latin1): string => `${parent}/${name}`;
