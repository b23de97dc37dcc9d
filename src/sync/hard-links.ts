// Hard links and rsync -H: rsync links the names of an inode only when one transfer sends them all, and
// inotify names only the name written through. So when a file with other names changes, or arrives under a
// renamed directory (which brings its files with no event of their own), the whole tree has to go for its
// links to stay links. This notes what changed until a set is released, then tells whether that is so.
import { readdirSync, type Dirent } from 'node:fs';
import { anyHardLinked } from '../inotify/binding.js';
import type { Change } from '../watch/types.js';

/** Entries a released set may walk below renamed directories; past it the whole tree goes, unlooked. */
const MAX_WALK = 100_000;

const LINK_KINDS = new Set<Change['kind']>(['created', 'closed', 'moved', 'attributes']);
const SLASH = Buffer.from('/');

export class HardLinkCheck {
  /** Files created, linked, moved, written or chmodded, by latin1 path: one look each, however many events. */
  private readonly files = new Map<string, Buffer>();
  private readonly renamedDirs = new Map<string, Buffer>();

  /** `source`: the source root as bytes, with a trailing slash. */
  constructor(private readonly source: Buffer) {}

  note(change: Change): void {
    if (!LINK_KINDS.has(change.kind) || (change.isDir && change.kind !== 'moved')) return;
    const noted = change.isDir ? this.renamedDirs : this.files;
    const key = change.path.toString('latin1');
    if (!noted.has(key)) noted.set(key, Buffer.concat([this.source, change.path]));
  }

  /** True when a file noted since the last call has more than one name now (or a rename was too big to look). */
  takeVerdict(): boolean {
    const files = [...this.files.values()];
    const below = filesBelow([...this.renamedDirs.values()]);
    this.files.clear();
    this.renamedDirs.clear();
    return below === undefined || anyHardLinked([...files, ...below]);
  }
}

/** Everything but directories below `dirs`; undefined past MAX_WALK entries. Vanished directories are skipped. */
function filesBelow(dirs: Buffer[]): Buffer[] | undefined {
  const found: Buffer[] = [];
  const stack = [...dirs];
  let seen = 0;
  while (stack.length > 0) {
    const dir = stack.pop() as Buffer;
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch {
      continue;
    }
    seen += entries.length;
    if (seen > MAX_WALK) return undefined;
    for (const entry of entries) (entry.isDirectory() ? stack : found).push(Buffer.concat([dir, SLASH, entry.name]));
  }
  return found;
}
