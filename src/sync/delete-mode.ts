// Which deletes reach a target: lsyncd's four modes, per target.
//
//   mode      startup / verification full sync   live changes (deletes, renames' old names)
//   always    deletes                            deletes
//   never     keeps                              keeps        (a backup mirror: deleted files stay)
//   startup   deletes                            keeps
//   running   keeps                              deletes
//
// A full sync that stands in for live changes (a backlog past --max-pending collapsed into one, or an
// internal error that lost the details) carries their deletes: it deletes when live changes do. One owed
// for both reasons deletes when either does: what it replaces would have.
//
// Keeping is never a reason to keep the source's own data off a target: an entry whose type changed (a
// directory replaced by a file) is replaced on the target, contents and all (rsync --force), since one
// name cannot hold both.
import { InosyncError } from '../errors.js';

export const DELETE_MODES = ['always', 'never', 'startup', 'running'] as const;
export type DeleteMode = (typeof DELETE_MODES)[number];
export const defaultDeleteMode: DeleteMode = 'always';

/** Why a full sync is owed: the start of a target (startup, SIGUSR1, verification), or lost live changes. */
export type FullSyncCause = 'start' | 'backlog';

/** Whether live changes delete on the target (paths gone from the source, renamed directories' old names). */
export function liveDeletes(mode: DeleteMode = defaultDeleteMode): boolean {
  return mode === 'always' || mode === 'running';
}

/** Whether a full sync owed for these causes runs with --delete. */
export function fullSyncDeletes(mode: DeleteMode = defaultDeleteMode, causes: Iterable<FullSyncCause> = ['start']): boolean {
  for (const cause of causes) {
    if (cause === 'start' ? mode === 'always' || mode === 'startup' : liveDeletes(mode)) return true;
  }
  return false;
}

/** A delete mode from a flag or a config field, or a usage error that names the four. */
export function parseDeleteMode(value: string, where: string): DeleteMode {
  if ((DELETE_MODES as readonly string[]).includes(value)) return value as DeleteMode;
  throw new InosyncError(`${where} "${value}" is not a delete mode`, `Give one of ${DELETE_MODES.join(', ')} (default ${defaultDeleteMode}).`, { exitCode: 2 });
}
