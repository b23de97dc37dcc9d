// The contract between the watch tree and its consumers (the `watch` CLI and the sync engine).
// Paths are bytes everywhere: file names on Linux need not be valid UTF-8.

/** One kernel event with its path resolved against the watch tree as it is now. */
export interface TreeEvent {
  /** The root this event belongs to, exactly as the caller gave it. */
  root: Buffer;
  /**
   * Path of the watched directory (or watched file), with a trailing '/' for directories: inotifywait's %w.
   * Built from the root as given (absolute when the root was given absolute). Shared by the events of one
   * directory, as `name` is a view into the kernel's read: treat both as read-only.
   */
  dir: Buffer;
  /** Entry name inside `dir`, empty for events on the watched object itself: inotifywait's %f. */
  name: Buffer;
  /** Kernel mask (IN_* bits, IN_ISDIR included). */
  mask: number;
  /** Kernel cookie (pairs IN_MOVED_FROM with IN_MOVED_TO), 0 otherwise. */
  cookie: number;
  /** True when made up from a listing (watch-then-list of a new directory), not read from the kernel. */
  synthetic: boolean;
}

export type ChangeKind =
  | 'created'    // a new entry (a new directory's contents are sent as 'created' too)
  | 'modified'   // content written, writer may still hold it open
  | 'closed'     // a writer closed it (IN_CLOSE_WRITE): content is complete
  | 'attributes' // mode, owner, times, xattrs
  | 'deleted'    // gone (also: moved out of the tree)
  | 'moved'      // renamed inside the tree: `from` -> `path`
  | 'rescan';    // the model may have drifted below `path` (overflow, unknown wd): send it whole

/** A normalized change, relative to its root. */
export interface Change {
  kind: ChangeKind;
  root: Buffer;
  /** Path relative to the root, no leading '/'; empty for the root itself. */
  path: Buffer;
  /** For 'moved': the old relative path. */
  from?: Buffer;
  isDir: boolean;
}

/**
 * Decides whether a path (relative to its root, never empty) is left out: excluded directories are never
 * watched, and no event or change is emitted for an excluded path. `root`, the root as the caller gave it, is
 * always passed by the watch tree (optional so that single-root callers may leave it out).
 */
export type ExcludeFn = (relativePath: Buffer, isDir: boolean, root?: Buffer) => boolean;
