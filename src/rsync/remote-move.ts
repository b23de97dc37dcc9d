// A rename applied on a target: on an ssh target over the shared connection, without any name on a command
// line; on a local one with rename(2). Either refuses what it cannot do safely (the caller then sends).
//
// Only inside the target: every directory above either name, from the target root down, must be a real
// directory on the target at the moment of the move, never a symlink. The target may hold a symlink the
// source has since replaced by a directory (its change not sent yet), and rename(2) would resolve through it
// to wherever it points, outside the target.
//
// ssh joins its arguments into one string for the remote shell, so names cannot safely go there. The remote
// command is a fixed string; the target root and both names go NUL-separated on stdin, and `xargs -0` hands
// them to a fixed script as positional parameters, which no shell ever parses. The script refuses when a
// directory above either name is a symlink or not a directory, when the source is missing or when the
// destination exists (never clobbers), and says `inosync-moved` only on success: exit statuses pass through
// xargs and login shells too loosely to trust alone.
import { constants } from 'node:fs';
import { lstat, open, rename, type FileHandle } from 'node:fs/promises';
import { runChild } from './child.js';
import { components } from '../sync/path-set.js';
import type { SshMaster } from './ssh-master.js';

// One line, no single quotes (it is single-quoted below), no '!': csh login shells choke on newlines in quotes and expand '!'.
// The loop walks up each name with ${p%/*}, a suffix strip on the parameter's value: nothing is parsed as code.
const SCRIPT = [
  'CDPATH= cd -- "$1" || exit 1',
  'for p in "$2" "$3"; do while case $p in */*) true;; *) false;; esac; do p=${p%/*}; if [ -L "$p" ]; then echo inosync-unsafe; exit 1; fi; [ -d "$p" ] || { echo inosync-unsafe; exit 1; }; done; done',
  '[ -e "$2" ] || [ -L "$2" ] || { echo inosync-missing; exit 1; }',
  'if [ -e "$3" ] || [ -L "$3" ]; then echo inosync-exists; exit 1; fi',
  'mv -- "$2" "$3" && echo inosync-moved',
].join('; ');

const REMOTE_MOVE_COMMAND = `xargs -0 -n 3 sh -c '${SCRIPT}' inosync-move`;

export async function runRemoteMove(master: SshMaster, root: string, from: Buffer, to: Buffer, timeoutSec: number, signal: AbortSignal): Promise<boolean> {
  let moved = false;
  const result = await runChild({
    command: 'ssh',
    args: [...master.clientOptions(), '--', master.target.host, REMOTE_MOVE_COMMAND],
    stdin: Buffer.concat([Buffer.from(root), NUL, from, NUL, to, NUL]),
    signal,
    deadlineMs: (timeoutSec * 2 + 5) * 1000,
    onStdoutLine: (line) => { if (line.toString('latin1').trim() === 'inosync-moved') moved = true; },
  });
  return moved && result.exitCode === 0;
}

const NUL = Buffer.from([0]);

/** A non-empty relative path without NUL bytes or `.`/`..` components. */
export function isPlainRelative(path: Buffer): boolean {
  if (path.length === 0 || path[0] === 0x2f || path.includes(0)) return false;
  const text = path.toString('latin1');
  return text.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * The same on a local target, without a race: each directory above a name is opened one component at a time
 * with O_NOFOLLOW, and the entries are then named through those descriptors (`/proc/self/fd/N/name`), so
 * what is checked is what rename(2) uses, whatever is swapped in meanwhile.
 */
export async function moveLocally(root: string, from: Buffer, to: Buffer): Promise<boolean> {
  const opened: FileHandle[] = [];
  try {
    const source = await entryIn(root, from, opened);
    const destination = await entryIn(root, to, opened);
    if (!(await present(source)) || (await present(destination))) return false;
    await rename(source, destination);
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(opened.map((handle) => handle.close()));
  }
}

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

/**
 * `path`'s entry, named through a descriptor of its parent reached from `root` without following any symlink
 * (the root itself is the user's, followed). Throws when a directory on the way is a symlink or no directory.
 * The parent's descriptor is left in `opened` (the caller closes it once the entry has been used).
 */
async function entryIn(root: string, path: Buffer, opened: FileHandle[]): Promise<Buffer> {
  const parts = components(path).map((part) => Buffer.from(part, 'latin1'));
  const name = parts.pop()!;
  let dir = await open(root, O_RDONLY | O_DIRECTORY);
  opened.push(dir);
  for (const part of parts) {
    const next = await open(Buffer.concat([viaDescriptor(dir), part]), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    opened.splice(opened.indexOf(dir), 1, next);
    await dir.close();
    dir = next;
  }
  return Buffer.concat([viaDescriptor(dir), name]);
}

const viaDescriptor = (dir: FileHandle): Buffer => Buffer.from(`/proc/self/fd/${dir.fd}/`);

async function present(path: Buffer): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
