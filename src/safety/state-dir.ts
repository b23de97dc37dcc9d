// Where the per-target state records live, and which directory may hold them. The agent runs as root and
// trusts what a record says (it decides what is NOT sent): a directory another user can write to, or one
// reached through a symlink someone planted, would let them make it skip files. So the directory is created
// 0700, must be a real directory (lstat: a symlink is refused, not followed), owned by this user (or root),
// and writable by nobody else; files in it are created exclusively without following symlinks (files.ts).
import { lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { InosyncError } from '../errors.js';
import { ourUid } from './owned-files.js';

/**
 * $STATE_DIRECTORY (what systemd's StateDirectory= sets; the first of a list) when given; else
 * /var/lib/inosync as root, $XDG_STATE_HOME/inosync, or ~/.local/state/inosync.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd !== undefined && isAbsolute(systemd)) return systemd;
  if (ourUid() === 0) return '/var/lib/inosync';
  const xdg = env.XDG_STATE_HOME;
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state'), 'inosync');
}

/** Creates `dir` (0700) when missing and checks it as the header says; throws an InosyncError otherwise. */
export function privateDirectory(dir: string): void {
  if (!isAbsolute(dir)) throw new InosyncError(`the state directory ${dir} is not an absolute path`, 'Give --state-dir as an absolute path.', { exitCode: 2 });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new InosyncError(`cannot create the state directory ${dir}: ${(error as Error).message}`, 'Create it (mode 0700), or give another one with --state-dir DIR, or start with --no-trust-state.', { cause: error });
  }
  const info = lstatSync(dir);
  const uid = ourUid();
  const problem = !info.isDirectory() ? 'is not a directory (a symlink is not followed)'
    : info.uid !== uid && info.uid !== 0 ? `is owned by uid ${info.uid}, not by this user`
      : (info.mode & 0o022) !== 0 ? `is writable by other users (mode ${(info.mode & 0o777).toString(8)})`
        : undefined;
  if (problem !== undefined) {
    throw new InosyncError(`the state directory ${dir} ${problem}`, `Remove it or fix it (chown to this user, chmod 700), or give another one with --state-dir DIR.`, { exitCode: 2 });
  }
}
