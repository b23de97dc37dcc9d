// The watch tree: recursive inotify watches on directories, turned into events with current paths
// and normalized changes. One inotify instance serves every root.
//
//   const tree = new WatchTree({ roots: ['/srv/www'], exclude: (rel, isDir) => ... });
//   tree.on('change', (c: Change) => ...);      // created/modified/closed/attributes/deleted/moved/rescan
//   tree.on('event', (e: TreeEvent) => ...);    // every kernel event (current path) + synthetic creates
//   tree.on('warning', (w: InosyncError) => ...); // queue overflow (rescanned), unreadable directory (skipped)
//   tree.on('error', (e: InosyncError) => ...); // RootGoneError, WatchLimitError after start: the tree is incomplete
//   await tree.start();                           // rejects: RootError, WatchLimitError, InstanceLimitError
//   ...; tree.close();
//
// How it stays right on a live tree:
// - Watches form a tree (wd -> node {parent, name as bytes}); paths are built on demand, so renaming a
//   directory relinks one node and later events below it carry the new path.
// - Watch, then list: a new or moved-in directory is watched first and listed after; what the listing
//   finds is reported as synthetic creates. An entry can be reported twice (listing and kernel), never zero times.
// - MOVED_FROM waits for its MOVED_TO (same cookie) up to `movePairingMs` after it arrived, across reads.
//   Events are processed strictly in kernel order: while a MOVED_FROM waits, later events wait behind it.
//   Paired: 'moved'. Alone: moved out ('deleted'; a directory's watches are removed) or moved in
//   ('created', the directory watched and listed, its contents reported).
// - A wd is forgotten only on IN_IGNORED. An event on an unknown wd or IN_Q_OVERFLOW: 'rescan' of every root,
//   then every root is walked again (missed directories watched, moved ones relinked, stale watches removed).
// - Directories only (IN_ONLYDIR|IN_DONT_FOLLOW|IN_EXCL_UNLINK); symlinks are entries, never followed (unless
//   followSymlinks). A root that is a symlink is resolved once, since the user named it. A root may be a file.
// - Excluded directories are never watched; events and changes on excluded paths are not emitted.
// - A directory that vanishes while being watched or listed is skipped silently; one that cannot be read (EACCES) is
//   skipped with a warning.
// - Overlapping roots (one inside another): a directory is watched once, under the root that reached it first.
import { EventEmitter } from 'node:events';
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { constants as C, openInotify, type NativeInotify, type RawEvent, type InotifySyscallError } from '../inotify/binding.js';
import { InosyncError } from '../errors.js';
import type { TreeToCount } from '../limits/count-dirs.js';
import { instanceLimitError, queueOverflowError, RootError, RootGoneError, UnwatchableDirectoryError, watchLimitError } from './errors.js';
import type { Change, ChangeKind, ExcludeFn, TreeEvent } from './types.js';

export interface WatchTreeOptions {
  /** Directories to watch (or single files, watched themselves, inotifywait-style). Strings are UTF-8. */
  roots: ReadonlyArray<string | Buffer>;
  /** Watch subdirectories too; default true. */
  recursive?: boolean;
  /** Leaves paths out; excluded directories are never watched. */
  exclude?: ExcludeFn;
  /** Watch directories reached through symlinks; default false (a symlink is an entry, not a subtree). */
  followSymlinks?: boolean;
  /** How long a MOVED_FROM waits for its MOVED_TO before it counts as a move out; default 25 ms. */
  movePairingMs?: number;
  /** Extra IN_* event bits to watch (IN_ACCESS, IN_OPEN, IN_CLOSE_NOWRITE): reported as 'event' only. */
  extraEvents?: number;
}

export interface WatchTreeEvents {
  event: [TreeEvent];
  change: [Change];
  warning: [InosyncError];
  error: [InosyncError];
}

/** The events that feed changes: always watched. */
export const CHANGE_EVENTS = C.IN_CREATE | C.IN_DELETE | C.IN_MODIFY | C.IN_ATTRIB | C.IN_CLOSE_WRITE |
  C.IN_MOVED_FROM | C.IN_MOVED_TO | C.IN_DELETE_SELF | C.IN_MOVE_SELF;

const SLASH = 0x2f;

interface Root {
  /** As the caller gave it. */
  given: Buffer;
  /** Without trailing slashes. */
  path: Buffer;
  node?: WatchNode;
  gone: boolean;
}

interface WatchNode {
  wd: number;
  root: Root;
  /** Undefined for a root's node. */
  parent: WatchNode | undefined;
  name: Buffer;
  isDir: boolean;
  children: Map<string, WatchNode>;
  /** False once detached (deleted, moved out, replaced): its events are dropped until IN_IGNORED. */
  live: boolean;
}

interface Queued {
  event: RawEvent;
  at: number;
}

interface WalkMode {
  /** Report what listings find as synthetic creates. */
  report: boolean;
  /** Throw limit errors instead of emitting them (during start). */
  strict: boolean;
  /** Nodes seen by a full rewalk (the rest are stale). */
  visited?: Set<WatchNode>;
}

const key = (name: Buffer): string => name.toString('latin1');

function joinPath(a: Buffer, b: Buffer): Buffer {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return a[a.length - 1] === SLASH ? Buffer.concat([a, b]) : Buffer.concat([a, Buffer.from('/'), b]);
}

function trimSlashes(path: Buffer): Buffer {
  let end = path.length;
  while (end > 1 && path[end - 1] === SLASH) end--;
  return path.subarray(0, end);
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Errors that mean "this directory is no longer there", normal on a live tree. */
const VANISHED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

export class WatchTree extends EventEmitter<WatchTreeEvents> {
  private readonly roots: Root[];
  private readonly recursive: boolean;
  private readonly exclude: ExcludeFn | undefined;
  private readonly followSymlinks: boolean;
  private readonly movePairingMs: number;
  private readonly dirMask: number;
  private readonly rootDirMask: number;
  private readonly fileMask: number;
  private inotify: NativeInotify | undefined;
  private readonly nodes = new Map<number, WatchNode>();
  private liveCount = 0;
  private queue: Queued[] = [];
  private head = 0;
  /** MOVED_TO events already consumed by a pairing (skipped when reached). */
  private readonly consumed = new Set<RawEvent>();
  /** Queued MOVED_TO events by cookie, for pairing in O(1). */
  private readonly movedTo = new Map<number, RawEvent>();
  private pairTimer: NodeJS.Timeout | undefined;
  private rescanDue = false;
  private limitReported = false;
  private refed = true;
  private closed = false;

  constructor(options: WatchTreeOptions) {
    super();
    if (options.roots.length === 0) throw new TypeError('WatchTree: at least one root is needed');
    this.roots = options.roots.map((r) => {
      const given = Buffer.from(r);
      return { given, path: trimSlashes(given), gone: false };
    });
    this.recursive = options.recursive ?? true;
    this.exclude = options.exclude;
    this.followSymlinks = options.followSymlinks ?? false;
    this.movePairingMs = options.movePairingMs ?? 25;
    const events = CHANGE_EVENTS | (options.extraEvents ?? 0);
    this.rootDirMask = events | C.IN_ONLYDIR | C.IN_EXCL_UNLINK;
    this.dirMask = this.rootDirMask | (this.followSymlinks ? 0 : C.IN_DONT_FOLLOW);
    this.fileMask = events;
  }

  /** Number of directories (and file roots) watched now. */
  get watchCount(): number {
    return this.liveCount;
  }

  /**
   * Opens the inotify instance (synchronously, before the returned promise settles) and arms every root.
   * Rejects with RootError (missing or unreadable root), WatchLimitError (ENOSPC), InstanceLimitError (EMFILE).
   */
  async start(): Promise<void> {
    if (this.inotify || this.closed) throw new Error('WatchTree.start: already started');
    try {
      this.inotify = openInotify((events) => this.onBatch(events), (error) => this.onReadError(error));
    } catch (error) {
      this.closed = true;
      throw errnoCode(error) === 'EMFILE' ? await instanceLimitError(error) : error;
    }
    if (!this.refed) this.inotify.unref();
    try {
      for (const root of this.roots) this.armRoot(root);
    } catch (error) {
      this.close(); // before the survey, so that it counts what other programs hold, not our partial tree
      throw errnoCode(error) === 'ENOSPC' ? await this.limitError(error) : error;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pairTimer);
    this.inotify?.close();
    this.nodes.clear();
    this.queue = [];
    this.liveCount = 0;
  }

  /** Keep the process alive while watching (default). */
  ref(): void {
    this.refed = true;
    this.inotify?.ref();
    this.pairTimer?.ref();
  }

  /** Let the process exit even though watches are armed. */
  unref(): void {
    this.refed = false;
    this.inotify?.unref();
    this.pairTimer?.unref();
  }

  // --- arming ------------------------------------------------------------------------------------

  private armRoot(root: Root): void {
    let isDir: boolean;
    try {
      isDir = statSync(root.path).isDirectory();
    } catch (error) {
      throw new RootError(root.given, errnoCode(error), { cause: error });
    }
    let wd: number;
    try {
      wd = this.native().addWatch(root.path, isDir ? this.rootDirMask : this.fileMask);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOSPC') throw error;
      throw new RootError(root.given, code, { cause: error });
    }
    if (this.nodes.get(wd)?.live) return; // the same directory as another root: watched once
    const node = this.newNode(wd, root, undefined, root.path, isDir);
    root.node = node;
    if (!isDir) return;
    try {
      readdirSync(root.path);
    } catch (error) {
      throw new RootError(root.given, errnoCode(error), { cause: error });
    }
    this.expand(node, { report: false, strict: true });
  }

  /** The directory roots, to count the watches they need. */
  private trees(): TreeToCount[] {
    return this.roots.filter((r) => isDirectory(r.path)).map((r) => ({ root: r.path, exclude: this.exclude }));
  }

  private async limitError(error: unknown): Promise<InosyncError> {
    const path = (error as InotifySyscallError).path ?? Buffer.alloc(0);
    return watchLimitError(path, this.trees(), error);
  }

  /** Lists `start` and, recursively, every directory below it, watching each before listing it. */
  private expand(start: WatchNode, mode: WalkMode): void {
    const stack = [start];
    while (stack.length > 0) {
      const dir = stack.pop() as WatchNode;
      mode.visited?.add(dir);
      for (const entry of this.list(dir)) {
        const isDir = this.isDirEntry(dir, entry);
        const rel = joinPath(relativePath(dir), entry.name);
        if (this.isExcluded(dir.root, rel, isDir)) continue;
        if (mode.report) {
          this.emitEvent(dir, entry.name, C.IN_CREATE | (isDir ? C.IN_ISDIR : 0), 0, true);
          this.emitChange('created', dir.root, rel, isDir);
        }
        if (isDir && this.recursive) {
          const child = this.watchDir(dir, entry.name, mode);
          if (child) stack.push(child);
        }
      }
    }
  }

  private list(dir: WatchNode): Dirent<Buffer>[] {
    try {
      return readdirSync(absolutePath(dir), { encoding: 'buffer', withFileTypes: true });
    } catch (error) {
      this.skipUnreadable(dir, error);
      return [];
    }
  }

  private isDirEntry(dir: WatchNode, entry: Dirent<Buffer>): boolean {
    if (entry.isDirectory()) return true;
    if (!entry.isSymbolicLink() || !this.followSymlinks) return false;
    try {
      return statSync(joinPath(absolutePath(dir), entry.name)).isDirectory();
    } catch {
      return false; // dangling link
    }
  }

  /** Watches parent/name and links it into the tree; undefined when it cannot or must not be watched. */
  private watchDir(parent: WatchNode, name: Buffer, mode: WalkMode): WatchNode | undefined {
    const path = joinPath(absolutePath(parent), name);
    let wd: number;
    try {
      wd = this.native().addWatch(path, this.dirMask);
    } catch (error) {
      this.onAddWatchError(path, error, mode);
      return undefined;
    }
    const existing = this.nodes.get(wd);
    if (existing === undefined) {
      this.detachChild(parent, name);
      return this.newNode(wd, parent.root, parent, name, true);
    }
    if (existing.live && existing.parent === parent && existing.name.equals(name)) return existing;
    if (existing.live && !this.isStale(existing, path)) return undefined; // the same directory reachable twice
    // A directory we knew elsewhere (a rename we did not see) or one being forgotten: it lives here now.
    this.detachChild(parent, name);
    this.relink(existing, parent, name);
    return existing;
  }

  /** True when node's recorded path no longer leads to the directory now found at `path`. */
  private isStale(node: WatchNode, path: Buffer): boolean {
    if (node.parent === undefined) return false;
    try {
      const here = statSync(path);
      const there = statSync(absolutePath(node));
      return here.ino !== there.ino || here.dev !== there.dev;
    } catch {
      return true;
    }
  }

  private onAddWatchError(path: Buffer, error: unknown, mode: WalkMode): void {
    const code = errnoCode(error);
    if (code !== undefined && VANISHED.has(code)) return;
    if (code === 'ENOSPC') {
      if (mode.strict) throw error;
      if (!this.limitReported) {
        this.limitReported = true;
        void this.limitError(error).then((limit) => this.emitUnlessClosed('error', limit));
      }
      return;
    }
    if (code === 'EACCES' || code === 'EPERM') {
      this.emit('warning', new UnwatchableDirectoryError(path, code, { cause: error }));
      return;
    }
    throw error;
  }

  private skipUnreadable(dir: WatchNode, error: unknown): void {
    const code = errnoCode(error);
    if (code !== undefined && VANISHED.has(code)) return;
    if (code === 'EACCES' || code === 'EPERM') {
      this.emit('warning', new UnwatchableDirectoryError(absolutePath(dir), code, { cause: error }));
      return;
    }
    throw error;
  }

  // --- the model -----------------------------------------------------------------------------------

  private newNode(wd: number, root: Root, parent: WatchNode | undefined, name: Buffer, isDir: boolean): WatchNode {
    const node: WatchNode = { wd, root, parent, name, isDir, children: new Map(), live: true };
    this.nodes.set(wd, node);
    parent?.children.set(key(name), node);
    this.liveCount++;
    return node;
  }

  private relink(node: WatchNode, parent: WatchNode, name: Buffer): void {
    if (node.parent && node.parent.children.get(key(node.name)) === node) node.parent.children.delete(key(node.name));
    node.parent = parent;
    node.name = name;
    parent.children.set(key(name), node);
    if (!node.live) {
      node.live = true;
      this.liveCount++;
    }
  }

  /** Unlinks a subtree from the model; its watches stay in `nodes` until IN_IGNORED. */
  private detach(node: WatchNode): void {
    if (node.parent && node.parent.children.get(key(node.name)) === node) node.parent.children.delete(key(node.name));
    for (const n of subtree(node)) {
      if (n.live) this.liveCount--;
      n.live = false;
    }
    node.children.clear();
  }

  private detachChild(parent: WatchNode, name: Buffer): void {
    const child = parent.children.get(key(name));
    if (child) this.detach(child);
  }

  /** Removes the watches of a subtree the kernel would keep (moved out, excluded, stale). */
  private unwatch(node: WatchNode): void {
    const all = subtree(node);
    this.detach(node);
    for (const n of all) {
      let known = false;
      try {
        known = this.native().removeWatch(n.wd);
      } catch {
        known = false;
      }
      if (!known && this.nodes.get(n.wd) === n) this.nodes.delete(n.wd); // no IN_IGNORED will come
    }
  }

  private native(): NativeInotify {
    if (!this.inotify) throw new Error('WatchTree: not started');
    return this.inotify;
  }

  // --- events --------------------------------------------------------------------------------------

  private onBatch(events: RawEvent[]): void {
    if (this.closed) return;
    const at = Date.now();
    for (const event of events) {
      this.queue.push({ event, at });
      if (event.mask & C.IN_MOVED_TO) this.movedTo.set(event.cookie, event);
    }
    this.process();
  }

  private onReadError(error: InotifySyscallError): void {
    this.emit('error', new InosyncError(`reading inotify events failed: ${error.message}`, 'restart inosync; if it repeats, report a bug', { cause: error }));
  }

  /** Handles queued events in kernel order; stops at a MOVED_FROM still waiting for its MOVED_TO. */
  private process(): void {
    while (!this.closed && this.head < this.queue.length) {
      const { event, at } = this.queue[this.head] as Queued;
      if (this.consumed.delete(event)) {
        this.head++;
        continue;
      }
      if (event.mask & C.IN_MOVED_FROM) {
        const to = this.movedTo.get(event.cookie);
        if (to === undefined) {
          const wait = at + this.movePairingMs - Date.now();
          if (wait > 0) {
            this.armPairTimer(wait);
            break;
          }
        } else {
          this.movedTo.delete(event.cookie);
          this.consumed.add(to);
        }
        this.head++;
        this.onMove(event, to);
        continue;
      }
      this.head++;
      if (event.mask & C.IN_MOVED_TO && this.movedTo.get(event.cookie) === event) this.movedTo.delete(event.cookie);
      this.onEvent(event);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.rescanDue && !this.closed) {
      this.rescanDue = false;
      this.rewalk();
    }
  }

  private armPairTimer(ms: number): void {
    if (this.pairTimer) return;
    this.pairTimer = setTimeout(() => {
      this.pairTimer = undefined;
      this.process();
    }, ms);
    if (!this.refed) this.pairTimer.unref();
  }

  private onEvent(event: RawEvent): void {
    if (event.mask & C.IN_Q_OVERFLOW) {
      void queueOverflowError().then((warning) => this.emitUnlessClosed('warning', warning));
      this.announceRescan(C.IN_Q_OVERFLOW);
      return;
    }
    const node = this.nodes.get(event.wd);
    if (node === undefined) {
      if (!(event.mask & C.IN_IGNORED)) this.announceRescan(0);
      return;
    }
    if (event.mask & C.IN_IGNORED) {
      this.forget(node);
      return;
    }
    if (!node.live) return;
    if (event.name.length === 0) this.onSelfEvent(node, event);
    else this.onEntryEvent(node, event);
  }

  private onSelfEvent(node: WatchNode, event: RawEvent): void {
    this.emitEvent(node, Buffer.alloc(0), event.mask, event.cookie, false);
    const isRoot = node.parent === undefined;
    if (event.mask & C.IN_UNMOUNT) {
      if (isRoot) this.rootGone(node.root, 'unmounted');
      else this.announceRescan(0);
      return;
    }
    if (!isRoot) return; // the parent's watch reports what happens to this directory as an entry
    if (event.mask & C.IN_DELETE_SELF) {
      if (!node.isDir) this.emitChange('deleted', node.root, Buffer.alloc(0), false);
      this.rootGone(node.root, 'deleted');
    } else if (event.mask & C.IN_MOVE_SELF) {
      this.rootGone(node.root, 'moved');
    } else {
      const kind = simpleKind(event.mask);
      if (kind) this.emitChange(kind, node.root, Buffer.alloc(0), node.isDir);
    }
  }

  private onEntryEvent(node: WatchNode, event: RawEvent): void {
    const isDir = (event.mask & C.IN_ISDIR) !== 0;
    const rel = joinPath(relativePath(node), event.name);
    if (this.isExcluded(node.root, rel, isDir)) return;
    this.emitEvent(node, event.name, event.mask, event.cookie, false);
    if (event.mask & (C.IN_CREATE | C.IN_MOVED_TO)) {
      this.emitChange('created', node.root, rel, isDir);
      if (isDir && this.recursive) this.adopt(node, event.name);
    } else if (event.mask & C.IN_DELETE) {
      this.emitChange('deleted', node.root, rel, isDir);
      if (isDir) this.detachChild(node, event.name);
    } else {
      const kind = simpleKind(event.mask);
      if (kind) this.emitChange(kind, node.root, rel, isDir);
    }
  }

  /** A new or moved-in directory: watch it, then list it and report what it already holds. */
  private adopt(parent: WatchNode, name: Buffer): void {
    const child = this.watchDir(parent, name, { report: true, strict: false });
    if (child) this.expand(child, { report: true, strict: false });
  }

  /** A MOVED_FROM, with its MOVED_TO when one came in time. */
  private onMove(from: RawEvent, to: RawEvent | undefined): void {
    const source = this.nodes.get(from.wd);
    const target = to === undefined ? undefined : this.nodes.get(to.wd);
    if (source === undefined || (to !== undefined && target === undefined)) {
      this.announceRescan(0);
      return;
    }
    const isDir = (from.mask & C.IN_ISDIR) !== 0;
    const fromRel = joinPath(relativePath(source), from.name);
    const fromIn = source.live && !this.isExcluded(source.root, fromRel, isDir);
    const toIn = to !== undefined && target !== undefined && target.live &&
      !this.isExcluded(target.root, joinPath(relativePath(target), to.name), isDir);
    if (fromIn) this.emitEvent(source, from.name, from.mask, from.cookie, false);
    if (fromIn && toIn && source.root === target?.root && to !== undefined) {
      const moved = source.children.get(key(from.name));
      this.detachChild(target, to.name); // a rename replaces what was there
      if (moved) this.relink(moved, target, to.name);
      else if (isDir && this.recursive) this.adopt(target, to.name);
      this.emitEvent(target, to.name, to.mask, to.cookie, false);
      this.emitChange('moved', target.root, joinPath(relativePath(target), to.name), isDir, fromRel);
      return;
    }
    if (fromIn) {
      this.emitChange('deleted', source.root, fromRel, isDir);
      const gone = source.children.get(key(from.name));
      if (gone) this.unwatch(gone);
    }
    if (toIn && target !== undefined && to !== undefined) this.onEntryEvent(target, to);
  }

  private forget(node: WatchNode): void {
    if (this.nodes.get(node.wd) === node) this.nodes.delete(node.wd);
    if (!node.live) return;
    this.detach(node);
    if (node.parent === undefined && !node.root.gone) this.rootGone(node.root, 'deleted');
  }

  private rootGone(root: Root, how: 'deleted' | 'moved' | 'unmounted'): void {
    if (root.gone) return;
    root.gone = true;
    if (root.node) this.unwatch(root.node);
    this.emit('error', new RootGoneError(root.given, how));
  }

  /** The model may have drifted: tell consumers now, walk the roots again once this batch is handled. */
  private announceRescan(mask: number): void {
    for (const root of this.roots) {
      if (root.gone || !root.node) continue;
      if (mask) this.emitEvent(root.node, Buffer.alloc(0), mask, 0, false);
      this.emitChange('rescan', root, Buffer.alloc(0), root.node.isDir);
    }
    this.rescanDue = true;
  }

  /** Walks every root again: watches missed directories, relinks moved ones, removes stale watches. */
  private rewalk(): void {
    const visited = new Set<WatchNode>();
    for (const root of this.roots) {
      if (root.gone || !root.node) continue;
      visited.add(root.node);
      if (root.node.isDir) this.expand(root.node, { report: false, strict: false, visited });
    }
    for (const node of [...this.nodes.values()]) {
      if (!visited.has(node) && this.nodes.get(node.wd) === node) this.unwatch(node);
    }
  }

  // --- output --------------------------------------------------------------------------------------

  private isExcluded(root: Root, rel: Buffer, isDir: boolean): boolean {
    return this.exclude !== undefined && rel.length > 0 && this.exclude(rel, isDir, root.given);
  }

  private emitUnlessClosed(name: 'warning' | 'error', error: InosyncError): void {
    if (!this.closed) this.emit(name, error);
  }

  private emitEvent(node: WatchNode, name: Buffer, mask: number, cookie: number, synthetic: boolean): void {
    if (this.listenerCount('event') === 0) return;
    const path = absolutePath(node);
    const dir = node.isDir ? Buffer.concat([path, Buffer.from('/')]) : path;
    this.emit('event', { root: node.root.given, dir, name, mask, cookie, synthetic });
  }

  private emitChange(kind: ChangeKind, root: Root, path: Buffer, isDir: boolean, from?: Buffer): void {
    const change: Change = { kind, root: root.given, path, isDir };
    if (from !== undefined) change.from = from;
    this.emit('change', change);
  }
}

function isDirectory(path: Buffer): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function simpleKind(mask: number): ChangeKind | undefined {
  if (mask & C.IN_MODIFY) return 'modified';
  if (mask & C.IN_CLOSE_WRITE) return 'closed';
  if (mask & C.IN_ATTRIB) return 'attributes';
  return undefined;
}

function relativePath(node: WatchNode): Buffer {
  const parts: Buffer[] = [];
  for (let n: WatchNode | undefined = node; n?.parent !== undefined; n = n.parent) parts.push(n.name);
  return parts.reverse().reduce(joinPath, Buffer.alloc(0));
}

function absolutePath(node: WatchNode): Buffer {
  return joinPath(node.root.path, relativePath(node));
}

function subtree(node: WatchNode): WatchNode[] {
  const all: WatchNode[] = [];
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop() as WatchNode;
    all.push(n);
    stack.push(...n.children.values());
  }
  return all;
}
