// A rename applied on a target: on an ssh target over the shared connection, without any name on a command
// line; on a local one with rename(2). Either refuses what it cannot do safely (the caller then sends).
//
// ssh joins its arguments into one string for the remote shell, so names cannot safely go there. The remote
// command is a fixed string; the target root and both names go NUL-separated on stdin, and `xargs -0` hands
// them to a fixed script as positional parameters, which no shell ever parses. The script refuses when the
// source is missing or the destination exists (never clobbers) and says `inosync-moved` only on success:
// exit statuses pass through xargs and login shells too loosely to trust alone.
import { lstat, rename } from 'node:fs/promises';
import { runChild } from './child.js';
import type { SshMaster } from './ssh-master.js';

// One line, no single quotes (it is single-quoted below), no '!': csh login shells choke on newlines in quotes and expand '!'.
const SCRIPT = [
  'CDPATH= cd -- "$1" || exit 1',
  'if [ ! -e "$2" ] && [ ! -L "$2" ]; then echo inosync-missing; exit 1; fi',
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

/** The same on a local target: refuses a missing source or an existing destination (never clobbers). */
export async function moveLocally(root: string, from: Buffer, to: Buffer): Promise<boolean> {
  const base = Buffer.from(`${root}/`);
  const source = Buffer.concat([base, from]);
  const destination = Buffer.concat([base, to]);
  try {
    await lstat(source);
  } catch {
    return false;
  }
  try {
    await lstat(destination);
    return false;
  } catch {
    // free: go on
  }
  try {
    await rename(source, destination);
    return true;
  } catch {
    return false;
  }
}
