// What leaves the watch tree: kernel and synthetic events with current paths, normalized changes, warnings and
// errors. Nothing leaves once the tree is closed (errors excepted: a failing read may come after).
import type { EventEmitter } from 'node:events';
import type { InosyncError } from '../errors.js';
import type { WatchModel, WatchNode, WatchRoot } from './model.js';
import type { Change, ChangeKind, TreeEvent } from './types.js';

export interface WatchTreeEvents {
  event: [TreeEvent];
  change: [Change];
  warning: [InosyncError];
  error: [InosyncError];
}

export const EMPTY = Buffer.alloc(0);

export class TreeOutput {
  constructor(
    private readonly emitter: EventEmitter<WatchTreeEvents>,
    private readonly isClosed: () => boolean,
    private readonly model: WatchModel,
  ) {}

  /**
   * What a listener throws is its own fault, not the tree's: it is rethrown on its own (an uncaught exception,
   * as from any emitter) while the tree carries on with a consistent model.
   */
  tell<K extends keyof WatchTreeEvents>(name: K, ...args: WatchTreeEvents[K]): void {
    try {
      (this.emitter.emit as (event: K, ...rest: WatchTreeEvents[K]) => boolean).call(this.emitter, name, ...args);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  unlessClosed(name: 'warning' | 'error', error: InosyncError): void {
    if (!this.isClosed()) this.tell(name, error);
  }

  warning(error: InosyncError): void {
    this.unlessClosed('warning', error);
  }

  event(node: WatchNode, name: Buffer, mask: number, cookie: number, synthetic: boolean): void {
    // Building paths is the costly part of an event: skip it when nobody listens.
    if (this.isClosed() || this.emitter.listenerCount('event') === 0) return;
    const { model } = this;
    const dir = model.isDir(node) ? model.eventDir(node) : model.absolutePath(node);
    this.tell('event', { root: model.root(node).given, dir, name, mask, cookie, synthetic });
  }

  change(kind: ChangeKind, root: WatchRoot, path: Buffer, isDir: boolean, from?: Buffer): void {
    if (this.emitter.listenerCount('change') === 0) return; // `inosync watch` listens to events alone
    const change: Change = { kind, root: root.given, path, isDir };
    if (from !== undefined) change.from = from;
    if (!this.isClosed()) this.tell('change', change);
  }
}
