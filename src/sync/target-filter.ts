// Per-target filters: one source, several targets, each with its own view of the tree.
//
// A target's rules are rsync's: its own includes and the sync's, then its own excludes and the sync's,
// first match wins (rsync reads `--include` before `--exclude` the same way). What the watch tree watches
// is the union of the views: a directory is left unwatched only when every target leaves it out. What a
// target is sent is cut to its view here, before its host queue: rsync prunes an excluded directory while
// it recurses, but not the parents of a --files-from entry, so `docs/a/b` listed for a target that
// excludes `docs/` would reach it. Deletes are cut the same way, and rsync's --delete leaves excluded
// entries on the receiver alone: a target never loses what its view leaves out.
import type { Target } from '../rsync/target.js';
import type { ExcludeFn } from '../watch/types.js';
import type { DeleteMode } from './delete-mode.js';
import { filterFn } from './exclude.js';
import { PathSet } from './path-set.js';

/** What a target of a sync does beyond where it is: its delete mode and its own rules. */
export interface TargetRules {
  deleteMode?: DeleteMode;
  /** rsync include patterns of this target alone (ahead of every exclude). */
  includes?: string[];
  /** rsync exclude patterns of this target alone, on top of the sync's. */
  excludes?: string[];
}

export type SyncTarget = Target & TargetRules;

/** The sync's own patterns, for every target. */
export interface SyncFilters {
  includes?: readonly string[];
  excludes?: readonly string[];
}

export interface FilterLists {
  includes: string[];
  excludes: string[];
}

export function hasOwnRules(target: TargetRules): boolean {
  return (target.includes?.length ?? 0) > 0 || (target.excludes?.length ?? 0) > 0;
}

/** A target's patterns, in the order rsync is given them. */
export function targetFilters(sync: SyncFilters, target: TargetRules): FilterLists {
  return {
    includes: [...(target.includes ?? []), ...(sync.includes ?? [])],
    excludes: [...(target.excludes ?? []), ...(sync.excludes ?? [])],
  };
}

/** The watch tree's ExcludeFn: a path is left out when every target's rules leave it out. */
export function watchExclude(sync: SyncFilters, targets: readonly TargetRules[]): ExcludeFn | undefined {
  if (!targets.some(hasOwnRules)) return filterFn(sync.includes ?? [], sync.excludes ?? []);
  const views = targets.map((target) => viewOf(sync, target));
  if (views.some((view) => view === undefined)) return undefined; // a target that leaves nothing out needs it all
  return (path, isDir, root) => views.every((view) => view!(path, isDir, root));
}

/** What a target with rules of its own leaves out; undefined for a target whose view is the watched tree's. */
export function ownView(sync: SyncFilters, target: TargetRules): ExcludeFn | undefined {
  return hasOwnRules(target) ? viewOf(sync, target) ?? (() => false) : undefined;
}

function viewOf(sync: SyncFilters, target: TargetRules): ExcludeFn | undefined {
  const { includes, excludes } = targetFilters(sync, target);
  return filterFn(includes, excludes);
}

/** An entry's type on the source: undefined when it is gone (a delete). */
export type TypeOf = (path: Buffer) => 'dir' | 'file' | undefined;

/**
 * Whether a path is in a target's view: no directory above it is left out, nor the path itself. A path whose
 * type matters to the rules (a pattern for directories only) and that is gone from the source is out when
 * either type would be: a delete must not reach what the target may be keeping.
 */
export function inView(excluded: ExcludeFn, path: Buffer, typeOf: TypeOf): boolean {
  for (let i = 1; i < path.length; i++) {
    if (path[i] === 0x2f && path[i - 1] !== 0x2f && excluded(path.subarray(0, i), true)) return false;
  }
  if (path.length === 0) return true;
  const asFile = excluded(path, false);
  const asDir = excluded(path, true);
  if (asFile === asDir) return !asFile;
  const type = typeOf(path);
  return type === undefined ? false : !(type === 'dir' ? asDir : asFile);
}

/** The marks inside a target's view (trees are directories). */
export function marksInView(marks: PathSet, excluded: ExcludeFn, typeOf: TypeOf): PathSet {
  const kept = new PathSet();
  for (const { path, mark } of marks.entries()) {
    if (inView(excluded, path, mark === 'tree' ? () => 'dir' : typeOf)) kept.add(path, mark);
  }
  return kept;
}
