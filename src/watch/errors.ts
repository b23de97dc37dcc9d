// The watch tree's errors: each names the kernel limit or the path at fault and how to fix it.
import { readFileSync } from 'node:fs';
import { InosyncError } from '../errors.js';

/** Reads a number from /proc (undefined when the file is absent, e.g. an older kernel). */
export function readProcNumber(path: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The effective limit: the sysctl, or the per-user-namespace limit (Linux >= 5.11) when that is lower. */
function effectiveLimit(sysctlFile: string, namespaceFile: string): { sysctl?: number; namespace?: number; limit?: number } {
  const sysctl = readProcNumber(sysctlFile);
  const namespace = readProcNumber(namespaceFile);
  const known = [sysctl, namespace].filter((n): n is number => n !== undefined);
  return { sysctl, namespace, limit: known.length === 0 ? undefined : Math.min(...known) };
}

function persistFix(setting: string, value: number): string {
  return `sysctl ${setting}=${value}` +
    ` (as root; to keep it across reboots: echo ${setting}=${value} > /etc/sysctl.d/60-inosync.conf)`;
}

function roundUp(n: number, step: number): number {
  return Math.ceil(n / step) * step;
}

/** inotify_add_watch failed with ENOSPC: the per-user watch limit, not the disk. */
export class WatchLimitError extends InosyncError {
  readonly limit: number | undefined;
  readonly needed: number;

  constructor(needed: number, path: Buffer, options: { cause?: unknown } = {}) {
    const { sysctl, namespace, limit } = effectiveLimit('/proc/sys/fs/inotify/max_user_watches', '/proc/sys/user/max_inotify_watches');
    const current = sysctl === undefined ? 'unknown' : String(sysctl);
    const scoped = namespace !== undefined && sysctl !== undefined && namespace < sysctl
      ? ` (this user namespace allows only ${namespace}: /proc/sys/user/max_inotify_watches)`
      : '';
    const suggested = roundUp(Math.max(needed * 2, (limit ?? 8192) * 2), 1024);
    super(
      `inotify watch limit reached while watching ${JSON.stringify(path.toString())}: ` +
        `fs.inotify.max_user_watches is ${current}${scoped}, and this tree needs ${needed} directories ` +
        `(one watch each; watches held by other programs of the same user count against the same limit)`,
      `raise the limit: ${persistFix('fs.inotify.max_user_watches', suggested)}, or exclude large directories`,
      { cause: options.cause },
    );
    this.limit = limit;
    this.needed = needed;
  }
}

/** inotify_init1 failed with EMFILE: too many inotify instances for this user (or too many open files). */
export class InstanceLimitError extends InosyncError {
  constructor(options: { cause?: unknown } = {}) {
    const { sysctl, namespace, limit } = effectiveLimit('/proc/sys/fs/inotify/max_user_instances', '/proc/sys/user/max_inotify_instances');
    const scoped = namespace !== undefined && sysctl !== undefined && namespace < sysctl
      ? ` (this user namespace allows only ${namespace}: /proc/sys/user/max_inotify_instances)`
      : '';
    super(
      `cannot open an inotify instance: fs.inotify.max_user_instances is ${sysctl ?? 'unknown'}${scoped} ` +
        'and this user has used them all (or the process ran out of file descriptors)',
      `raise the limit: ${persistFix('fs.inotify.max_user_instances', roundUp((limit ?? 128) * 2, 128))}; ` +
        'or stop other inotify watchers of this user; check `ulimit -n` too',
      { cause: options.cause },
    );
  }
}

/** A root cannot be watched: missing, not readable, not a directory where one is needed. */
export class RootError extends InosyncError {
  readonly root: Buffer;

  constructor(root: Buffer, code: string | undefined, options: { cause?: unknown } = {}) {
    const shown = JSON.stringify(root.toString());
    const reason: Record<string, [string, string]> = {
      ENOENT: ['does not exist', 'create it, or correct the path'],
      ENOTDIR: ['is not a path to a directory or file (a parent is not a directory)', 'correct the path'],
      EACCES: ['cannot be read: permission denied', `grant read and execute permission (ls -ld ${shown}), or run as a user who has it`],
      ELOOP: ['is a symlink loop', 'point it at a real directory'],
    };
    const [what, fix] = reason[code ?? ''] ?? [`cannot be watched (${code ?? 'unknown error'})`, 'check the path and its permissions'];
    super(`watch root ${shown} ${what}`, fix, { cause: options.cause });
    this.root = root;
  }
}

/** A root was deleted, moved away or unmounted while watched: its changes can no longer be seen. */
export class RootGoneError extends InosyncError {
  readonly root: Buffer;
  readonly how: 'deleted' | 'moved' | 'unmounted';

  constructor(root: Buffer, how: 'deleted' | 'moved' | 'unmounted') {
    super(
      `watch root ${JSON.stringify(root.toString())} was ${how === 'moved' ? 'moved away' : how}: its watches are gone`,
      'restore the directory (or remount it) and restart inosync; a moved root is not followed to its new place',
    );
    this.root = root;
    this.how = how;
  }
}

/** The kernel's event queue overflowed (IN_Q_OVERFLOW): events were lost and the roots are rescanned. */
export class QueueOverflowError extends InosyncError {
  constructor() {
    const current = readProcNumber('/proc/sys/fs/inotify/max_queued_events') ?? 16384;
    super(
      `the inotify event queue overflowed (fs.inotify.max_queued_events is ${current}): events were lost, every root is rescanned`,
      `raise the queue size: ${persistFix('fs.inotify.max_queued_events', roundUp(current * 4, 1024))}`,
    );
  }
}

/** A directory inside the tree could not be watched (permission denied): its changes are not seen. */
export class UnwatchableDirectoryError extends InosyncError {
  readonly path: Buffer;

  constructor(path: Buffer, code: string, options: { cause?: unknown } = {}) {
    super(
      `cannot watch ${JSON.stringify(path.toString())} (${code}): changes below it are not seen`,
      'grant the watcher read and execute permission on it, or exclude it',
      { cause: options.cause },
    );
    this.path = path;
  }
}

export type WatchError = WatchLimitError | InstanceLimitError | RootError | RootGoneError | UnwatchableDirectoryError;
