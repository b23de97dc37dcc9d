// The kernel's inotify limits as this process is subject to them. Read synchronously: a few procfs files,
// read in microseconds, and every `inosync watch` imports this module (for its limit errors), which must not
// cost it the loading of fs/promises at start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One limit: where it is read from and its value. */
export interface KernelLimit {
  /** sysctl name, e.g. fs.inotify.max_user_watches. */
  sysctl: string;
  value: number;
}

export interface InotifyLimits {
  maxUserWatches: KernelLimit;
  maxUserInstances: KernelLimit;
  maxQueuedEvents: KernelLimit;
  /**
   * Since Linux 5.11 the watch and instance limits are also counted per user namespace
   * (/proc/sys/user/max_inotify_*); null where the kernel has no such files.
   */
  namespace: { maxWatches: KernelLimit; maxInstances: KernelLimit } | null;
}

/** The sysctls behind each limit, also the names `--apply` and `--persist` write. */
export const SYSCTL = {
  watches: 'fs.inotify.max_user_watches',
  instances: 'fs.inotify.max_user_instances',
  queuedEvents: 'fs.inotify.max_queued_events',
  nsWatches: 'user.max_inotify_watches',
  nsInstances: 'user.max_inotify_instances',
} as const;

/** /proc/sys/fs/inotify/max_user_watches for fs.inotify.max_user_watches. */
export function sysctlPath(sysctl: string, procRoot = '/proc'): string {
  return join(procRoot, 'sys', ...sysctl.split('.'));
}

function readNumber(sysctl: string, procRoot: string): KernelLimit | null {
  try {
    const text = readFileSync(sysctlPath(sysctl, procRoot), 'utf8');
    const value = Number.parseInt(text.trim(), 10);
    return Number.isFinite(value) ? { sysctl, value } : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function readInotifyLimits(procRoot = '/proc'): InotifyLimits {
  const [watches, instances, queued, nsWatches, nsInstances] =
    [SYSCTL.watches, SYSCTL.instances, SYSCTL.queuedEvents, SYSCTL.nsWatches, SYSCTL.nsInstances].map((name) => readNumber(name, procRoot));
  if (!watches || !instances || !queued) {
    throw new Error(`cannot read inotify limits under ${join(procRoot, 'sys/fs/inotify')}: is /proc mounted and the kernel built with inotify?`);
  }
  return {
    maxUserWatches: watches,
    maxUserInstances: instances,
    maxQueuedEvents: queued,
    namespace: nsWatches && nsInstances ? { maxWatches: nsWatches, maxInstances: nsInstances } : null,
  };
}

/** The limit that bites first: the lower of the global sysctl and this user namespace's own. */
export function effectiveLimit(global: KernelLimit, namespaced: KernelLimit | undefined): KernelLimit {
  return namespaced && namespaced.value < global.value ? namespaced : global;
}

export function effectiveWatchLimit(limits: InotifyLimits): KernelLimit {
  return effectiveLimit(limits.maxUserWatches, limits.namespace?.maxWatches);
}

/** The effective watch limit alone (two procfs reads, for a caller that re-reads it); null without inotify. */
export function readWatchLimit(procRoot = '/proc'): KernelLimit | null {
  const global = readNumber(SYSCTL.watches, procRoot);
  return global && effectiveLimit(global, readNumber(SYSCTL.nsWatches, procRoot) ?? undefined);
}

export function effectiveInstanceLimit(limits: InotifyLimits): KernelLimit {
  return effectiveLimit(limits.maxUserInstances, limits.namespace?.maxInstances);
}
