// How deep and how long a directory's path may be for inosync to watch it and hand it to rsync. Anyone who can
// write to a source can make a tree thousands of levels deep (mkdir and chdir in a loop): without a bound it
// stopped the agent from starting (inotify_add_watch: ENAMETOOLONG) and made every rsync of the tree fail.
//
//   - The kernel takes a path of at most PATH_MAX bytes, its NUL included. A directory is watched only when
//     every entry it can hold (a name of up to NAME_MAX bytes) still fits: then every syscall by path under a
//     watched directory (watch, list, lstat, rsync's own) works, and only directories need checking.
//   - rsync 3.5 cannot open a directory 1,024 or more levels below the transfer root (opendir fails, "Cannot
//     allocate memory"): the run exits 23, and that I/O error turns off --delete for the whole run. Before that,
//     its cost grows faster than the square of the depth (it opens each path a name at a time): a run with
//     nothing to send took 0.5 s on a chain of 250 levels, 2.7 s on 500, 12-15 s on 1,000 (tmpfs, here).
//     Directories deeper than MAX_DEPTH are left out: a chain anyone can make costs a run half a second.
//
// What is over these bounds is skipped whole (not watched, not sent, excluded from every rsync run, so the
// targets keep what they hold there) with a warning that names it: see OverlongDirectoryError.
export const PATH_MAX = 4096;
const NAME_MAX = 255;
/** The longest path a watched directory may have: a full-length name in it still fits PATH_MAX with its NUL. */
export const MAX_DIRECTORY_PATH = PATH_MAX - 1 - NAME_MAX - 1;
/** The deepest a directory may be below its root (its path's number of names); rsync fails from 1,024. */
export const MAX_DEPTH = 256;

/** Why a directory is left out: its path's length in bytes (as the kernel sees it) and its depth. */
export interface Overlong {
  bytes: number;
  depth: number;
}

/**
 * False when a directory whose path (as passed to the kernel) has this many bytes is surely within bounds: its
 * path below the root is part of that path, and each level takes two bytes at least (a name and a slash). Lets a
 * walk check each directory it finds without making its path.
 */
export function mayBeOverlong(absoluteLength: number): boolean {
  return absoluteLength > MAX_DIRECTORY_PATH || absoluteLength >= 2 * MAX_DEPTH;
}

/**
 * Undefined when a directory may be watched and sent; else its length and depth. `absoluteLength`: bytes of
 * its path as passed to the kernel; `relative`: its path below the root, in latin1 form (a char a byte).
 */
export function overlongDirectory(absoluteLength: number, relative: string): Overlong | undefined {
  if (!mayBeOverlong(absoluteLength)) return undefined;
  const depth = depthOf(relative);
  return absoluteLength > MAX_DIRECTORY_PATH || depth > MAX_DEPTH ? { bytes: absoluteLength, depth } : undefined;
}

/** Number of names in a relative path ('' is the root: 0). */
function depthOf(relative: string): number {
  if (relative === '') return 0;
  let depth = 1;
  for (let at = relative.indexOf('/'); at >= 0; at = relative.indexOf('/', at + 1)) depth++;
  return depth;
}

/** Bytes kept from each end of a long path in a message. */
const SHOWN_HEAD = 48;
const SHOWN_TAIL = 32;

/**
 * A path for a message, whatever its bytes: cut in the middle when long, with bytes that are not printable
 * ASCII (and backslashes and quotes) written as \xNN, so neither a terminal nor a log line is fooled by it.
 */
export function shownPath(path: Buffer): string {
  const escape = (part: Buffer): string => {
    let out = '';
    for (const byte of part) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x22 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
    return out;
  };
  if (path.length <= SHOWN_HEAD + SHOWN_TAIL + 3) return `"${escape(path)}"`;
  return `"${escape(path.subarray(0, SHOWN_HEAD))}...${escape(path.subarray(path.length - SHOWN_TAIL))}"`;
}
