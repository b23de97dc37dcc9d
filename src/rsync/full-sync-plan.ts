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
// A hard link is kept by rsync -H only when one run sends all its names. The names of each multiply-linked
// inode come from the scan the state record takes before every full sync (hard-links.ts): subtrees that
// share an inode become one unit, which goes into one part; an inode named both in a shallow directory (the
// shallow run sends those files) and inside a part keeps the tree whole. With -H and no such finding the
// caller keeps the tree whole too (transport.ts).
//
// The size comes from a cheap look: a few directory listings from the top. A tree too narrow to split
// (fewer subtrees found than there are runs to share them) goes as one run, as before.
import { lstat, readdir } from 'node:fs/promises';
import type { LinkedNames } from './hard-links.js';

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
  /** The names of each inode to keep in one run (none without -H). */
  links: LinkedNames;
  /** Entries in the tree, when a scan just counted them: a large tree is cut into more parts (MAX_PART_ENTRIES). */
  entries?: number;
  /**
   * Parts only as the size needs (MAX_PART_ENTRIES each), to run one after another: a verification, which has
   * next to nothing to send. Parts pay for sending; for checking, parts side by side only compete for the
   * cores (200k files, 2 cores, nothing to send: -a 4.1 s of CPU in 16 parts, 2.3 s in one), while one run of
   * a very large tree holds its whole file list.
   */
  serial?: boolean;
}

/** Subtrees per run to share out: enough that one large subtree does not leave the other runs idle. */
const GROUPS_PER_PROC = 4;
/**
 * Entries a part is cut for at most, on average. Each part is one rsync with --no-inc-recursive, whose sender
 * and generator both hold its whole file list: measured with -aHAX, the three processes of one run were about
 * 15 MiB at 11k entries, 17 at 22k, 22 at 44k (a fixed ~13 MiB, then ~0.2 KiB an entry). With a fixed number
 * of parts a 1M-file tree made parts of 70k entries (~27 MiB each, four at once); cut by size, the runs at
 * once weigh the same at any size of tree, for one more rsync start (a few ms) every MAX_PART_ENTRIES entries.
 */
export const MAX_PART_ENTRIES = 25_000;
/** Parts at most, whatever the size of the tree: each is a process start and, over ssh, a session. */
const MAX_PARTS = 1024;
/** Listings the plan may make below the root before it settles for what it found. */
const MAX_LISTINGS = 64;
/** How deep below the root shallow directories may go. */
const MAX_DEPTH = 3;

/** The split, or undefined when the tree goes as one run (one proc, or too narrow to share out). */
export async function planFullSync(source: string, options: PlanOptions): Promise<FullSyncPlan | undefined> {
  const bySize = Math.ceil((options.entries ?? 0) / MAX_PART_ENTRIES);
  const serial = options.serial === true;
  const wanted = Math.min(MAX_PARTS, serial ? bySize : Math.max(options.procs * GROUPS_PER_PROC, bySize));
  // Parts a split must make to be worth it: side by side, one for each proc.
  const fewest = serial ? 2 : options.procs;
  if (fewest < 2 || wanted < 2) return undefined;
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
  const units = keepLinksTogether(subtrees, options.links);
  if (units === undefined || units.length < fewest) return undefined;
  return {
    shallow: shallow.map((dir) => (dir.length === 0 ? Buffer.from('./') : Buffer.concat([dir, SLASH]))),
    parts: await groupByWeight(root, units, Math.min(wanted, units.length)),
  };
}

/**
 * The subtrees in units that each go into one part: subtrees holding names of one inode are one unit.
 * Undefined when an inode is named in a shallow directory and inside a subtree: two runs would send it.
 */
export function keepLinksTogether(subtrees: readonly Buffer[], links: LinkedNames): Buffer[][] | undefined {
  const index = new Map(subtrees.map((path, i) => [path.toString('latin1'), i]));
  // Union-find over subtree indexes, halving paths as it looks.
  const parent = subtrees.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (const names of links) {
    const at = names.map((name) => subtreeOf(name, index));
    const inside = at.filter((i) => i !== undefined);
    if (inside.length === 0) continue; // all in shallow directories: the shallow run sends them together
    if (inside.length < at.length) return undefined;
    for (const i of inside) parent[find(i)] = find(inside[0]!);
  }
  const units = new Map<number, Buffer[]>();
  subtrees.forEach((path, i) => {
    const unit = units.get(find(i));
    if (unit === undefined) units.set(find(i), [path]);
    else unit.push(path);
  });
  return [...units.values()];
}

/** The index of the subtree `name` lies in (subtrees are at most MAX_DEPTH deep), or undefined: in a shallow directory. */
function subtreeOf(name: Buffer, index: ReadonlyMap<string, number>): number | undefined {
  let slash = -1;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    slash = name.indexOf(0x2f, slash + 1);
    if (slash < 0) return undefined;
    const found = index.get(name.toString('latin1', 0, slash));
    if (found !== undefined) return found;
  }
  return undefined;
}

const SLASH = Buffer.from('/');
/** Units weighed at once, and units past which none is (see groupByWeight). */
const WEIGH_AT_ONCE = 64;
const MAX_WEIGHED = 1024;

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
 * Units of subtrees in `count` groups, by greedy least-loaded placement of the heaviest first. A directory's
 * weight is its link count (2 + its subdirectories on Linux filesystems): one lstat each, a rough size that
 * keeps a big subtree from being grouped with other big ones; a unit weighs what its subtrees do.
 */
async function groupByWeight(root: Buffer, units: Buffer[][], count: number): Promise<Buffer[][]> {
  const weighed: Array<{ paths: Buffer[]; weight: number }> = [];
  // A level below the root may hold tens of thousands of subtrees: an lstat each, all at once, took the agent
  // 137 MiB over its size and 2.7 s for 20,000 (a loaded 2-core machine). So a few at a time, and past
  // MAX_WEIGHED none: so many subtrees share out evenly enough by count.
  for (let from = 0; from < units.length; from += WEIGH_AT_ONCE) {
    weighed.push(...await Promise.all(units.slice(from, from + WEIGH_AT_ONCE).map(async (paths) => ({
      paths, weight: units.length > MAX_WEIGHED ? paths.length : (await Promise.all(paths.map((path) => weight(Buffer.concat([root, path]))))).reduce((a, b) => a + b, 0),
    }))));
  }
  weighed.sort((a, b) => b.weight - a.weight);
  const groups = Array.from({ length: count }, () => ({ weight: 0, paths: [] as Buffer[] }));
  for (const item of weighed) {
    let lightest = groups[0]!;
    for (const group of groups) if (group.weight < lightest.weight) lightest = group;
    lightest.paths.push(...item.paths);
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
