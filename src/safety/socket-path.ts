// A unix socket the agent binds: the path must fit, and whatever already sits there must be a socket of ours
// before it is ever removed. `--socket /etc/passwd` is refused and the file left alone; so is a directory, a
// symlink, or another user's socket. Checked before anything is created or removed.
import { randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { InosyncError } from '../errors.js';
import { isOurSocket } from './owned-files.js';

/** sun_path holds 108 bytes with its NUL: a longer path fails to bind or binds a truncated name. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * A fresh name beside `path` to bind under before the socket is linked to `path`: libuv removes the name it
 * bound when the server closes, whatever that name then holds, so that name must never be the user's path.
 */
export function asideName(path: string): string {
  return join(dirname(path), `.inosync-${randomBytes(4).toString('hex')}`);
}
const ASIDE_BYTES = Buffer.byteLength(asideName('/x')) - 1;

const FIX = 'Give another path with --socket PATH (a new name in a directory only you can write to, e.g. /run/inosync/inosync.sock).';

/** Throws (exit 2) unless `path` fits a socket address and names nothing or a socket of ours; returns what is there. */
export async function checkSocketPath(path: string): Promise<Stats | undefined> {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new InosyncError(`the socket path ${path} is ${bytes} bytes long; a unix socket path holds at most ${MAX_SOCKET_PATH_BYTES}`, FIX, { exitCode: 2 });
  }
  const dirBytes = Buffer.byteLength(dirname(path));
  if (dirBytes + ASIDE_BYTES > MAX_SOCKET_PATH_BYTES) {
    throw new InosyncError(`the socket's directory ${dirname(path)} is ${dirBytes} bytes long; it may have at most ${MAX_SOCKET_PATH_BYTES - ASIDE_BYTES} (the socket is first bound under a temporary name there)`, FIX, { exitCode: 2 });
  }
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new InosyncError(`the socket path ${path} cannot be used: ${code ?? (error as Error).message}`, FIX, { exitCode: 2, cause: error });
  }
  if (isOurSocket(info)) return info;
  throw new InosyncError(`the socket path ${path} is ${describe(info)}: it is left alone, not replaced`, FIX, { exitCode: 2 });
}

function describe(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isSymbolicLink()) return 'a symlink';
  if (info.isSocket()) return `a socket of another user (uid ${info.uid})`;
  if (info.isFile()) return 'a regular file';
  return 'not a socket';
}
