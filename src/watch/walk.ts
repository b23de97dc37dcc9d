// Walking the disk into the watch tree: watch a directory, then list it, then its subdirectories, so that
// nothing created meanwhile goes unseen. Also what keeps walks right on a live tree: listings that met a stale
// path are done again, and a model that may have drifted is walked again whole (a rescan).
//
// Listings see the disk as it is now, queued events what happened a moment ago: where they disagree, the wd the
// kernel returns for a path decides which directory is where (see model.ts).
import { lstatSync, statSync } from 'node:fs';
import { constants as C, ENTRY, syscallError, type InotifySyscallError, type NativeInotify } from '../inotify/binding.js';
import type { InosyncError } from '../errors.js';
import type { TreeToCount } from '../limits/count-dirs.js';
import { mayBeOverlong, overlongDirectory } from '../safety/deep-paths.js';
import { errnoCode, OverlongDirectoryError, RootError, UnwatchableDirectoryError, VANISHED, watchLimitError } from './errors.js';
import { bytes, dirPrefix, joinPath, joinText, SLASH, WatchModel, type Latin1, type WatchNode, type WatchRoot } from './model.js';
import { EMPTY, type TreeOutput } from './output.js';
import type { ExcludeFn } from './types.js';

/** The events that feed changes: always watched. */
export const CHANGE_EVENTS = C.IN_CREATE | C.IN_DELETE | C.IN_MODIFY | C.IN_ATTRIB | C.IN_CLOSE_WRITE |
  C.IN_MOVED_FROM | C.IN_MOVED_TO | C.IN_DELETE_SELF | C.IN_MOVE_SELF;

export interface WalkMode {
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
export const ADOPT: WalkMode = { report: true, strict: false, deep: false };

const ALL_ENTRIES = ENTRY.directory | ENTRY.symlink | ENTRY.other;

/** Failed listings of a live directory retried before the model is declared drifted (rescan). */
const MAX_LIST_RETRIES = 50;
/** Pause before listing again when no event came to trigger it. */
const LIST_RETRY_MS = 10;

/**
 * The subdirectories one listing found, to watch and list in coming batches. Their paths are made when a batch
 * is sent, one join per group: a walk makes no object and no path string per directory (most are leaves,
 * whose path is never needed as a string), and thousands of them may wait. Even their names wait as where
 * they start in the batch's listings, which are kept anyway: a wide tree's walk (100 directories of 1,000)
 * had all 100,000 names waiting at once, 3 MiB of strings.
 */
interface Found {
  parent: WatchNode;
  parentPath: Latin1;
  /** The listings of the batch that found them (see listingText). */
  listings: Latin1;
  starts: number[];
}

/** Found directories taken for a batch, with their names. */
interface Taken {
  parent: WatchNode;
  parentPath: Latin1;
  names: Latin1[];
}

/** A directory a walk listed (or tried to), with its path as the walk knew it. */
interface Visited {
  node: WatchNode;
  path: Latin1;
}

/** One expand's state. `listed` is kept only when extra events are due: a big walk's paths add up. */
interface Walk {
  mode: WalkMode;
  pending: Found[];
  listed: Visited[];
}

/** A watched directory as the walk placed it; `listed`: its contents are known already. */
export interface Placed {
  node: WatchNode;
  listed: boolean;
}

/**
 * Directories watched and listed per native call. Each call lists on a thread it starts, alongside the watches
 * (see watchAndList in native/), so calls are few and long: a 20,000-directory walk makes nine. 128 a call
 * armed it 15-20 ms slower; the bound is on what a call holds (its paths, and its listings' names).
 */
export const WALK_BATCH = 4096;

/**
 * Takes the last WALK_BATCH directories of the pending groups, in their order: depth first, so that pending
 * work stays in proportion to the tree's depth, not its width. A group too big for the batch is split.
 */
function takeBatch(pending: Found[]): Taken[] {
  const batch: Taken[] = [];
  let room = WALK_BATCH;
  while (room > 0 && pending.length > 0) {
    const last = pending[pending.length - 1] as Found;
    const starts = last.starts.length <= room ? last.starts : last.starts.splice(last.starts.length - room);
    if (starts === last.starts) pending.pop();
    room -= starts.length;
    const { listings } = last;
    batch.push({ parent: last.parent, parentPath: last.parentPath, names: starts.map((at) => listings.slice(at, listings.indexOf('\0', at))) });
  }
  return batch.reverse();
}

/**
 * A batch's paths as watchAndList takes them, each ended by a NUL byte: a group's names joined with the
 * parent's path between them.
 */
function batchPaths(batch: readonly Taken[]): Buffer {
  let text = '';
  for (const { parentPath, names } of batch) {
    const prefix = dirPrefix(parentPath);
    text += `${prefix}${names.join(`\0${prefix}`)}\0`;
  }
  return bytes(text);
}

/**
 * A batch's listings as one latin1 string, a character a byte (kind, name, NUL per entry; NUL ends a listing):
 * names are cut from it with string builtins instead of being decoded one Buffer call each.
 */
function listingText(records: Buffer): Latin1 {
  return records.toString('latin1');
}

/** Past one directory's listing in a batch's listings. */
function skipListing(listings: Latin1, at: number): number {
  while (at < listings.length && listings.charCodeAt(at) !== 0) at = listings.indexOf('\0', at + 1) + 1;
  return at + 1;
}

type RootKind = 'directory' | 'file' | 'link';

export interface WalkerOptions {
  roots: readonly WatchRoot[];
  model: WatchModel;
  output: TreeOutput;
  recursive: boolean;
  exclude: ExcludeFn | undefined;
  followSymlinks: boolean;
  /** A root that is a symlink is watched itself (see WatchTreeOptions.linkRoots). */
  watchLinkRoots: boolean;
  extraEvents: number;
  inotify: () => NativeInotify;
  isClosed: () => boolean;
  /** Runs a timer's work the way event handling runs (a fault becomes a warning and a rescan). */
  guard: (work: () => void) => void;
}

export class Walker {
  private readonly roots: readonly WatchRoot[];
  private readonly model: WatchModel;
  private readonly output: TreeOutput;
  private readonly recursive: boolean;
  private readonly exclude: ExcludeFn | undefined;
  private readonly followSymlinks: boolean;
  private readonly watchLinkRoots: boolean;
  private readonly extraEvents: number;
  private readonly native: () => NativeInotify;
  private readonly isClosed: () => boolean;
  private readonly guard: (work: () => void) => void;
  private readonly dirMask: number;
  private readonly rootDirMask: number;
  private readonly fileMask: number;
  private rescanDue = false;
  /**
   * Directories whose listing (or a child's watch) failed with ENOENT: their path was stale because a rename
   * of an ancestor is still in the queue. Listed again after each pass until that rename has been applied.
   */
  private readonly unlisted = new Set<WatchNode>();
  private readonly listAttempts = new Map<WatchNode, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  private refed = true;
  /** Watches added by mistake and removed at once: their last events are not a drifted model. */
  readonly discarded = new Set<number>();
  private limitReported = false;
  /** Directories left out as too deep or too long (root, NUL, relative path): each is warned about once. */
  private readonly overlongWarned = new Set<string>();

  constructor(options: WalkerOptions) {
    this.roots = options.roots;
    this.model = options.model;
    this.output = options.output;
    this.recursive = options.recursive;
    this.exclude = options.exclude;
    this.followSymlinks = options.followSymlinks;
    this.watchLinkRoots = options.watchLinkRoots;
    this.extraEvents = options.extraEvents;
    this.native = options.inotify;
    this.isClosed = options.isClosed;
    this.guard = options.guard;
    // A forgotten node's id is used again: nothing here may still name it.
    this.model.onForget = (node) => {
      this.unlisted.delete(node);
      this.listAttempts.delete(node);
    };
    this.rootDirMask = CHANGE_EVENTS | C.IN_ONLYDIR | C.IN_EXCL_UNLINK;
    this.dirMask = this.rootDirMask | (this.followSymlinks ? 0 : C.IN_DONT_FOLLOW);
    this.fileMask = CHANGE_EVENTS | this.extraEvents;
  }

  stop(): void {
    clearTimeout(this.retryTimer);
  }

  ref(): void {
    this.refed = true;
    this.retryTimer?.ref();
  }

  unref(): void {
    this.refed = false;
    this.retryTimer?.unref();
  }

  /** Watches a root and everything below it. Throws RootError, or the ENOSPC error for `limitError`. */
  armRoot(root: WatchRoot): void {
    let kind: RootKind;
    try {
      kind = this.rootKind(root);
    } catch (error) {
      throw new RootError(root.given, errnoCode(error), { cause: error });
    }
    const isDir = kind === 'directory';
    let wd: number;
    try {
      wd = this.native().addWatch(root.path, isDir ? this.rootDirMask : kind === 'link' ? this.fileMask | C.IN_DONT_FOLLOW : this.fileMask);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOSPC') throw error;
      throw new RootError(root.given, code, { cause: error });
    }
    const known = this.model.get(wd);
    if (known !== undefined && this.model.isLive(known)) return; // the same directory as another root: watched once
    const node = this.model.add(wd, root, undefined, root.pathText, isDir);
    root.node = node;
    if (isDir) this.expand(node, START);
  }

  /**
   * What a root is watched as. A symlink watched itself (watchLinkRoots) is a 'link', except that a recursive
   * root leading to a directory is walked: inotifywait -r -P opens it with opendir(), which follows it, and
   * watches the link only when that fails with ENOTDIR (a dangling link is an error, as there). Throws the
   * stat's error.
   */
  private rootKind(root: WatchRoot): RootKind {
    if (this.watchLinkRoots && lstatSync(root.given).isSymbolicLink()) {
      return this.recursive && statSync(root.path).isDirectory() ? 'directory' : 'link';
    }
    if (!statSync(root.path).isDirectory()) return 'file';
    root.shownBare = !this.recursive && root.given[root.given.length - 1] !== SLASH && lstatSync(root.path).isSymbolicLink();
    return 'directory';
  }

  /** The watch limit error for an ENOSPC, with what the trees need: a survey of /proc, so asynchronous. */
  limitError(error: unknown): Promise<InosyncError> {
    const path = (error as InotifySyscallError).path ?? Buffer.alloc(0);
    const trees: TreeToCount[] = this.roots.filter((r) => isDirectory(r.path)).map((r) => ({ root: r.path, exclude: this.exclude }));
    return watchLimitError(path, trees, error);
  }

  /** Excluded paths are neither watched nor reported; the root itself is never excluded. */
  isExcluded(root: WatchRoot, rel: Buffer, isDir: boolean): boolean {
    return this.exclude !== undefined && rel.length > 0 && this.exclude(rel, isDir, root.given);
  }

  /** A new or moved-in directory: watch it, then list it and report what it already holds. */
  adopt(parent: WatchNode, name: Latin1, relist = false): void {
    const child = this.watchDir(parent, name, ADOPT);
    if (child && (relist || !child.listed)) this.expand(child.node, relist ? { ...ADOPT, deep: true } : ADOPT);
  }

  isDirThroughSymlink(parent: WatchNode, name: Buffer): boolean {
    return this.followSymlinks && isDirectory(joinPath(this.model.absolutePath(parent), name));
  }

  /**
   * Lists `start` and, recursively, every directory below it, watching each before listing it. Found
   * directories are watched and listed in batches, one native call each (see takeBatch).
   */
  expand(start: WatchNode, mode: WalkMode): void {
    const walk: Walk = { mode, pending: [], listed: [] };
    this.listStart(walk, start);
    while (walk.pending.length > 0 && !this.isClosed()) {
      const batch = takeBatch(walk.pending);
      const { results, records } = this.native().watchAndList(batchPaths(batch), this.dirMask | C.IN_MASK_ADD, this.kinds(mode));
      const listings = listingText(records);
      let at = 0;
      let i = 0;
      // Plain loops, with placeWatched's first case (a directory new to the model) inline: they run once a
      // directory, mostly before the JIT has, and the call and its result object cost a tenth of a walk's
      // JavaScript (a replayed 20k-directory walk: 48 ms through placeWatched, 43 ms inline).
      for (let g = 0; g < batch.length; g++) {
        const { parent, parentPath, names } = batch[g] as Taken;
        const root = this.model.root(parent);
        for (let n = 0; n < names.length; n++, i++) {
          const name = names[n] as Latin1;
          const wd = results[2 * i] as number;
          const listError = results[2 * i + 1] as number;
          let node: WatchNode;
          let path: Latin1 | undefined; // made only when needed: most directories are new leaves
          if (wd >= 0 && this.model.get(wd) === undefined) node = this.model.add(wd, root, parent, name, true);
          else {
            path = joinText(parentPath, name);
            const child = wd < 0
              ? this.onAddWatchError(parent, bytes(path), syscallError(-wd, 'inotify_add_watch', bytes(path)), mode)
              : this.placeWatched(parent, name, wd, undefined, path);
            if (!child || (child.listed && !mode.deep)) {
              at = skipListing(listings, at);
              continue;
            }
            node = child.node;
          }
          this.visit(walk, node, parentPath, name);
          // Most directories are leaves: an empty listing, and no path to make.
          if (listError === 0 && listings.charCodeAt(at) === 0) {
            at++;
            continue;
          }
          path ??= joinText(parentPath, name);
          if (listError !== 0) this.skipUnreadable(node, syscallError(listError, 'scandir', bytes(path)));
          at = this.takeListing(walk, node, path, listings, at);
        }
      }
    }
    this.watchExtraEvents(walk.listed);
  }

  /** Records a directory the walk listed (`name` under `parentPath`; its path when `name` is empty). */
  private visit(walk: Walk, node: WatchNode, parentPath: Latin1, name: Latin1): void {
    walk.mode.visited?.add(node);
    if (this.extraEvents !== 0) walk.listed.push({ node, path: joinText(parentPath, name) });
  }

  /**
   * Takes one directory's listing from `listings` at `at`: reports what a reporting walk finds, and queues the
   * subdirectories to watch. Returns where the next listing starts (past the 0 byte that ends this one).
   */
  private takeListing(walk: Walk, dir: WatchNode, dirPath: Latin1, listings: Latin1, at: number): number {
    const { mode } = walk;
    let found: Found | undefined;
    while (at < listings.length && listings.charCodeAt(at) !== 0) {
      const kind = listings.charCodeAt(at);
      const end = listings.indexOf('\0', at + 1);
      const start = at + 1;
      const name = listings.slice(start, end);
      at = end + 1;
      const isDir = kind === ENTRY.directory || (kind === ENTRY.symlink && this.followSymlinks && isDirectory(bytes(joinText(dirPath, name))));
      if (this.exclude !== undefined || mode.report) {
        const relPath = bytes(joinText(this.model.relativeText(dir), name));
        const root = this.model.root(dir);
        if (this.isExcluded(root, relPath, isDir)) continue;
        if (mode.report) {
          this.output.event(dir, bytes(name), C.IN_CREATE | (isDir ? C.IN_ISDIR : 0), 0, true);
          this.output.change('created', root, relPath, isDir);
        }
      }
      if (isDir && this.recursive && !this.leftOut(dir, name, dirPath)) {
        if (found === undefined) {
          found = { parent: dir, parentPath: dirPath, listings, starts: [] };
          walk.pending.push(found);
        }
        found.starts.push(start);
      }
    }
    return at + 1;
  }

  /**
   * Extra events (reads) are added to a directory's watch only once the tree has listed it, so that its own
   * listing is not reported: inotifywait lists before it watches, and `inotifywait DIR` must not end on it.
   */
  private watchExtraEvents(listings: readonly Visited[]): void {
    for (const { node, path } of listings) {
      if (!this.model.isLive(node) || !this.model.isDir(node) || this.isClosed()) continue;
      try {
        const wd = this.native().addWatch(bytes(path), (this.model.parent(node) !== undefined ? this.dirMask : this.rootDirMask) | this.extraEvents);
        if (wd !== this.model.wd(node)) this.dropStray(wd);
      } catch {
        // gone meanwhile: its own events tell
      }
    }
  }

  /** A watch added through a path that leads elsewhere now: removed, unless it is one the tree knows. */
  private dropStray(wd: number): void {
    if (this.model.get(wd) !== undefined) return;
    this.native().removeWatch(wd);
    this.discarded.add(wd);
  }

  /**
   * The entries a walk needs: all of them when it reports what it finds, else only what may be a directory to
   * watch (an unreported file is of no use, its exclusion included).
   */
  private kinds(mode: WalkMode): number {
    return mode.report ? ALL_ENTRIES : ENTRY.directory | (this.followSymlinks ? ENTRY.symlink : 0);
  }

  /**
   * Lists the directory a walk starts from, watched already: watching it again in the same call (IN_MASK_ADD
   * keeps the events it has) tells whether its path still leads to it. Where it leads elsewhere, a rename is
   * still queued: the listing is retried once it has been applied.
   */
  private listStart(walk: Walk, start: WatchNode): void {
    const path = this.model.absoluteText(start);
    const isRoot = this.model.parent(start) === undefined;
    const mask = (!isRoot ? this.dirMask : this.rootDirMask) | C.IN_MASK_ADD;
    const { results, records } = this.native().watchAndList(bytes(`${path}\0`), mask, this.kinds(walk.mode));
    const wd = results[0] as number;
    const listError = results[1] as number;
    if (wd < 0 || listError !== 0) {
      const error = wd < 0 ? syscallError(-wd, 'inotify_add_watch', bytes(path)) : syscallError(listError, 'scandir', bytes(path));
      if (walk.mode.strict && isRoot) throw new RootError(this.model.root(start).given, errnoCode(error), { cause: error });
      if (wd >= 0) this.visit(walk, start, path, '');
      this.skipUnreadable(start, error);
      return;
    }
    if (wd !== this.model.wd(start)) {
      this.dropStray(wd);
      this.unlisted.add(start);
      return;
    }
    this.visit(walk, start, path, '');
    this.takeListing(walk, start, path, listingText(records), 0);
  }

  /**
   * Watches parent/name and links the directory found there into the tree (the kernel's wd tells which one
   * it is); undefined when it cannot or must not be watched. `listed`: its contents are known already.
   * `expected`: the node an event says went there (placed without checking where else it may be).
   */
  watchDir(parent: WatchNode, name: Latin1, mode: WalkMode, expected?: WatchNode): Placed | undefined {
    if (this.isClosed()) return undefined;
    const parentPath = this.model.absoluteText(parent);
    if (this.leftOut(parent, name, parentPath)) return undefined;
    const path = joinText(parentPath, name);
    let wd: number;
    try {
      // IN_MASK_ADD: watching a directory again must not drop the extra events added after its listing.
      wd = this.native().addWatch(bytes(path), this.dirMask | C.IN_MASK_ADD);
    } catch (error) {
      return this.onAddWatchError(parent, bytes(path), error, mode);
    }
    return this.placeWatched(parent, name, wd, expected, path);
  }

  /**
   * True when parent/name is too deep or its path too long to watch or send (see safety/deep-paths.ts): it is
   * left out, with a warning naming it (once). `parentPath`: the parent's path as the walk has it.
   */
  leftOut(parent: WatchNode, name: Latin1, parentPath = this.model.absoluteText(parent)): boolean {
    const length = dirPrefix(parentPath).length + name.length;
    if (!mayBeOverlong(length)) return false;
    const relative = joinText(this.model.relativeText(parent), name);
    const overlong = overlongDirectory(length, relative);
    if (overlong === undefined) return false;
    const key = `${this.model.root(parent).pathText}\0${relative}`;
    if (!this.overlongWarned.has(key)) {
      this.overlongWarned.add(key);
      this.output.warning(new OverlongDirectoryError(bytes(joinText(parentPath, name)), bytes(relative), overlong));
    }
    return true;
  }

  /** After a rename: unwatches what lies too deep now in the renamed subtree (its paths grew). */
  pruneOverlong(top: WatchNode): void {
    const stack: Array<[WatchNode, number]> = [[top, this.model.absoluteText(top).length]];
    while (stack.length > 0) {
      const [node, length] = stack.pop() as [WatchNode, number];
      for (const child of this.model.children(node)) {
        const name = this.model.name(child);
        const childLength = length + 1 + name.length;
        if (mayBeOverlong(childLength) && this.leftOut(node, name)) this.unwatch(child);
        else stack.push([child, childLength]);
      }
    }
  }

  /** Links the directory the kernel watches as `wd`, just found at parent/name (`path`), into the tree. */
  private placeWatched(parent: WatchNode, name: Latin1, wd: number, expected: WatchNode | undefined, path: Latin1): Placed | undefined {
    const existing = this.model.get(wd);
    if (existing === undefined) return { node: this.model.add(wd, this.model.root(parent), parent, name, true), listed: false };
    const live = this.model.isLive(existing);
    const listed = live && !this.unlisted.has(existing);
    if (live && this.model.child(parent, name) === existing) return { node: existing, listed };
    const sameName = this.model.isNamed(existing, parent, name);
    // Still where the model has it: the same directory reachable twice (a followed symlink, a bind mount).
    if (live && existing !== expected && !sameName && !this.isStale(existing, bytes(path))) return undefined;
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
    if (this.model.parent(node) === undefined) return false;
    try {
      const here = statSync(path);
      const there = statSync(this.model.absolutePath(node));
      return here.ino !== there.ino || here.dev !== there.dev;
    } catch {
      return true;
    }
  }

  /** What a failed watch means for the walk; nothing is placed (hence undefined), a real fault throws. */
  private onAddWatchError(parent: WatchNode, path: Buffer, error: unknown, mode: WalkMode): undefined {
    const code = errnoCode(error);
    if (code !== undefined && VANISHED.has(code)) {
      this.unlisted.add(parent);
      return undefined;
    }
    if (code === 'ENOSPC') {
      if (mode.strict) throw error;
      if (!this.limitReported) {
        this.limitReported = true;
        void this.limitError(error).then((limit) => this.output.unlessClosed('error', limit));
      }
      return undefined;
    }
    if (code === 'EACCES' || code === 'EPERM') {
      this.output.warning(new UnwatchableDirectoryError(path, code, { cause: error }));
      return undefined;
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
      this.output.warning(new UnwatchableDirectoryError(this.model.absolutePath(dir), code, { cause: error }));
      return;
    }
    throw error;
  }

  /**
   * Removes the watches of a subtree the kernel would keep (moved out, excluded, stale). True when the kernel
   * still knew one of them.
   */
  unwatch(node: WatchNode): boolean {
    let anyKnown = false;
    for (const n of this.model.detach(node)) {
      let known = false;
      try {
        known = !this.isClosed() && this.native().removeWatch(this.model.wd(n));
      } catch {
        known = false;
      }
      if (known) anyKnown = true;
      else this.model.forget(n); // no IN_IGNORED will come
    }
    return anyKnown;
  }

  /** The model may have drifted: tell consumers now, walk the roots again once this batch is handled. */
  announceRescan(mask: number): void {
    for (const root of this.roots) {
      if (root.gone || !root.node) continue;
      if (mask) this.output.event(root.node, EMPTY, mask, 0, false);
      this.output.change('rescan', root, EMPTY, this.model.isDir(root.node));
    }
    this.rescanDue = true;
  }

  rescanIfDue(): void {
    if (!this.rescanDue || this.isClosed()) return;
    this.rescanDue = false;
    this.rewalk();
  }

  /** Walks every root again: watches missed directories, relinks moved ones, removes stale watches. */
  private rewalk(): void {
    const visited = new Set<WatchNode>();
    for (const root of this.roots) {
      if (root.gone || !root.node) continue;
      visited.add(root.node);
      if (this.model.isDir(root.node)) this.expand(root.node, { report: false, strict: false, deep: true, visited });
    }
    for (const node of this.model.nodes()) {
      if (!visited.has(node)) this.unwatch(node);
    }
  }

  /** Lists again the directories whose listing met a stale path; a dead one (deleted, moved out) is dropped. */
  retryUnlisted(): void {
    for (const node of [...this.unlisted]) {
      this.unlisted.delete(node);
      if (!this.model.isLive(node) || this.isClosed()) continue;
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
    if (this.unlisted.size > 0 && !this.retryTimer && !this.isClosed()) {
      this.retryTimer = setTimeout(() => this.guard(() => {
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
    const parent = this.model.parent(node);
    if (parent === undefined) {
      this.expand(node, ADOPT);
      return;
    }
    const found = this.watchDir(parent, this.model.name(node), ADOPT);
    if (found?.node === node) this.expand(node, ADOPT);
    else {
      if (found && !found.listed) this.expand(found.node, ADOPT);
      this.unlisted.add(node);
    }
  }
}

export function isDirectory(path: Buffer): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
