// A source directory whose path is not valid UTF-8 still has to reach rsync and the watch tree. Node hands a
// child process its argv and cwd only as UTF-8 strings, so those bytes cannot be put on rsync's command
// line. Such a source gets a private alias instead: a symlink, in a fresh 0700 directory of this process
// (mkdtemp), whose target is the source's real path as exact bytes (symlinkSync takes a Buffer). The alias
// path is plain ASCII and works wherever a path does: the watch tree's root (a root symlink is resolved),
// rsync's `ALIAS/` (followed, as for any source given through a symlink), the hook's INOSYNC_SOURCE.
//
// Why a symlink and not an inherited fd (/proc/self/fd/N): /proc/self in a child is the child, so the fd
// would have to be passed to every rsync, hook and ssh child and named by number in each; a symlink needs
// nothing kept open and means the same to every process. Only this process can write into the directory,
// so the alias cannot be swapped under it. The directory is removed when the process exits (an agent killed
// by SIGKILL leaves one symlink behind in $TMPDIR).
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let directory: string | null = null;
/** Alias per source (its bytes as latin1): a SIGHUP reload gets the same alias, so the sync is kept. */
const aliases = new Map<string, string>();

/** The alias path for the directory `source` (exact bytes; relative to the working directory, if relative). */
export function sourceAlias(source: Buffer): string {
  let real: Buffer;
  try {
    real = realpathSync.native(source, { encoding: 'buffer' });
  } catch {
    real = source; // not there: the plan's check (src/safety/paths.ts) refuses it by its own name
  }
  const key = real.toString('latin1');
  const known = aliases.get(key);
  if (known !== undefined) return known;
  if (directory === null) {
    const dir = mkdtempSync(join(tmpdir(), 'inosync-source-'));
    directory = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const alias = join(directory, `source-${aliases.size}`);
  symlinkSync(real, alias);
  aliases.set(key, alias);
  return alias;
}
