// What a scan of the source found of hard links, for a full sync split into runs (full-sync-plan.ts): rsync -H
// links two names on the target only when one run sends both, so the plan keeps every inode's names together.
//
// Gathered from the scan the state record takes before each full sync anyway (src/state/scan.ts): a stat per
// entry that costs the split nothing more. Bounded: past MAX_LINKED_NAMES names the finding is "too many"
// and the tree goes whole, as one run. A tree that holds that many links (snapshots made with cp -al or
// rsnapshot) has them across all its parts, and one run is what it needs anyway.

/** Names of multiply-linked files held at most (a path and a map entry each: a few MiB). */
export const MAX_LINKED_NAMES = 20_000;

/** The names in the tree of each inode that has two or more there (relative paths). */
export type LinkedNames = readonly (readonly Buffer[])[];

export class LinkFinder {
  private readonly names = new Map<string, Buffer[]>();
  private count = 0;

  /** A regular file with more than one link, by its device and inode (an inode number is unique per device). */
  add(path: Buffer, dev: bigint, ino: bigint): void {
    if (this.count > MAX_LINKED_NAMES) return;
    this.count += 1;
    if (this.count > MAX_LINKED_NAMES) {
      this.names.clear();
      return;
    }
    const key = `${dev}:${ino}`;
    const known = this.names.get(key);
    if (known === undefined) this.names.set(key, [path]);
    else known.push(path);
  }

  /**
   * The inodes named twice or more in the tree (a name alone here has its other links outside it, or
   * excluded: nothing to keep together), or undefined when there were too many names to hold.
   */
  found(): LinkedNames | undefined {
    if (this.count > MAX_LINKED_NAMES) return undefined;
    return [...this.names.values()].filter((paths) => paths.length > 1);
  }
}
