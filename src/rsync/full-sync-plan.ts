// How a full sync of a large tree is split into rsyncs that run side by side (fpsync's idea), with deletes
// still exact.
//
//   shallow: `rsync -d [--delete] --force --files-from=- --from0 SRC/ DST/` over `./`, `a/`, ... (one run,
//            first): each listed directory's own entries are sent (files, links, and subdirectories as empty
//            directories) and its entries gone from the source are deleted; nothing below is looked at
//   parts:   `rsync -r [--delete] --force --files-from=- --from0 --ignore-missing-args SRC/ DST/` over
//            disjoint subtrees (each an entry of a shallow directory), up to `procs` at once
//
// Every directory of the tree is then either listed in the shallow run or inside exactly one part, so every
// delete a single `rsync -r --delete` would make is made by exactly one run, and the shallow run has created
// each part's top directory (and replaced whatever was there) before the parts start.
//
// A listed path is judged by rsync's filters by its own name only: a shallow directory's parent is never
// looked at. So with any filter in play (excludes, includes, per-target filters, the skipped deep subtrees)
// only the root is shallow, and each of its subdirectories is judged exactly as a single run would judge it.
// Without filters the split may go deeper while the root has too few directories to share out.
//
// A hard link is kept by rsync -H only when one run sends all its names, and whether a link spans two parts
// cannot be told without a stat of every file: with -H (the default options) the caller keeps the tree
// whole, in one run (transport.ts).
//
// The size comes from a cheap look: a few directory listings from the top. A tree too narrow to split
// (fewer subtrees found than there are runs to share them) goes as one run, as before.
import { lstat, readdir } from 'node:fs/promises';

export interface FullSyncPlan {
  /** Directories whose own entries one run sends and prunes, relative, with a trailing slash (`./` is the root). */
  shallow: Buffer[];
  /** Disjoint subtrees, relative, in groups of about equal weight, heaviest first: one rsync each. */
  parts: Buffer[][];
}

export interface PlanOptions {
  /** rsyncs of one full sync running at once (--full-sync-procs). */
  procs: number;
  /** Excludes, includes or skipped subtrees apply: only the root may be shallow. */
  filtered: boolean;
}

/** Subtrees per run to share out: enough that one large subtree does not leave the other runs idle. */
const GROUPS_PER_PROC = 4;
/** Listings the plan may make below the root before it settles for what it found. */
const MAX_LISTINGS = 64;
/** How deep below the root shallow directories may go. */
const MAX_DEPTH = 3;

/** The split, or undefined when the tree goes as one run (one proc, or too narrow to share out). */
export async function planFullSync(source: string, options: PlanOptions): Promise<FullSyncPlan | undefined> {
  if (options.procs < 2) return undefined;
  const wanted = options.procs * GROUPS_PER_PROC;
  const root = Buffer.from(`${source}/`);
  const shallow: Buffer[] = [];
  let frontier: Buffer[] = [Buffer.alloc(0)];
  let depth = 0;
  let subtrees: Buffer[] = [];
  // Breadth first: a whole level becomes shallow at once, so the parts stay disjoint and every directory of
  // the levels above them is listed.
  for (;;) {
    const below: Buffer[] = [];
    for (const dir of frontier) below.push(...(await subdirectories(root, dir)));
    shallow.push(...frontier);
    subtrees = below;
    depth += 1;
    const mayGoDeeper = !options.filtered && depth < MAX_DEPTH && below.length > 0 && below.length <= MAX_LISTINGS;
    if (below.length >= wanted || !mayGoDeeper) break;
    frontier = below;
  }
  if (subtrees.length < options.procs) return undefined;
  return {
    shallow: shallow.map((dir) => (dir.length === 0 ? Buffer.from('./') : Buffer.concat([dir, SLASH]))),
    parts: await groupByWeight(root, subtrees, Math.min(wanted, subtrees.length)),
  };
}

const SLASH = Buffer.from('/');

/** The subdirectories (not symlinks) of `dir` (relative to `root`), relative; none when it vanished. */
async function subdirectories(root: Buffer, dir: Buffer): Promise<Buffer[]> {
  try {
    const entries = await readdir(Buffer.concat([root, dir]), { withFileTypes: true, encoding: 'buffer' });
    return entries.filter((e) => e.isDirectory()).map((e) => (dir.length === 0 ? e.name : Buffer.concat([dir, SLASH, e.name])));
  } catch {
    return [];
  }
}

/**
 * Subtrees in `count` groups, by greedy least-loaded placement of the heaviest first. A directory's weight is
 * its link count (2 + its subdirectories on Linux filesystems): one lstat each, a rough size that keeps a
 * big subtree from being grouped with other big ones.
 */
async function groupByWeight(root: Buffer, subtrees: Buffer[], count: number): Promise<Buffer[][]> {
  const weighed = await Promise.all(subtrees.map(async (path) => ({ path, weight: await weight(Buffer.concat([root, path])) })));
  weighed.sort((a, b) => b.weight - a.weight);
  const groups = Array.from({ length: count }, () => ({ weight: 0, paths: [] as Buffer[] }));
  for (const item of weighed) {
    let lightest = groups[0]!;
    for (const group of groups) if (group.weight < lightest.weight) lightest = group;
    lightest.paths.push(item.path);
    lightest.weight += item.weight;
  }
  return groups.sort((a, b) => b.weight - a.weight).map((g) => g.paths).filter((paths) => paths.length > 0);
}

async function weight(path: Buffer): Promise<number> {
  try {
    return (await lstat(path)).nlink;
  } catch {
    return 1;
  }
}
