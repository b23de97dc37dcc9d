// Where a sync may write. Every target gets `rsync --delete`: a local target that is the source, holds it or
// the root would have the source deleted (`-s /x/tgt/src -t /x/tgt` deleted src), one inside the source
// would copy itself into itself forever, and the same holds across the syncs of one config and between
// two targets (the outer one's --delete fights the inner one). So before anything starts (flags, config
// file, SIGHUP reload and `inosync check` alike: agent-plan.ts's planCommandLine), the plan is refused,
// exit 2, unless no local target overlaps any source or any other local target.
//
// Overlap is judged on REAL paths, as bytes: symlinks resolved, `..` taken as the kernel takes it, and for
// a target that does not exist yet, the real path of its deepest existing ancestor plus the rest (rsync
// creates those directories there). A lexical check is fooled by a symlink or a `SRC/..`. realpath is the
// native one: Node's JS realpathSync decodes a Buffer path to a string and loses bytes that are not UTF-8.
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { printablePath } from '../check/drift.js';
import { InosyncError } from '../errors.js';
import type { Target } from '../rsync/target.js';

/** What this check needs of a sync: engine options have this shape. */
export interface SyncPaths {
  source: string;
  /** How the user named the source, when `source` is a private alias of it (see source-alias.ts). */
  sourceLabel?: string;
  targets: readonly Target[];
}

const SLASH = 0x2f;
const isRoot = (path: Buffer): boolean => path.length === 1 && path[0] === SLASH;

const refuse = (message: string, fix: string): InosyncError => new InosyncError(message, fix, { exitCode: 2 });
const show = (path: Buffer): string => printablePath(path);
const errno = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/** The source's real path; refused unless it is an existing directory. */
function realSource(sync: SyncPaths): Buffer {
  const name = sync.sourceLabel ?? sync.source;
  try {
    const real = realpathSync.native(Buffer.from(sync.source), { encoding: 'buffer' });
    if (statSync(real).isDirectory()) return real;
  } catch (error) {
    throw refuse(`source ${name} is not an existing directory (${errno(error)})`, 'Give the directory to mirror; create it first if it is new.');
  }
  throw refuse(`source ${name} is not a directory`, 'Give the directory to mirror, not a file.');
}

/** The real path a local target has, or will have once rsync creates its missing directories. */
function realTarget(target: Target): Buffer {
  const missing: string[] = [];
  for (let path = target.path; ; path = posix.dirname(path)) {
    try {
      const real = realpathSync.native(Buffer.from(path), { encoding: 'buffer' });
      if (missing.length === 0) return real;
      return Buffer.concat([isRoot(real) ? Buffer.alloc(0) : real, ...missing.map((name) => Buffer.from(`/${name}`))]);
    } catch (error) {
      const code = errno(error);
      // Not there (or below a file: rsync fails on it, harmlessly): go up. A dangling symlink is there but
      // cannot be resolved, and where rsync would end up through it is not known.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || (code === 'ENOENT' && lstatSync(path, { throwIfNoEntry: false }) !== undefined)) {
        throw refuse(`target ${target.spec}: ${path} cannot be resolved (${code})`, 'Give a target whose existing part is a real directory path (no dangling symlink).');
      }
      missing.unshift(posix.basename(path));
    }
  }
}

/** Whether `inner` is `outer` or lies below it, as whole path components. */
function within(inner: Buffer, outer: Buffer): boolean {
  if (isRoot(outer)) return true;
  return inner.subarray(0, outer.length).equals(outer) && (inner.length === outer.length || inner[outer.length] === SLASH);
}

/** A remote target's path that is the remote root (`/`, `/.`, `//`, `/x/..`): --delete would empty the host. */
function checkRemote(target: Target): void {
  if (target.kind === 'ssh' && posix.normalize(target.path) === '/') {
    throw refuse(`target ${target.spec} is the root directory of ${target.host}: --delete would remove everything there that is not in the source`, `Give the directory to mirror into, e.g. ${target.host}:/srv/mirror.`);
  }
}

interface Resolved {
  source: Buffer;
  name: string;
  locals: Array<{ spec: string; real: Buffer }>;
}

/** Refuses a target that overlaps a source (its own sync's or another's). */
function checkAgainstSource(target: { spec: string; real: Buffer }, sync: Resolved, own: boolean): void {
  const both = `(real paths: target ${show(target.real)}, source ${show(sync.source)})`;
  const whose = own ? 'the source' : `the source ${sync.name} of another sync`;
  const fix = 'Choose a target outside the source and not above it, e.g. /backup/<name>.';
  if (isRoot(target.real)) {
    throw refuse(`target ${target.spec} is the filesystem root ${both}: --delete would remove everything that is not in ${whose}`, fix);
  }
  if (target.real.equals(sync.source)) throw refuse(`target ${target.spec} is ${whose} ${both}`, fix);
  if (within(sync.source, target.real)) throw refuse(`target ${target.spec} contains ${whose} ${both}: --delete would remove it`, fix);
  if (within(target.real, sync.source)) throw refuse(`target ${target.spec} lies inside ${whose} ${both}: the mirror would copy itself forever`, fix);
}

/** Refuses any sync whose paths are dangerous; see the module header. */
export function checkSyncPaths(syncs: readonly SyncPaths[]): void {
  const resolved: Resolved[] = syncs.map((sync) => {
    sync.targets.forEach(checkRemote);
    return {
      source: realSource(sync),
      name: sync.sourceLabel ?? sync.source,
      locals: sync.targets.flatMap((t) => (t.kind === 'local' ? [{ spec: t.spec, real: realTarget(t) }] : [])),
    };
  });
  const targets = resolved.flatMap((sync) => sync.locals);
  resolved.forEach((sync) => {
    for (const target of sync.locals) for (const other of resolved) checkAgainstSource(target, other, other === sync);
  });
  targets.forEach((a, i) => {
    for (const b of targets.slice(i + 1)) {
      if (within(a.real, b.real) || within(b.real, a.real)) {
        throw refuse(`targets ${a.spec} and ${b.spec} overlap (real paths ${show(a.real)} and ${show(b.real)}): the outer one's --delete would fight the inner one`, 'Give targets that do not lie inside each other.');
      }
    }
  });
}
