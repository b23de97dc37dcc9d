// The watch tree's errors: each names the kernel limit or the path at fault, and how to fix it.
// Limit errors are built from a fresh survey of /proc (limits, what this user holds, what the trees need).
import { InosyncError } from '../errors.js';
import { MAX_DEPTH, MAX_DIRECTORY_PATH, shownPath, type Overlong } from '../safety/deep-paths.js';
import type { TreeToCount } from '../limits/count-dirs.js';
import { effectiveInstanceLimit, effectiveWatchLimit, readInotifyLimits, SYSCTL } from '../limits/read.js';
import { raiseCommands } from '../limits/recommend.js';
import type { InotifySurvey } from '../limits/survey.js';
import { thousands as n } from '../log/thousands.js';

/**
 * The survey behind a limit error, loaded when a limit is hit: it reads /proc through fs/promises, which every
 * `inosync watch` would otherwise load at start. A survey that fails leaves the numbers out of the message.
 */
async function survey(trees: readonly TreeToCount[]): Promise<InotifySurvey | undefined> {
  const { surveyInotify } = await import('../limits/survey.js');
  return surveyInotify(trees).catch(() => undefined);
}

const shown = (path: Buffer): string => JSON.stringify(path.toString());

/** The part of a message that says which per-user-namespace limit bites, if it is lower than the sysctl. */
function namespaceClause(survey: InotifySurvey, which: 'watches' | 'instances'): string {
  const limit = which === 'watches' ? effectiveWatchLimit(survey.limits) : effectiveInstanceLimit(survey.limits);
  const namespaced = which === 'watches' ? SYSCTL.nsWatches : SYSCTL.nsInstances;
  return limit.sysctl === namespaced ? ` (this user namespace allows only ${n(limit.value)}: ${namespaced})` : '';
}

function raiseFix(survey: InotifySurvey, roots: readonly string[], extra: string): string {
  const commands = raiseCommands(survey.advice, roots);
  return [
    commands.length > 0 ? `raise the limit: ${commands.join('; ')}.` : '',
    survey.advice.namespaceNote ? `Note: ${survey.advice.namespaceNote}.` : '',
    extra,
  ].filter(Boolean).join(' ');
}

/** inotify_add_watch failed with ENOSPC: the per-user watch limit, not the disk. */
export class WatchLimitError extends InosyncError {
  readonly path: Buffer;
  /** Watches the trees need (one per directory), when they could be counted. */
  readonly needed: number | undefined;

  constructor(path: Buffer, survey: InotifySurvey | undefined, roots: readonly string[], options: { cause?: unknown } = {}) {
    const prefix = `inotify watch limit reached (ENOSPC) while watching ${shown(path)}`;
    if (survey === undefined) {
      super(`${prefix}: fs.inotify.max_user_watches is too low for this tree`,
        'raise it: sysctl -w fs.inotify.max_user_watches=<N> (and the same line in /etc/sysctl.d/60-inosync.conf to keep it); `inosync limits <dir>` computes N',
        { cause: options.cause });
    } else {
      super(
        `${prefix}: ${SYSCTL.watches} is ${n(survey.limits.maxUserWatches.value)}${namespaceClause(survey, 'watches')}, ` +
          `this user holds ${n(survey.usage.watches)} watches already, and the watched trees need ${n(survey.directories)} directories (one watch each)`,
        raiseFix(survey, roots, 'Or exclude large subtrees that need no watching.'),
        { cause: options.cause },
      );
    }
    this.path = path;
    this.needed = survey?.directories;
  }
}

/** Surveys the limits and the trees, then builds the WatchLimitError (the survey failing leaves the numbers out). */
export async function watchLimitError(path: Buffer, trees: readonly TreeToCount[], cause: unknown): Promise<WatchLimitError> {
  return new WatchLimitError(path, await survey(trees), trees.map((t) => t.root.toString()), { cause });
}

/** inotify_init1 failed with EMFILE: too many inotify instances for this user, or no file descriptor left. */
export class InstanceLimitError extends InosyncError {
  constructor(survey: InotifySurvey | undefined, options: { cause?: unknown } = {}) {
    if (survey !== undefined && !survey.advice.instances.sufficient) {
      super(
        `cannot open an inotify instance (EMFILE): ${SYSCTL.instances} is ${n(survey.limits.maxUserInstances.value)}` +
          `${namespaceClause(survey, 'instances')} and this user holds ${n(survey.usage.instances)} already`,
        raiseFix(survey, [], 'Or stop inotify watchers of this user that are no longer needed (`inosync limits` lists them).'),
        { cause: options.cause },
      );
    } else {
      super(
        `cannot open an inotify instance (EMFILE): the process has no file descriptor left, or ${SYSCTL.instances} is used up`,
        'raise the open-files limit (ulimit -n, or LimitNOFILE= in the systemd unit); `inosync limits` shows the inotify instances held',
        { cause: options.cause },
      );
    }
  }
}

export async function instanceLimitError(cause: unknown): Promise<InstanceLimitError> {
  return new InstanceLimitError(await survey([]), { cause });
}

/** A root cannot be watched: missing, unreadable, or not reachable. */
export class RootError extends InosyncError {
  readonly root: Buffer;

  constructor(root: Buffer, code: string | undefined, options: { cause?: unknown } = {}) {
    const reasons: Record<string, [string, string]> = {
      ENOENT: ['does not exist', 'create it, or correct the path'],
      ENOTDIR: ['cannot be reached: a component of the path is not a directory', 'correct the path'],
      EACCES: ['cannot be read: permission denied', `grant read and execute permission (see ls -ld ${shown(root)}), or run as a user who has it`],
      ELOOP: ['is a symlink loop', 'point it at a real directory'],
      ENAMETOOLONG: ['is too long a path for the kernel (PATH_MAX, 4,096 bytes)', 'name it by a shorter path (a bind mount nearer /)'],
    };
    const [what, fix] = reasons[code ?? ''] ?? [`cannot be watched (${code ?? 'unknown error'})`, 'check the path and its permissions'];
    super(`watch root ${shown(root)} ${what}`, fix, { cause: options.cause });
    this.root = root;
  }
}

export type RootGoneHow = 'deleted' | 'moved' | 'unmounted';

/** A root was deleted, moved away or unmounted while watched: its changes can no longer be seen. */
export class RootGoneError extends InosyncError {
  readonly root: Buffer;
  readonly how: RootGoneHow;

  constructor(root: Buffer, how: RootGoneHow) {
    super(
      `watch root ${shown(root)} was ${how === 'moved' ? 'moved away' : how}: its changes can no longer be watched`,
      'restore the directory (or remount it) and restart inosync; a moved root is not followed to its new place',
    );
    this.root = root;
    this.how = how;
  }
}

/** The kernel's event queue overflowed (IN_Q_OVERFLOW): events were lost, every root is rescanned. */
export class QueueOverflowError extends InosyncError {
  readonly queueSize: number | undefined;

  constructor(queueSize: number | undefined) {
    const suggested = Math.max(16_384, (queueSize ?? 16_384) * 4);
    super(
      `the inotify event queue overflowed (${SYSCTL.queuedEvents} is ${queueSize === undefined ? 'unknown' : n(queueSize)}): ` +
        'events were lost; every root is rescanned',
      `raise the queue: sysctl -w ${SYSCTL.queuedEvents}=${suggested} (and the same line in /etc/sysctl.d/60-inosync.conf to keep it); ` +
        'it applies to inotify instances opened afterwards, so restart inosync',
    );
    this.queueSize = queueSize;
  }
}

export function queueOverflowError(): QueueOverflowError {
  let queueSize: number | undefined;
  try {
    queueSize = readInotifyLimits().maxQueuedEvents.value;
  } catch {
    // no /proc: the message goes without the number
  }
  return new QueueOverflowError(queueSize);
}

/** A directory inside the tree could not be watched or listed (permission denied): its changes are not seen. */
export class UnwatchableDirectoryError extends InosyncError {
  readonly path: Buffer;

  constructor(path: Buffer, code: string, options: { cause?: unknown } = {}) {
    super(
      `cannot watch ${shown(path)} (${code}): changes below it are not seen`,
      'grant the watcher read and execute permission on it, or exclude it',
      { cause: options.cause },
    );
    this.path = path;
  }
}

/** A directory too deep or with too long a path to watch or send (see safety/deep-paths.ts): left out whole. */
export class OverlongDirectoryError extends InosyncError {
  /** As events give it (the root as given, then the relative path). */
  readonly path: Buffer;
  /** Below the root. */
  readonly relative: Buffer;
  readonly bytes: number;
  readonly depth: number;

  constructor(path: Buffer, relative: Buffer, overlong: Overlong) {
    super(
      `skipping ${shownPath(path)} (${n(overlong.depth)} levels below the root, ${n(overlong.bytes)} bytes): ` +
        `deeper than ${n(MAX_DEPTH)} levels or longer than ${n(MAX_DIRECTORY_PATH)} bytes; it and everything below it are neither watched nor synced`,
      'nothing to do to keep the rest mirrored; to have it mirrored, move it nearer the root (or exclude it to silence this warning)',
    );
    this.path = path;
    this.relative = relative;
    this.bytes = overlong.bytes;
    this.depth = overlong.depth;
  }
}

/** The `code` of a Node-style syscall error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Errors that mean "this directory is no longer there", normal on a live tree. */
export const VANISHED: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);
