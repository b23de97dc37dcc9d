// The watch tree: recursive inotify watches on directories, turned into events with current paths and
// normalized changes. One inotify instance serves every root.
//
//   const tree = new WatchTree({ roots: ['/srv/www'], exclude: (rel, isDir, root) => ... });
//   tree.on('change', (c: Change) => ...);        // created/modified/closed/attributes/deleted/moved/rescan
//   tree.on('event', (e: TreeEvent) => ...);      // every kernel event (current path) + synthetic creates
//   tree.on('warning', (w: InosyncError) => ...); // QueueOverflowError (roots rescanned), UnwatchableDirectoryError
//   tree.on('error', (e: InosyncError) => ...);   // RootGoneError, WatchLimitError after start (attach one: an
//                                                 // 'error' without a listener throws, as EventEmitters do)
//   await tree.start();                           // rejects: RootError, WatchLimitError, InstanceLimitError
//   tree.watchCount; tree.watchedPaths(); tree.unref(); tree.close();
//
// How it stays right on a live tree:
// - Watches form a tree (wd -> node {parent, name}); paths are built on demand, so renaming a directory
//   relinks one node and later events below it carry the new path.
// - Watch, then list: a new or moved-in directory is watched first and listed after; what the listing finds
//   is reported as synthetic creates. An entry may be reported twice (listing and kernel), never zero times.
// - Events are handled strictly in kernel order. A MOVED_FROM waits for its MOVED_TO (same cookie), across
//   reads, up to `movePairingMs` after it was read; later events wait behind it. Paired: 'moved'. Alone:
//   moved out ('deleted'; the directory's watches are removed, the kernel would keep them) or moved in
//   ('created', the directory watched and listed, its contents reported as created).
// - Listings see the disk as it is now, queued events what happened a moment ago: where they disagree, the
//   wd the kernel returns for a path decides which directory is where (see model.ts). A listing that meets a
//   stale path (a rename still queued) is done again once the rename is applied.
// - A wd is forgotten only on IN_IGNORED. An event on an unknown wd, IN_Q_OVERFLOW, or a model that cannot be
//   made consistent: 'rescan' of every root, then every root is walked again (missed directories watched,
//   moved ones relinked, stale watches removed).
// - Directories only (IN_ONLYDIR|IN_DONT_FOLLOW|IN_EXCL_UNLINK); symlinks are entries, never followed unless
//   followSymlinks. A root that is a symlink is resolved, since the user named it. A root may be a file.
// - Excluded directories are never watched; no event or change is emitted for an excluded path. A renamed
//   directory keeps its watched subtree: exclusions apply to the names that change, not again below them.
// - A directory that vanishes while being watched or listed is skipped silently; one that cannot be read
//   (EACCES) is skipped with a warning.
// - Overlapping roots (one inside another): a directory is watched once, under the root that reached it first.
import { EventEmitter } from 'node:events';
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { constants as C, openInotify, type InotifySyscallError, type NativeInotify, type RawEvent } from '../inotify/binding.js';
import { InosyncError } from '../errors.js';
import type { TreeToCount } from '../limits/count-dirs.js';
import { instanceLimitError, queueOverflowError, RootError, RootGoneError, UnwatchableDirectoryError, watchLimitError } from './errors.js';
import { absolutePath, absoluteText, bytes, joinPath, joinText, latin1, relativePath, relativeText, trimSlashes, WatchModel, type Latin1, type WatchNode, type WatchRoot } from './model.js';
import { MovePairing, type Sequenced } from './move-pairing.js';
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

/** A directory about to be listed, with its path. */
interface Listing {
  node: WatchNode;
  path: Latin1;
}

interface WalkMode {
  /** Report what listings find as synthetic creates. */
  report: boolean;
  /** Throw limit and root errors instead of emitting them (during start). */
  strict: boolean;
  /** Also list directories already watched (a rewalk); otherwise only new ones are listed. */
  deep: boolean;
  /** Nodes seen by a full rewalk (the rest are stale). */
  visited?: Set<WatchNode>;
}

const START: WalkMode = { report: false, strict: true, deep: false };
const ADOPT: WalkMode = { report: true, strict: false, deep: false };

/** Failed listings of a live directory retried before the model is declared drifted (rescan). */
const MAX_LIST_RETRIES = 50;
/** Pause before listing again when no event came to trigger it. */
const LIST_RETRY_MS = 10;

const EMPTY = Buffer.alloc(0);

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Errors that mean "this directory is no longer there", normal on a live tree. */
const VANISHED = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

export class WatchTree extends EventEmitter<WatchTreeEvents> {
  private readonly roots: WatchRoot[];
  private readonly recursive: boolean;
  private readonly exclude: ExcludeFn | undefined;
  private readonly followSymlinks: boolean;
  private readonly dirMask: number;
  private readonly rootDirMask: number;
  private readonly fileMask: number;
  private readonly extraEvents: number;
  private inotify: NativeInotify | undefined;
  private readonly model = new WatchModel();
  private readonly pairing: MovePairing;
  private rescanDue = false;
  /**
   * Directories whose listing (or a child's watch) failed with ENOENT: their path was stale because a rename
   * of an ancestor is still in the queue. Listed again after each pass until that rename has been applied.
   */
  private readonly unlisted = new Set<WatchNode>();
  private readonly listAttempts = new WeakMap<WatchNode, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** A directory moved out by a lone MOVED_FROM, until its IN_MOVE_SELF tells which node it is. */
  private movedOut: { source: WatchNode; name: Latin1; guess: WatchNode | undefined } | undefined;
  /** Watches added by mistake and removed at once: their last events are not a drifted model. */
  private readonly discarded = new Set<number>();
  private limitReported = false;
  private refed = true;
  private closed = false;

  constructor(options: WatchTreeOptions) {
    super();
    if (options.roots.length === 0) throw new TypeError('WatchTree: at least one root is needed');
    this.roots = options.roots.map((r) => {
      const given = Buffer.from(r);
      const path = trimSlashes(given);
      return { given, path, pathText: latin1(path), gone: false };
    });
    this.recursive = options.recursive ?? true;
    this.exclude = options.exclude;
    this.followSymlinks = options.followSymlinks ?? false;
    this.pairing = new MovePairing({
      windowMs: options.movePairingMs ?? 25,
      deliver: (item) => this.guarded(() => this.onSequenced(item)),
      drained: () => this.guarded(() => {
        this.settleMoveOut(undefined);
        this.retryUnlisted();
        this.rescanIfDue();
      }),
    });
    this.extraEvents = options.extraEvents ?? 0;
    this.rootDirMask = CHANGE_EVENTS | C.IN_ONLYDIR | C.IN_EXCL_UNLINK;
    this.dirMask = this.rootDirMask | (this.followSymlinks ? 0 : C.IN_DONT_FOLLOW);
    this.fileMask = CHANGE_EVENTS | this.extraEvents;
  }

  /** Number of directories (and file roots) watched now. */
  get watchCount(): number {
    return this.model.liveCount;
  }

  /** Paths of everything watched now (directories, and roots that are files): root as given, then names. */
  watchedPaths(): Buffer[] {
    return this.model.nodes().filter((n) => n.live).map(absolutePath);
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
    this.pairing.stop();
    clearTimeout(this.retryTimer);
    this.inotify?.close();
    this.model.clear();
  }

  /** Keep the process alive while watching (default). */
  ref(): void {
    this.refed = true;
    this.inotify?.ref();
    this.pairing.ref();
    this.retryTimer?.ref();
  }

  /** Let the process exit even though watches are armed. */
  unref(): void {
    this.refed = false;
    this.inotify?.unref();
    this.pairing.unref();
    this.retryTimer?.unref();
  }

  // --- arming ------------------------------------------------------------------------------------

  private armRoot(root: WatchRoot): void {
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
    if (this.model.get(wd)?.live) return; // the same directory as another root: watched once
    const node = this.model.add(wd, root, undefined, root.pathText, isDir);
    root.node = node;
    if (isDir) this.expand(node, START);
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
    // Paths travel along in latin1 form: one Buffer per syscall, none per entry.
    const stack: Listing[] = [{ node: start, path: absoluteText(start) }];
    const listed: Listing[] = [];
    while (stack.length > 0 && !this.closed) {
      const dir = stack.pop() as Listing;
      listed.push(dir);
      mode.visited?.add(dir.node);
      const rel = relativeText(dir.node);
      for (const entry of this.list(dir, mode)) {
        const path = joinText(dir.path, entry.name);
        const isDir = entry.isDirectory() || (this.followSymlinks && entry.isSymbolicLink() && isDirectory(bytes(path)));
        if (this.exclude !== undefined || mode.report) {
          const relPath = bytes(joinText(rel, entry.name));
          if (this.isExcluded(dir.node.root, relPath, isDir)) continue;
          if (mode.report) {
            this.emitEvent(dir.node, bytes(entry.name), C.IN_CREATE | (isDir ? C.IN_ISDIR : 0), 0, true);
            this.emitChange('created', dir.node.root, relPath, isDir);
          }
        }
        if (isDir && this.recursive) {
          const child = this.watchDir(dir.node, entry.name, mode, undefined, path);
          if (child && (mode.deep || !child.listed)) stack.push({ node: child.node, path });
        }
      }
    }
    this.watchExtraEvents(listed);
  }

  /**
   * Extra events (reads) are added to a directory's watch only once the tree has listed it, so that its own
   * listing is not reported: inotifywait lists before it watches, and `inotifywait DIR` must not end on it.
   */
  private watchExtraEvents(listings: readonly Listing[]): void {
    if (this.extraEvents === 0) return;
    for (const { node, path } of listings) {
      if (!node.live || !node.isDir || this.closed) continue;
      try {
        const wd = this.native().addWatch(bytes(path), (node.parent ? this.dirMask : this.rootDirMask) | this.extraEvents);
        if (wd !== node.wd && this.model.get(wd) === undefined) {
          this.native().removeWatch(wd); // the path leads elsewhere now
          this.discarded.add(wd);
        }
      } catch {
        // gone meanwhile: its own events tell
      }
    }
  }

  private list(dir: Listing, mode: WalkMode): Dirent<Latin1>[] {
    try {
      return readdirSync(bytes(dir.path), { encoding: 'latin1', withFileTypes: true }) as Dirent<Latin1>[];
    } catch (error) {
      if (mode.strict && dir.node.parent === undefined) throw new RootError(dir.node.root.given, errnoCode(error), { cause: error });
      this.skipUnreadable(dir.node, error);
      return [];
    }
  }

  /**
   * Watches parent/name and links the directory found there into the tree (the kernel's wd tells which one
   * it is); undefined when it cannot or must not be watched. `listed`: its contents are known already.
   * `expected`: the node an event says went there (placed without checking where else it may be).
   */
  private watchDir(parent: WatchNode, name: Latin1, mode: WalkMode, expected?: WatchNode, pathText?: Latin1): { node: WatchNode; listed: boolean } | undefined {
    if (this.closed) return undefined;
    const path = bytes(pathText ?? joinText(absoluteText(parent), name));
    let wd: number;
    try {
      // IN_MASK_ADD: watching a directory again must not drop the extra events added after its listing.
      wd = this.native().addWatch(path, this.dirMask | C.IN_MASK_ADD);
    } catch (error) {
      this.onAddWatchError(parent, path, error, mode);
      return undefined;
    }
    const existing = this.model.get(wd);
    if (existing === undefined) return { node: this.model.add(wd, parent.root, parent, name, true), listed: false };
    const listed = existing.live && !this.unlisted.has(existing);
    if (existing.live && this.model.child(parent, name) === existing) return { node: existing, listed };
    const sameName = this.model.isNamed(existing, parent, name);
    // Still where the model has it: the same directory reachable twice (a followed symlink, a bind mount).
    if (existing.live && existing !== expected && !sameName && !this.isStale(existing, path)) return undefined;
    if (this.model.isAncestor(existing, parent)) {
      // Renames still queued would make the model a loop here: walk the disk again instead.
      this.announceRescan(0);
      return undefined;
    }
    // A directory known elsewhere (a rename not applied yet, or missed), or being forgotten: it is here now.
    this.model.place(existing, parent, name);
    return { node: existing, listed };
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

  private onAddWatchError(parent: WatchNode, path: Buffer, error: unknown, mode: WalkMode): void {
    const code = errnoCode(error);
    if (code !== undefined && VANISHED.has(code)) {
      this.unlisted.add(parent);
      return;
    }
    if (code === 'ENOSPC') {
      if (mode.strict) throw error;
      if (!this.limitReported) {
        this.limitReported = true;
        void this.limitError(error).then((limit) => this.emitUnlessClosed('error', limit));
      }
      return;
    }
    if (code === 'EACCES' || code === 'EPERM') {
      this.emitWarning(new UnwatchableDirectoryError(path, code, { cause: error }));
      return;
    }
    throw error;
  }

  private skipUnreadable(dir: WatchNode, error: unknown): void {
    const code = errnoCode(error);
    if (code !== undefined && VANISHED.has(code)) {
      this.unlisted.add(dir);
      return;
    }
    if (code === 'EACCES' || code === 'EPERM') {
      this.emitWarning(new UnwatchableDirectoryError(absolutePath(dir), code, { cause: error }));
      return;
    }
    throw error;
  }

  /** Removes the watches of a subtree the kernel would keep (moved out, excluded, stale). */
  private unwatch(node: WatchNode): boolean {
    let anyKnown = false;
    for (const n of this.model.detach(node)) {
      let known = false;
      try {
        known = !this.closed && this.native().removeWatch(n.wd);
      } catch {
        known = false;
      }
      if (known) anyKnown = true;
      else this.model.forget(n); // no IN_IGNORED will come
    }
    return anyKnown;
  }

  private native(): NativeInotify {
    if (!this.inotify) throw new Error('WatchTree: not started');
    return this.inotify;
  }

  // --- events --------------------------------------------------------------------------------------

  private onBatch(events: RawEvent[]): void {
    if (!this.closed) this.pairing.push(events);
  }

  private onSequenced(item: Sequenced): void {
    if (this.settleMoveOut(item)) return;
    if (item.kind === 'move') this.onMove(item.from, item.to);
    else this.onEvent(item.event);
  }

  /**
   * A directory moved out keeps its watch in the kernel until removed. Which node it is: the one that gets
   * IN_MOVE_SELF right after the lone MOVED_FROM (the kernel queues them together), else the one the model
   * holds under that name. A node a listing has meanwhile found elsewhere in the tree stays: its MOVED_TO
   * went to a directory not yet watched then. True when `item` was that IN_MOVE_SELF and has been handled.
   */
  private settleMoveOut(item: Sequenced | undefined): boolean {
    if (this.movedOut === undefined) return false;
    const { source, name, guess } = this.movedOut;
    this.movedOut = undefined;
    const event = item?.kind === 'event' ? item.event : undefined;
    const self = event && event.mask & C.IN_MOVE_SELF ? this.model.get(event.wd) : undefined;
    if (event && self?.live && self.parent !== undefined) {
      this.emitEvent(self, EMPTY, event.mask, event.cookie, false);
      if (this.model.isNamed(self, source, name)) this.unwatch(self);
      return true;
    }
    if (guess?.live) this.unwatch(guess);
    return false;
  }

  /**
   * Runs event handling so that a fault in it (a bug, or an error nobody foresaw) cannot escape into the
   * native callback and end the process: it becomes a warning, and the roots are walked again.
   */
  private guarded(handle: () => void, rescanOnFault = true): void {
    try {
      handle();
    } catch (error) {
      if (this.closed) return;
      this.emitWarning(new InosyncError(`the watch tree failed handling an event: ${error instanceof Error ? error.message : String(error)}`,
        'nothing to do: every root is rescanned; if it repeats, report a bug with this message', { cause: error }));
      if (!rescanOnFault) return;
      this.announceRescan(0);
      queueMicrotask(() => this.guarded(() => this.rescanIfDue(), false));
    }
  }

  private onReadError(error: InotifySyscallError): void {
    this.tell('error', new InosyncError(`reading inotify events failed: ${error.message}`, 'restart inosync; if it repeats, report a bug', { cause: error }));
  }

  private onEvent(event: RawEvent): void {
    if (event.mask & C.IN_Q_OVERFLOW) {
      void queueOverflowError().then((warning) => this.emitWarning(warning));
      this.announceRescan(C.IN_Q_OVERFLOW);
      return;
    }
    const node = this.model.get(event.wd);
    if (node === undefined) {
      if (this.discarded.has(event.wd)) {
        if (event.mask & C.IN_IGNORED) this.discarded.delete(event.wd);
      } else if (!(event.mask & C.IN_IGNORED)) this.announceRescan(0);
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
    this.emitEvent(node, EMPTY, event.mask, event.cookie, false);
    const isRoot = node.parent === undefined;
    if (event.mask & C.IN_UNMOUNT) {
      if (isRoot) this.rootGone(node.root, 'unmounted');
      else this.announceRescan(0);
      return;
    }
    if (!isRoot) return; // the parent's watch reports what happens to this directory as an entry
    if (event.mask & C.IN_DELETE_SELF) {
      if (!node.isDir) this.emitChange('deleted', node.root, EMPTY, false);
      this.rootGone(node.root, 'deleted');
    } else if (event.mask & C.IN_MOVE_SELF) {
      this.rootGone(node.root, 'moved');
    } else {
      const kind = simpleKind(event.mask);
      if (kind) this.emitChange(kind, node.root, EMPTY, node.isDir);
    }
  }

  private onEntryEvent(node: WatchNode, event: RawEvent): void {
    const isDir = (event.mask & C.IN_ISDIR) !== 0;
    const rel = joinPath(relativePath(node), event.name);
    if (this.isExcluded(node.root, rel, isDir)) return;
    this.emitEvent(node, event.name, event.mask, event.cookie, false);
    if (event.mask & (C.IN_CREATE | C.IN_MOVED_TO)) {
      this.emitChange('created', node.root, rel, isDir);
      // A directory moved in is listed even when known: its contents are new to this root.
      const movedIn = (event.mask & C.IN_MOVED_TO) !== 0;
      if (this.recursive && (isDir || this.isDirThroughSymlink(node, event.name))) this.adopt(node, latin1(event.name), movedIn);
    } else if (event.mask & C.IN_DELETE) {
      this.emitChange('deleted', node.root, rel, isDir); // its watch goes with IN_IGNORED, which names it by wd
    } else {
      const kind = simpleKind(event.mask);
      if (kind) this.emitChange(kind, node.root, rel, isDir);
    }
  }

  /** A new or moved-in directory: watch it, then list it and report what it already holds. */
  private adopt(parent: WatchNode, name: Latin1, relist = false): void {
    const child = this.watchDir(parent, name, ADOPT);
    if (child && (relist || !child.listed)) this.expand(child.node, relist ? { ...ADOPT, deep: true } : ADOPT);
  }

  private isDirThroughSymlink(parent: WatchNode, name: Buffer): boolean {
    return this.followSymlinks && isDirectory(joinPath(absolutePath(parent), name));
  }

  /** A MOVED_FROM, with its MOVED_TO when one came in time. */
  private onMove(from: RawEvent, to: RawEvent | undefined): void {
    const source = this.model.get(from.wd);
    const target = to === undefined ? undefined : this.model.get(to.wd);
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
      if (isDir) this.renameDir(source, latin1(from.name), target, latin1(to.name));
      this.emitEvent(target, to.name, to.mask, to.cookie, false);
      this.emitChange('moved', target.root, joinPath(relativePath(target), to.name), isDir, fromRel);
      return;
    }
    if (fromIn) {
      this.emitChange('deleted', source.root, fromRel, isDir);
      if (isDir) {
        const name = latin1(from.name);
        this.movedOut = { source, name, guess: this.model.takePast(source, name) };
      }
    }
    if (toIn && target !== undefined && to !== undefined) this.onEntryEvent(target, to);
  }

  /**
   * A directory renamed inside the tree. The node the event names moves; the kernel is then asked which
   * directory is at the new name now, since listings may have run ahead of this event.
   */
  private renameDir(source: WatchNode, fromName: Latin1, target: WatchNode, toName: Latin1): void {
    // A directory the rename replaced (an empty one) is left to its IN_IGNORED, which follows shortly.
    const moved = this.model.takePast(source, fromName);
    if (!this.recursive) return;
    const found = this.watchDir(target, toName, ADOPT, moved);
    if (moved && found?.node !== moved && !this.model.isAncestor(moved, target)) this.model.placeAsPast(moved, target, toName); // it went on since
    if (found && !found.listed) this.expand(found.node, ADOPT);
  }

  private forget(node: WatchNode): void {
    this.model.forget(node);
    if (!node.live) return;
    // Its directory is gone, so what the model still holds below it should have gone before: any of those the
    // kernel still watches lives elsewhere, and the model has drifted.
    if (this.unwatch(node)) this.announceRescan(0);
    if (node.parent === undefined && !node.root.gone) this.rootGone(node.root, 'deleted');
  }

  private rootGone(root: WatchRoot, how: 'deleted' | 'moved' | 'unmounted'): void {
    if (root.gone) return;
    root.gone = true;
    if (root.node) this.unwatch(root.node);
    this.tell('error', new RootGoneError(root.given, how));
  }

  /** The model may have drifted: tell consumers now, walk the roots again once this batch is handled. */
  private announceRescan(mask: number): void {
    for (const root of this.roots) {
      if (root.gone || !root.node) continue;
      if (mask) this.emitEvent(root.node, EMPTY, mask, 0, false);
      this.emitChange('rescan', root, EMPTY, root.node.isDir);
    }
    this.rescanDue = true;
  }

  /** Lists again the directories whose listing met a stale path; a dead one (deleted, moved out) is dropped. */
  private retryUnlisted(): void {
    for (const node of [...this.unlisted]) {
      this.unlisted.delete(node);
      if (!node.live || this.closed) continue;
      const attempts = (this.listAttempts.get(node) ?? 0) + 1;
      this.listAttempts.set(node, attempts);
      if (attempts > MAX_LIST_RETRIES) {
        this.announceRescan(0);
        continue;
      }
      this.listIfStillThere(node);
      if (!this.unlisted.has(node)) this.listAttempts.delete(node);
    }
    // The rename that fixes the path may already have been handled by now, with no event left to come.
    if (this.unlisted.size > 0 && !this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => this.guarded(() => {
        this.retryTimer = undefined;
        this.retryUnlisted();
        this.rescanIfDue();
      }), LIST_RETRY_MS);
      if (!this.refed) this.retryTimer.unref();
    }
  }

  /**
   * Lists a node again, but only if its path leads to it: the path of a node whose rename is still queued
   * may lead to another directory now (which is then watched and placed there) or to nothing.
   */
  private listIfStillThere(node: WatchNode): void {
    if (node.parent === undefined) {
      this.expand(node, ADOPT);
      return;
    }
    const found = this.watchDir(node.parent, node.name, ADOPT);
    if (found?.node === node) this.expand(node, ADOPT);
    else {
      if (found && !found.listed) this.expand(found.node, ADOPT);
      this.unlisted.add(node);
    }
  }

  private rescanIfDue(): void {
    if (!this.rescanDue || this.closed) return;
    this.rescanDue = false;
    this.rewalk();
  }

  /** Walks every root again: watches missed directories, relinks moved ones, removes stale watches. */
  private rewalk(): void {
    const visited = new Set<WatchNode>();
    for (const root of this.roots) {
      if (root.gone || !root.node) continue;
      visited.add(root.node);
      if (root.node.isDir) this.expand(root.node, { report: false, strict: false, deep: true, visited });
    }
    for (const node of this.model.nodes()) {
      if (!visited.has(node)) this.unwatch(node);
    }
  }

  // --- output --------------------------------------------------------------------------------------

  private isExcluded(root: WatchRoot, rel: Buffer, isDir: boolean): boolean {
    return this.exclude !== undefined && rel.length > 0 && this.exclude(rel, isDir, root.given);
  }

  /**
   * Emits to the listeners. What a listener throws is its own fault, not the tree's: it is rethrown on its own
   * (an uncaught exception, as from any emitter) while the tree carries on with a consistent model.
   */
  private tell<K extends keyof WatchTreeEvents>(name: K, ...args: WatchTreeEvents[K]): void {
    try {
      (this.emit as (event: K, ...rest: WatchTreeEvents[K]) => boolean)(name, ...args);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  private emitUnlessClosed(name: 'warning' | 'error', error: InosyncError): void {
    if (!this.closed) this.tell(name, error);
  }

  private emitWarning(error: InosyncError): void {
    this.emitUnlessClosed('warning', error);
  }

  private emitEvent(node: WatchNode, name: Buffer, mask: number, cookie: number, synthetic: boolean): void {
    if (this.closed || this.listenerCount('event') === 0) return;
    const path = absolutePath(node);
    const dir = node.isDir ? Buffer.concat([path, Buffer.from('/')]) : path;
    this.tell('event', { root: node.root.given, dir, name, mask, cookie, synthetic });
  }

  private emitChange(kind: ChangeKind, root: WatchRoot, path: Buffer, isDir: boolean, from?: Buffer): void {
    const change: Change = { kind, root: root.given, path, isDir };
    if (from !== undefined) change.from = from;
    if (!this.closed) this.tell('change', change);
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
