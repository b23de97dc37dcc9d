// Directories left out as too deep or too long (safety/deep-paths.ts), on the sync side. The watch tree never
// watches them and names each in a warning; here:
//   - no change in them reaches rsync (a move across the bound is a delete of the old name, or a create of the
//     new one: what rsync can see of it);
//   - every rsync run excludes them by anchored rules (a NUL-separated file in a private 0700 directory, read by
//     each run at its start), so a recursive run never walks into one: rsync would fail there after walking the
//     whole chain, and the I/O error would turn its --delete off for the whole tree.
// Excluded, they are also protected from --delete: a target keeps what it holds there.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { excludeRule } from '../rsync/delete-filter.js';
import { mayBeOverlong, overlongDirectory } from '../safety/deep-paths.js';
import type { Change } from '../watch/types.js';

const SLASH = 0x2f;
const NUL = Buffer.from([0]);

// A process that ends without stopping its engine (an error on the way out, a stop cut short) still leaves
// no rules directory behind.
const open = new Set<SkippedSubtrees>();
process.on('exit', () => { for (const skipped of open) skipped.close(); });

export class SkippedSubtrees {
  /** Relative paths (latin1 form) of the directories left out, in the order they were found. */
  private readonly skipped = new Map<string, Buffer>();
  private dir: string | undefined;
  private closed = false;

  /** `sourcePrefix`: the source root as the watch tree has it, with one trailing slash. */
  constructor(private readonly sourcePrefix: Buffer) {}

  /** The directories left out, relative to the source root. */
  get paths(): Buffer[] {
    return [...this.skipped.values()];
  }

  /** The rules file for rsync's --exclude-from (with --from0), once a directory has been left out. */
  get rulesFile(): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, 'rules');
  }

  /** A directory the watch tree left out: excluded from every rsync run started from now on. */
  add(relative: Buffer): void {
    const key = relative.toString('latin1');
    // A walk still under way when the engine stops can report one after close(): no rsync runs then, and a
    // rules directory made now would be left in TMPDIR.
    if (this.closed || this.skipped.has(key)) return;
    this.skipped.set(key, relative);
    if (this.dir === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), 'inosync-skipped-'));
      open.add(this);
    }
    const file = this.rulesFile as string;
    // Replaced whole, never rewritten in place: an rsync starting meanwhile reads the old list or the new one.
    writeFileSync(`${file}.new`, Buffer.concat(this.paths.flatMap((path) => [excludeRule(path), NUL])), { mode: 0o600 });
    renameSync(`${file}.new`, file);
  }

  /** The change as it may reach rsync, or undefined when it lies in a directory left out. */
  admit(change: Change): Change | undefined {
    if (change.kind !== 'moved' || change.from === undefined) return this.isOverlong(change.path, change.isDir) ? undefined : change;
    const fromOut = this.isOverlong(change.from, change.isDir);
    const toOut = this.isOverlong(change.path, change.isDir);
    if (fromOut && toOut) return undefined;
    if (toOut) return { kind: 'deleted', root: change.root, path: change.from, isDir: change.isDir };
    if (fromOut) return { kind: 'created', root: change.root, path: change.path, isDir: change.isDir };
    return change;
  }

  /** Removes the rules file and its directory. */
  close(): void {
    this.closed = true;
    open.delete(this);
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  /** Whether a path lies in a directory left out: the same bounds as the watch tree's, on its directory part. */
  private isOverlong(path: Buffer, isDir: boolean): boolean {
    const dir = isDir ? path : path.subarray(0, Math.max(0, path.lastIndexOf(SLASH)));
    const length = this.sourcePrefix.length + dir.length;
    return mayBeOverlong(length) && overlongDirectory(length, dir.toString('latin1')) !== undefined;
  }
}
