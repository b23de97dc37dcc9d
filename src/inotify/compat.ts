// The API of the abandoned `inotify` npm package (node-inotify), on the Node-API binding, so code
// written for it runs on current Node unchanged. Semantics follow node-inotify's README; where
// node-inotify misbehaved (a failed watch returned wd -1, an overflow crashed it) we throw or deliver.
import { constants, openInotify, type NativeInotify, type RawEvent } from './binding.js';

/** One event as node-inotify delivers it. `name` is absent for events on the watched object itself. */
export interface InotifyEvent {
  watch: number;
  mask: number;
  cookie: number;
  /** Decoded as UTF-8 (invalid bytes become U+FFFD): use the native binding to keep exact bytes. */
  name?: string;
}

export type InotifyCallback = (this: Inotify, event: InotifyEvent) => void;

export interface InotifyWatchOptions {
  path: string | Buffer;
  /** OR'ed IN_* flags; default Inotify.IN_ALL_EVENTS. */
  watch_for?: number;
  callback: InotifyCallback;
}

function toEvent(raw: RawEvent): InotifyEvent {
  const event: InotifyEvent = { watch: raw.wd, mask: raw.mask, cookie: raw.cookie };
  if (raw.name.length > 0) event.name = raw.name.toString('utf8');
  return event;
}

export class Inotify {
  static readonly IN_ACCESS = constants.IN_ACCESS;
  static readonly IN_MODIFY = constants.IN_MODIFY;
  static readonly IN_ATTRIB = constants.IN_ATTRIB;
  static readonly IN_CLOSE_WRITE = constants.IN_CLOSE_WRITE;
  static readonly IN_CLOSE_NOWRITE = constants.IN_CLOSE_NOWRITE;
  static readonly IN_CLOSE = constants.IN_CLOSE;
  static readonly IN_OPEN = constants.IN_OPEN;
  static readonly IN_MOVED_FROM = constants.IN_MOVED_FROM;
  static readonly IN_MOVED_TO = constants.IN_MOVED_TO;
  static readonly IN_MOVE = constants.IN_MOVE;
  static readonly IN_CREATE = constants.IN_CREATE;
  static readonly IN_DELETE = constants.IN_DELETE;
  static readonly IN_DELETE_SELF = constants.IN_DELETE_SELF;
  static readonly IN_MOVE_SELF = constants.IN_MOVE_SELF;
  static readonly IN_ALL_EVENTS = constants.IN_ALL_EVENTS;
  static readonly IN_UNMOUNT = constants.IN_UNMOUNT;
  static readonly IN_Q_OVERFLOW = constants.IN_Q_OVERFLOW;
  static readonly IN_IGNORED = constants.IN_IGNORED;
  static readonly IN_ONLYDIR = constants.IN_ONLYDIR;
  static readonly IN_DONT_FOLLOW = constants.IN_DONT_FOLLOW;
  static readonly IN_EXCL_UNLINK = constants.IN_EXCL_UNLINK;
  static readonly IN_MASK_CREATE = constants.IN_MASK_CREATE;
  static readonly IN_MASK_ADD = constants.IN_MASK_ADD;
  static readonly IN_ISDIR = constants.IN_ISDIR;
  static readonly IN_ONESHOT = constants.IN_ONESHOT;
  static readonly IN_NONBLOCK = constants.IN_NONBLOCK;
  static readonly IN_CLOEXEC = constants.IN_CLOEXEC;

  /** False: the instance does not keep the process alive (`new Inotify(false)`). */
  readonly persistent: boolean;
  #native: NativeInotify | undefined;
  readonly #callbacks = new Map<number, InotifyCallback>();

  constructor(persistent = true) {
    this.persistent = persistent !== false;
    this.#native = openInotify((events) => this.#dispatch(events));
    if (!this.persistent) this.#native.unref();
  }

  /** Watches one file or directory (not recursive) and returns its watch descriptor. Throws on failure. */
  addWatch(options: InotifyWatchOptions): number {
    if (typeof options !== 'object' || options === null) throw new TypeError('addWatch(options): options must be an object');
    const { path, watch_for: watchFor = constants.IN_ALL_EVENTS, callback } = options;
    if (typeof path !== 'string' && !Buffer.isBuffer(path)) throw new TypeError('addWatch(options): options.path must be a string or a Buffer');
    if (typeof callback !== 'function') throw new TypeError('addWatch(options): options.callback must be a function');
    if (!Number.isInteger(watchFor) || watchFor >>> 0 === 0) throw new TypeError('addWatch(options): options.watch_for must be an OR\'ed set of Inotify.IN_* flags');
    const wd = this.#open().addWatch(path, watchFor >>> 0);
    this.#callbacks.set(wd, callback);
    return wd;
  }

  /** Removes a watch: true if it existed. Its callback still receives the IN_IGNORED event that follows. */
  removeWatch(wd: number): boolean {
    return this.#open().removeWatch(wd);
  }

  /** Removes every watch and closes the inotify fd: true, or false when already closed. */
  close(): boolean {
    if (!this.#native) return false;
    this.#native.close();
    this.#native = undefined;
    this.#callbacks.clear();
    return true;
  }

  #open(): NativeInotify {
    if (!this.#native) throw new Error('Inotify: this instance is closed');
    return this.#native;
  }

  #dispatch(events: RawEvent[]): void {
    for (const raw of events) {
      // An overflow (wd -1) concerns every watch: each callback learns it may have missed events.
      const targets = raw.wd === -1 ? [...this.#callbacks.values()] : [this.#callbacks.get(raw.wd)];
      for (const callback of targets) {
        if (!this.#native) return;
        try {
          callback?.call(this, toEvent(raw));
        } catch (error) {
          // Like node-inotify: a throwing callback is an uncaught exception, and the other events still come.
          process.nextTick(() => { throw error; });
        }
      }
      if (raw.mask & constants.IN_IGNORED) this.#callbacks.delete(raw.wd);
    }
  }
}
