// Kernel events, in kernel order and with renames paired (move-pairing.ts), applied to the watch model and
// turned into events with current paths and normalized changes.
//
// - A paired MOVED_FROM/MOVED_TO is 'moved' (a directory's node is relinked: later events below it carry the
//   new path). Alone: moved out ('deleted'; the directory's watches are removed, the kernel would keep them) or
//   moved in ('created', the directory watched and listed, its contents reported as created).
// - A wd is forgotten only on IN_IGNORED. An event on an unknown wd, or IN_Q_OVERFLOW, means a rescan.
import { constants as C, type RawEvent } from '../inotify/binding.js';
import { queueOverflowError, RootGoneError, type RootGoneHow } from './errors.js';
import { latin1, WatchModel, type Latin1, type WatchNode, type WatchRoot } from './model.js';
import type { Sequenced } from './move-pairing.js';
import { EMPTY, type TreeOutput } from './output.js';
import type { ChangeKind } from './types.js';
import { ADOPT, type Walker } from './walk.js';

export class EventDispatch {
  /** A directory moved out by a lone MOVED_FROM, until its IN_MOVE_SELF tells which node it is. */
  private movedOut: { source: WatchNode; name: Latin1; guess: WatchNode | undefined } | undefined;

  constructor(
    private readonly model: WatchModel,
    private readonly walker: Walker,
    private readonly output: TreeOutput,
    private readonly recursive: boolean,
  ) {}

  handle(item: Sequenced): void {
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
  settleMoveOut(item: Sequenced | undefined): boolean {
    if (this.movedOut === undefined) return false;
    const { source, name, guess } = this.movedOut;
    this.movedOut = undefined;
    const event = item?.kind === 'event' ? item.event : undefined;
    const self = event && event.mask & C.IN_MOVE_SELF ? this.model.get(event.wd) : undefined;
    if (event && self !== undefined && this.model.isLive(self) && this.model.parent(self) !== undefined) {
      this.output.event(self, EMPTY, event.mask, event.cookie, false);
      if (this.model.isNamed(self, source, name)) this.walker.unwatch(self);
      return true;
    }
    if (guess !== undefined && this.model.isLive(guess)) this.walker.unwatch(guess);
    return false;
  }

  private onEvent(event: RawEvent): void {
    if (event.mask & C.IN_Q_OVERFLOW) {
      this.walker.announceRescan(C.IN_Q_OVERFLOW);
      this.output.warning(queueOverflowError());
      return;
    }
    const node = this.model.get(event.wd);
    if (node === undefined) {
      if (this.walker.discarded.has(event.wd)) {
        if (event.mask & C.IN_IGNORED) this.walker.discarded.delete(event.wd);
      } else if (!(event.mask & C.IN_IGNORED)) this.walker.announceRescan(0);
      return;
    }
    if (event.mask & C.IN_IGNORED) {
      this.forget(node);
      return;
    }
    if (!this.model.isLive(node)) return;
    if (event.name.length === 0) this.onSelfEvent(node, event);
    else this.onEntryEvent(node, event);
  }

  private onSelfEvent(node: WatchNode, event: RawEvent): void {
    this.output.event(node, EMPTY, event.mask, event.cookie, false);
    const isRoot = this.model.parent(node) === undefined;
    const root = this.model.root(node);
    if (event.mask & C.IN_UNMOUNT) {
      if (isRoot) this.rootGone(root, 'unmounted');
      else this.walker.announceRescan(0);
      return;
    }
    if (!isRoot) return; // the parent's watch reports what happens to this directory as an entry
    if (event.mask & C.IN_DELETE_SELF) {
      if (!this.model.isDir(node)) this.output.change('deleted', root, EMPTY, false);
      this.rootGone(root, 'deleted');
    } else if (event.mask & C.IN_MOVE_SELF) {
      this.rootGone(root, 'moved');
    } else {
      const kind = simpleKind(event.mask);
      if (kind) this.output.change(kind, root, EMPTY, this.model.isDir(node));
    }
  }

  private onEntryEvent(node: WatchNode, event: RawEvent): void {
    const isDir = (event.mask & C.IN_ISDIR) !== 0;
    const rel = this.model.childPath(node, event.name);
    const root = this.model.root(node);
    if (this.walker.isExcluded(root, rel, isDir)) return;
    this.output.event(node, event.name, event.mask, event.cookie, false);
    if (event.mask & (C.IN_CREATE | C.IN_MOVED_TO)) {
      this.output.change('created', root, rel, isDir);
      // A directory moved in is listed even when known: its contents are new to this root.
      const movedIn = (event.mask & C.IN_MOVED_TO) !== 0;
      if (this.recursive && (isDir || this.walker.isDirThroughSymlink(node, event.name))) this.walker.adopt(node, latin1(event.name), movedIn);
    } else if (event.mask & C.IN_DELETE) {
      this.output.change('deleted', root, rel, isDir); // its watch goes with IN_IGNORED, which names it by wd
    } else {
      const kind = simpleKind(event.mask);
      if (kind) this.output.change(kind, root, rel, isDir);
    }
  }

  /** A MOVED_FROM, with its MOVED_TO when one came in time. */
  private onMove(from: RawEvent, to: RawEvent | undefined): void {
    const source = this.model.get(from.wd);
    const target = to === undefined ? undefined : this.model.get(to.wd);
    if (source === undefined || (to !== undefined && target === undefined)) {
      this.walker.announceRescan(0);
      return;
    }
    const isDir = (from.mask & C.IN_ISDIR) !== 0;
    const { model } = this;
    const fromRel = model.childPath(source, from.name);
    const fromIn = model.isLive(source) && !this.walker.isExcluded(model.root(source), fromRel, isDir);
    const toIn = to !== undefined && target !== undefined && model.isLive(target) &&
      !this.walker.isExcluded(model.root(target), model.childPath(target, to.name), isDir);
    if (fromIn) this.output.event(source, from.name, from.mask, from.cookie, false);
    if (fromIn && toIn && target !== undefined && model.root(source) === model.root(target) && to !== undefined) {
      if (isDir) this.renameDir(source, latin1(from.name), target, latin1(to.name));
      this.output.event(target, to.name, to.mask, to.cookie, false);
      this.output.change('moved', model.root(target), model.childPath(target, to.name), isDir, fromRel);
      return;
    }
    if (fromIn) {
      this.output.change('deleted', model.root(source), fromRel, isDir);
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
    if (this.walker.leftOut(target, toName)) {
      if (moved !== undefined) this.walker.unwatch(moved); // moved too deep: left out, as a walk would leave it
      return;
    }
    const found = this.walker.watchDir(target, toName, ADOPT, moved);
    if (moved !== undefined && found?.node !== moved && !this.model.isAncestor(moved, target)) this.model.placeAsPast(moved, target, toName); // it went on since
    // Only a subtree whose paths grew can hold something too deep now: a rename in place to a name no
    // longer than the old one (the common case) costs no walk of what lies below it.
    const grew = target !== source || toName.length > fromName.length;
    if (grew) for (const node of new Set([found?.node, moved])) if (node !== undefined && this.model.isLive(node)) this.walker.pruneOverlong(node);
    if (found && !found.listed) this.walker.expand(found.node, ADOPT);
  }

  private forget(node: WatchNode): void {
    const { model } = this;
    const live = model.isLive(node);
    const root = model.root(node);
    const isRoot = model.parent(node) === undefined;
    // Its directory is gone, so what the model still holds below it should have gone before: any of those the
    // kernel still watches lives elsewhere, and the model has drifted. (Unwatching it forgets it.)
    if (live && this.walker.unwatch(node)) this.walker.announceRescan(0);
    model.forget(node);
    if (live && isRoot && !root.gone) this.rootGone(root, 'deleted');
  }

  private rootGone(root: WatchRoot, how: RootGoneHow): void {
    if (root.gone) return;
    root.gone = true;
    if (root.node) this.walker.unwatch(root.node);
    this.output.tell('error', new RootGoneError(root.given, how));
  }
}

function simpleKind(mask: number): ChangeKind | undefined {
  if (mask & C.IN_MODIFY) return 'modified';
  if (mask & C.IN_CLOSE_WRITE) return 'closed';
  if (mask & C.IN_ATTRIB) return 'attributes';
  return undefined;
}
