// The file an rsync daemon target's password is read from (rsync --password-file). rsync reads it itself at
// each connection and, run as root, refuses one that others can read or that root does not own, with an
// error that only shows once a batch fails. So it is checked here, at start and on every reload, for what
// rsync needs and a little more: the file itself (a symlink could be pointed elsewhere after the check), a
// regular file (a FIFO would hang rsync), not empty, owned by the agent's user and readable by it alone.
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { InosyncError } from '../errors.js';

/** The absolute path of a password file that passes; `where` names the setting for the message. */
export function checkPasswordFile(file: string, where: string): string {
  const path = resolve(file);
  const bad = (what: string, fix: string): InosyncError => new InosyncError(`${where}: password file ${path} ${what}`, fix, { exitCode: 2 });
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    throw bad(`cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      `Create it with the module's password on its first line: install -m 600 /dev/null ${path} && echo PASSWORD > ${path}`);
  }
  if (stats.isSymbolicLink()) throw bad('is a symlink', 'Give the file itself, not a link to it: what rsync reads must be what was checked.');
  if (!stats.isFile()) throw bad('is not a regular file', 'Give a regular file holding the password on its first line.');
  if (stats.size === 0) throw bad('is empty', 'Write the module\'s password on its first line.');
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) throw bad(`is owned by uid ${stats.uid}, not by the agent's user (uid ${uid})`, `chown ${uid} ${path} (rsync run as root refuses a password file root does not own).`);
  if ((stats.mode & 0o077) !== 0) {
    throw bad(`can be read or written by group or others (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`, `chmod 600 ${path} (rsync refuses a password file others can read).`);
  }
  return path;
}
