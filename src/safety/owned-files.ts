// What the agent may remove: only what it made itself. A path is never trusted for its name alone (a local
// user can plant a file, a symlink or a directory under any name in /tmp); it is checked with lstat (never
// following a symlink) for its type and its owner, and at removal for being the very inode that was made.
import type { Stats } from 'node:fs';

/** The effective uid files we create get; root when the platform has none. */
export function ourUid(): number {
  return process.geteuid?.() ?? 0;
}

/** A directory itself (not a symlink to one), owned by us, that nobody else may enter or write to. */
export function isOurPrivateDirectory(info: Stats): boolean {
  return info.isDirectory() && info.uid === ourUid() && (info.mode & 0o077) === 0;
}

/** A unix socket itself (not a symlink to one), owned by us. */
export function isOurSocket(info: Stats): boolean {
  return info.isSocket() && info.uid === ourUid();
}

/** The same inode: what was created is still what the path names. */
export function sameInode(a: Pick<Stats, 'dev' | 'ino'>, b: Pick<Stats, 'dev' | 'ino'>): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
