// Recommended inotify limits for a set of trees, each with the reasoning a user can check.
import { effectiveInstanceLimit, effectiveWatchLimit, SYSCTL, type InotifyLimits, type KernelLimit } from './read.js';
import type { InotifyUsage } from './usage.js';
import { thousands as n } from '../log/thousands.js';

export interface Recommendation {
  sysctl: string;
  current: number;
  recommended: number;
  /** True when the current value is already enough. */
  sufficient: boolean;
  reason: string;
}

export interface LimitAdvice {
  watches: Recommendation;
  instances: Recommendation;
  queuedEvents: Recommendation;
  /** Set when this user namespace's own limit is lower than the global one and is what bites. */
  namespaceNote: string | null;
}

/** A watch costs the kernel roughly this much memory (inode mark plus bookkeeping, 64-bit). */
const BYTES_PER_WATCH = 1024;
/** Room for the trees to grow and for the user's other watchers (editors, IDEs, file managers). */
const HEADROOM = 2;
const KERNEL_DEFAULT_QUEUE = 16_384;
const MAX_SENSIBLE_QUEUE = 1_048_576;

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function mebibytes(bytes: number): string {
  return `${Math.max(1, Math.round(bytes / 1_048_576))} MiB`;
}


export interface AdviceInput {
  limits: InotifyLimits;
  usage: InotifyUsage;
  /** Directories the trees to watch need (one watch each). */
  directories: number;
  /** inotify instances the new watcher opens (inosync opens one for all its roots). */
  newInstances?: number;
}

/** A limit on things a user holds (watches, instances): enough when the need fits, else twice the need. */
function countedLimit(limit: KernelLimit, need: number, step: number, why: string, cost: (target: number) => string): Recommendation {
  const sufficient = need <= limit.value;
  const target = Math.max(limit.value, roundUp(need * HEADROOM, step));
  return {
    sysctl: limit.sysctl,
    current: limit.value,
    recommended: sufficient ? limit.value : target,
    sufficient,
    reason: `${why}; ${sufficient ? `fits under ${n(limit.value)}` : `twice that, for growth and other watchers, rounded up: ${n(target)}${cost(target)}`}`,
  };
}

export function adviseLimits({ limits, usage, directories, newInstances = 1 }: AdviceInput): LimitAdvice {
  const watchLimit = effectiveWatchLimit(limits);
  const instanceLimit = effectiveInstanceLimit(limits);

  const heldWatches = watchLimit.sysctl === SYSCTL.nsWatches ? usage.namespace.watches : usage.watches;
  const watchNeed = heldWatches + directories;
  const watches = countedLimit(watchLimit, watchNeed, 8192,
    `one watch per directory: ${n(directories)} for the given trees + ${n(heldWatches)} this user already holds = ${n(watchNeed)}`,
    (target) => ` (at most ~${mebibytes(target * BYTES_PER_WATCH)} of kernel memory, used only by watches actually held)`);
  const heldInstances = instanceLimit.sysctl === SYSCTL.nsInstances ? usage.namespace.instances : usage.instances;
  const instanceNeed = heldInstances + newInstances;
  const instances = countedLimit(instanceLimit, instanceNeed, 128,
    `inosync opens ${newInstances} instance for all its trees; this user holds ${n(heldInstances)} already = ${n(instanceNeed)}`,
    () => '');

  // A burst bigger than the queue overflows it, and an overflow costs a rescan and a full resync of the
  // tree. A queue of four events per directory rides out a storm that touches every directory.
  const queueWanted = Math.min(MAX_SENSIBLE_QUEUE, Math.max(KERNEL_DEFAULT_QUEUE, 2 ** Math.ceil(Math.log2(Math.max(1, directories * 4)))));
  const queueOk = limits.maxQueuedEvents.value >= queueWanted;
  const queuedEvents: Recommendation = {
    sysctl: SYSCTL.queuedEvents,
    current: limits.maxQueuedEvents.value,
    recommended: Math.max(limits.maxQueuedEvents.value, queueWanted),
    sufficient: queueOk,
    reason:
      `events wait here between reads; past it the kernel drops them and inosync must rescan and resync; ` +
      `about 4 per directory (${n(directories)}) absorbs a storm that touches every directory: ${n(queueWanted)}` +
      (queueOk ? `, the current ${n(limits.maxQueuedEvents.value)} is enough` : '') +
      '; takes effect for inotify instances opened after the change',
  };

  const namespaceNote =
    watchLimit.sysctl === SYSCTL.nsWatches || instanceLimit.sysctl === SYSCTL.nsInstances
      ? `this user namespace has its own lower limit (${watchLimit.sysctl === SYSCTL.nsWatches ? `${SYSCTL.nsWatches}=${n(watchLimit.value)}` : `${SYSCTL.nsInstances}=${n(instanceLimit.value)}`}); raise it inside the namespace (or start the agent outside it)`
      : null;

  return { watches, instances, queuedEvents, namespaceNote };
}

export function recommendations(advice: LimitAdvice): Recommendation[] {
  return [advice.watches, advice.instances, advice.queuedEvents];
}

/** Lines that tell a user how to raise what is too low, now and across reboots. */
export function raiseCommands(advice: LimitAdvice, trees: readonly string[]): string[] {
  const short = recommendations(advice).filter((r) => !r.sufficient);
  if (short.length === 0) return [];
  const treesArg = trees.map(shellWord).join(' ');
  return [
    `sudo inosync limits --apply --persist${treesArg ? ` ${treesArg}` : ''}`,
    `or by hand: sudo sysctl -w ${short.map((r) => `${r.sysctl}=${r.recommended}`).join(' ')} (and the same lines in /etc/sysctl.d/60-inosync.conf to keep them)`,
  ];
}

/** Quotes a path for a command line a user will paste. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
