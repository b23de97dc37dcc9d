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
// - Watches form a tree (wd -> node {parent, name}, model.ts); paths are built on demand, so renaming a
//   directory relinks one node and later events below it carry the new path.
// - Watch, then list (walk.ts): a new or moved-in directory is watched first and listed after; what the
//   listing finds is reported as synthetic creates. An entry may be reported twice (listing and kernel), never
//   zero times. A listing that meets a stale path (a rename still queued) is done again once it is applied.
// - Events are handled strictly in kernel order (move-pairing.ts): a MOVED_FROM waits for its MOVED_TO (same
//   cookie), across reads, up to `movePairingMs` after it was read; later events wait behind it.
// - An event on an unknown wd, IN_Q_OVERFLOW, or a model that cannot be made consistent (dispatch.ts): 'rescan'
//   of every root, then every root is walked again (missed directories watched, moved ones relinked, stale
//   watches removed).
// - Directories only (IN_ONLYDIR|IN_DONT_FOLLOW|IN_EXCL_UNLINK); symlinks are entries, never followed unless
//   followSymlinks. A root that is a symlink is resolved, since the user named it, unless linkRoots is 'watch'
//   (inotifywait -P): then the link itself is watched (IN_DONT_FOLLOW), as a file, except that a recursive
//   root leading to a directory is still followed, as inotifywait's opendir() does. A root may be a file.
// - Excluded directories are never watched; no event or change is emitted for an excluded path. A renamed
//   directory keeps its watched subtree: exclusions apply to the names that change, not again below them.
// - A directory that vanishes while being watched or listed is skipped silently; one that cannot be read
//   (EACCES) is skipped with a warning.
// - Overlapping roots (one inside another): a directory is watched once, under the root that reached it first.
import { EventEmitter } from 'node:events';
import { openInotifyRecords, type InotifySyscallError, type NativeInotify } from '../inotify/binding.js';
import { InosyncError } from '../errors.js';
import { EventDispatch } from './dispatch.js';
import { errnoCode, instanceLimitError } from './errors.js';
import { latin1, trimSlashes, WatchModel, type WatchRoot } from './model.js';
import { MovePairing } from './move-pairing.js';
import { TreeOutput, type WatchTreeEvents } from './output.js';
import type { ExcludeFn } from './types.js';
import { Walker } from './walk.js';

export { CHANGE_EVENTS } from './walk.js';
export type { WatchTreeEvents } from './output.js';

export interface WatchTreeOptions {
  /** Directories to watch (or single files, watched themselves, inotifywait-style). Strings are UTF-8. */
  roots: ReadonlyArray<string | Buffer>;
  /** Watch subdirectories too; default true. */
  recursive?: boolean;
  /** Leaves paths out; excluded directories are never watched. */
  exclude?: ExcludeFn;
  /** Watch directories reached through symlinks; default false (a symlink is an entry, not a subtree). */
  followSymlinks?: boolean;
  /** A root that is a symlink: 'follow' it (default) or 'watch' the link itself (see the header). */
  linkRoots?: 'follow' | 'watch';
  /** How long a MOVED_FROM waits for its MOVED_TO before it counts as a move out; default 25 ms. */
  movePairingMs?: number;
  /** Extra IN_* event bits to watch (IN_ACCESS, IN_OPEN, IN_CLOSE_NOWRITE): reported as 'event' only. */
  extraEvents?: number;
}

export class WatchTree extends EventEmitter<WatchTreeEvents> {
  private readonly roots: WatchRoot[];
  private inotify: NativeInotify | undefined;
  private readonly model = new WatchModel();
  private readonly output: TreeOutput;
  private readonly walker: Walker;
  private readonly dispatch: EventDispatch;
  private readonly pairing: MovePairing;
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
    const recursive = options.recursive ?? true;
    const isClosed = (): boolean => this.closed;
    this.output = new TreeOutput(this, isClosed, this.model);
    this.walker = new Walker({
      roots: this.roots,
      model: this.model,
      output: this.output,
      recursive,
      exclude: options.exclude,
      followSymlinks: options.followSymlinks ?? false,
      watchLinkRoots: options.linkRoots === 'watch',
      extraEvents: options.extraEvents ?? 0,
      inotify: () => this.native(),
      isClosed,
      guard: (work) => this.guarded(work),
    });
    this.dispatch = new EventDispatch(this.model, this.walker, this.output, recursive);
    this.pairing = new MovePairing({
      windowMs: options.movePairingMs ?? 25,
      deliver: (item) => this.guarded(() => this.dispatch.handle(item)),
      drained: () => this.guarded(() => {
        this.dispatch.settleMoveOut(undefined);
        this.walker.retryUnlisted();
        this.walker.rescanIfDue();
      }),
    });
  }

  /** Number of directories (and file roots) watched now. */
  get watchCount(): number {
    return this.model.liveCount;
  }

  /** Paths of everything watched now (directories, and roots that are files): root as given, then names. */
  watchedPaths(): Buffer[] {
    return this.model.nodes().filter((n) => this.model.isLive(n)).map((n) => this.model.absolutePath(n));
  }

  /**
   * Opens the inotify instance (synchronously, before the returned promise settles) and arms every root.
   * Rejects with RootError (missing or unreadable root), WatchLimitError (ENOSPC), InstanceLimitError (EMFILE).
   */
  async start(): Promise<void> {
    if (this.inotify || this.closed) throw new Error('WatchTree.start: already started');
    try {
      this.inotify = openInotifyRecords((records) => this.onRecords(records), (error) => this.onReadError(error));
    } catch (error) {
      this.closed = true;
      throw errnoCode(error) === 'EMFILE' ? await instanceLimitError(error) : error;
    }
    if (!this.refed) this.inotify.unref();
    try {
      for (const root of this.roots) this.walker.armRoot(root);
    } catch (error) {
      this.close(); // before the survey, so that it counts what other programs hold, not our partial tree
      throw errnoCode(error) === 'ENOSPC' ? await this.walker.limitError(error) : error;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pairing.stop();
    this.walker.stop();
    this.inotify?.close();
    this.model.clear();
  }

  /** Keep the process alive while watching (default). */
  ref(): void {
    this.refed = true;
    this.inotify?.ref();
    this.pairing.ref();
    this.walker.ref();
  }

  /** Let the process exit even though watches are armed. */
  unref(): void {
    this.refed = false;
    this.inotify?.unref();
    this.pairing.unref();
    this.walker.unref();
  }

  private native(): NativeInotify {
    if (!this.inotify) throw new Error('WatchTree: not started');
    return this.inotify;
  }

  private onRecords(records: Buffer): void {
    if (!this.closed) this.pairing.push(records);
  }

  private onReadError(error: InotifySyscallError): void {
    this.output.tell('error', new InosyncError(`reading inotify events failed: ${error.message}`, 'restart inosync; if it repeats, report a bug', { cause: error }));
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
      this.output.warning(new InosyncError(`the watch tree failed handling an event: ${error instanceof Error ? error.message : String(error)}`,
        'nothing to do: every root is rescanned; if it repeats, report a bug with this message', { cause: error }));
      if (!rescanOnFault) return;
      this.walker.announceRescan(0);
      queueMicrotask(() => this.guarded(() => this.walker.rescanIfDue(), false));
    }
  }
}
