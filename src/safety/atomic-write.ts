// Writing a file where others may have planted names: never through a symlink, never half-written.
//
// The new content goes to a fresh name beside the destination, created exclusively (O_CREAT|O_EXCL, which
// fails on any existing name, a symlink included, rather than follow it) with O_NOFOLLOW, is synced, and is
// renamed over the destination in one step. A destination that is a symlink (or anything but a regular
// file) is refused, not replaced: it was put there by someone, for a reason we cannot know.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InosyncError } from '../errors.js';

const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Replaces `path` with `data` (mode `mode`) atomically; throws (exit 2) when `path` is a symlink or not a file. */
export async function writeFileAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined && !existing.isFile()) {
    throw new InosyncError(`${path} is ${kind(existing)}: it is not written through or replaced`, `Look at what it is and remove it yourself if it should go (rm ${path}), then run this again.`, { exitCode: 2 });
  }
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, CREATE_NEW, mode);
  try {
    try {
      await handle.writeFile(data);
      // The umask narrowed the mode open() was given.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** The rename itself survives a crash only once the directory is synced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function kind(info: Stats): string {
  if (info.isSymbolicLink()) return 'a symlink';
  if (info.isDirectory()) return 'a directory';
  return 'not a regular file';
}
