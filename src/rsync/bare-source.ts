// Whether -A and -X can matter to a full sync: not on a source whose filesystems cannot hold ACLs or xattrs.
//
// Each costs about as much as the scan itself (NOTES.md: 200k files, nothing to send, -a 2.8 s, -aX 5.0 s,
// -aA 5.3 s, -aHAX 7.3 s), on every file of every full sync, and one rsync is one core. They are left out
// only where that is proven, one of two ways (transport.ts asks for each full sync):
//   - by the scan of the whole source that the state record takes before the full sync (src/state/scan.ts):
//     llistxattr of every entry, symlinks not followed, found none (an ACL is a system.posix_acl_* xattr, an
//     SELinux label a security.* one: all listed). Cheaper than what it saves (about 2 µs an entry against
//     ~20 for -A/-X in rsync), and it stops asking at the first yes. Races: src/state/recorder.ts.
//   - here, by the kernel's own account, /proc/self/mountinfo: the filesystem the source is on and every one
//     mounted below it (rsync crosses mount points) is of a type whose Linux driver has no xattr handlers at
//     all, so no file there has an ACL or an xattr to read (no scan needed: for a source without records).
// Mount options are no proof: noacl and nouser_xattr are gone from current ext4 (this kernel refuses them),
// and nouser_xattr never covered the security.* and trusted.* names root's rsync -X copies.
// What leaving them out gives up: an ACL or xattr set by hand on a target file (none came from the source)
// is no longer pruned by the full sync (rsync without -X leaves a target's xattrs as they are, and an xattr
// removed from the source while the agent was down is an attribute change the state record's difference
// sends, with -A/-X, unless that target had no trusted record). Live batches always keep -A/-X.
import { readFileSync, realpathSync } from 'node:fs';

/** Filesystem types whose Linux drivers have no xattr handlers: no ACL, no xattr on any file. */
const BARE_TYPES: ReadonlySet<string> = new Set(['ramfs', 'vfat', 'msdos', 'exfat']);

interface Mount {
  /** The mount point, as bytes in a latin1 string (the kernel escapes space, tab, newline and backslash). */
  point: string;
  type: string;
}

/** The mounts of a /proc/PID/mountinfo text, in mount order (a later mount on the same point is on top). */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields[4] === undefined || fields[dash + 1] === undefined) continue;
    mounts.push({ point: fields[4].replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))), type: fields[dash + 1]! });
  }
  return mounts;
}

/**
 * The filesystem types a tree at `path` (absolute, symlinks resolved, a latin1 string of its bytes) lies on:
 * the mount that holds it, then every mount below it.
 */
export function treeFilesystems(path: string, mounts: readonly Mount[]): string[] {
  const within = (point: string, dir: string): boolean => dir === point || point === '/' || dir.startsWith(`${point}/`);
  let holder: Mount | undefined;
  for (const mount of mounts) if (within(mount.point, path) && (holder === undefined || mount.point.length >= holder.point.length)) holder = mount;
  const below = mounts.filter((mount) => mount.point !== path && within(path, mount.point));
  return [...(holder ? [holder.type] : []), ...below.map((mount) => mount.type)];
}

/** Whether no file below `source` can hold an ACL or an xattr; false whenever it cannot be told. */
export function bareSource(source: string, mountinfo: () => string = () => readFileSync('/proc/self/mountinfo', 'latin1')): { bare: boolean; types: string[] } {
  try {
    const types = treeFilesystems(realpathSync(source, { encoding: 'buffer' }).toString('latin1'), parseMountinfo(mountinfo()));
    return { bare: types.length > 0 && types.every((type) => BARE_TYPES.has(type)), types: [...new Set(types)] };
  } catch {
    return { bare: false, types: [] };
  }
}
