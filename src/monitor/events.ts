// inotifywait's event names: parsing `-e LIST` and printing a mask as `%e` does, names in the same order.
import { constants as C } from '../inotify/binding.js';
import { InosyncError } from '../errors.js';

/** Names in the order inotifywait prints them within %e (CLOSE follows IGNORED, ISDIR comes last but one). */
const PRINTED: ReadonlyArray<readonly [string, number]> = [
  ['ACCESS', C.IN_ACCESS], ['MODIFY', C.IN_MODIFY], ['ATTRIB', C.IN_ATTRIB], ['CLOSE_WRITE', C.IN_CLOSE_WRITE],
  ['CLOSE_NOWRITE', C.IN_CLOSE_NOWRITE], ['OPEN', C.IN_OPEN], ['MOVED_FROM', C.IN_MOVED_FROM],
  ['MOVED_TO', C.IN_MOVED_TO], ['CREATE', C.IN_CREATE], ['DELETE', C.IN_DELETE], ['DELETE_SELF', C.IN_DELETE_SELF],
  ['UNMOUNT', C.IN_UNMOUNT], ['Q_OVERFLOW', C.IN_Q_OVERFLOW], ['IGNORED', C.IN_IGNORED], ['CLOSE', C.IN_CLOSE],
  ['MOVE_SELF', C.IN_MOVE_SELF], ['ISDIR', C.IN_ISDIR], ['ONESHOT', C.IN_ONESHOT],
];

/** Every name `-e` accepts (case-insensitive), with the bits it stands for. */
const ACCEPTED = new Map<string, number>([
  ...PRINTED,
  ['MOVE', C.IN_MOVE],
  ['ALL_EVENTS', C.IN_ALL_EVENTS],
]);

/** The events inotifywait listens for when no -e is given. */
export const ALL_EVENTS = C.IN_ALL_EVENTS;

/** The mask as inotifywait's %Xe prints it: names joined by `separator`, or 0x%08x when none applies. */
export function eventNames(mask: number, separator = ','): string {
  const names = eventNameList(mask);
  return names.length > 0 ? names.join(separator) : `0x${(mask >>> 0).toString(16).padStart(8, '0')}`;
}

/** The names in a mask, in %e order (CLOSE_WRITE also yields CLOSE, as in inotifywait). */
export function eventNameList(mask: number): string[] {
  return PRINTED.filter(([, bit]) => (mask & bit) !== 0).map(([name]) => name);
}

/**
 * One `-e` argument: comma-separated names, case-insensitive. Like inotifywait, an empty list or an empty
 * element (`modify,,create`, `modify,`) yields 0, which means "every event" once all -e are combined.
 */
export function parseEventList(list: string): number {
  if (list === '') return 0;
  if (list.endsWith(',')) return 0;
  let mask = 0;
  for (const name of list.split(',')) {
    if (name === '') return 0;
    const bits = ACCEPTED.get(name.toUpperCase());
    if (bits === undefined) {
      throw new InosyncError(`'${list}' is not a valid event!  Run with the '--help' option to see a list of events.`,
        'Use the names listed under EVENTS in --help, comma-separated: -e modify,create,delete.', { exitCode: 1 });
    }
    mask |= bits;
  }
  return mask;
}

/** A single event name for inotifywatch's -a/-d (sorting): `total` is 0, `move`/`close` are refused. */
export function parseSortEvent(name: string): number {
  const upper = name.toUpperCase();
  if (upper === 'TOTAL') return 0;
  if (upper === 'MOVE') throw new InosyncError("Cannot sort by `move' event; please use `moved_from' or `moved_to'.", 'Sort by moved_from or moved_to.', { exitCode: 1 });
  if (upper === 'CLOSE') throw new InosyncError("Cannot sort by `close' event; please use `close_write' or `close_nowrite'.", 'Sort by close_write or close_nowrite.', { exitCode: 1 });
  const bits = STAT_EVENTS.find(([n]) => n === name.toLowerCase())?.[1];
  if (bits === undefined) throw new InosyncError(`'${name}' is not a valid key for sorting!`, 'Sort by total or by one event name, e.g. -d modify.', { exitCode: 1 });
  return bits;
}

/** The columns of inotifywatch's table, in its order. */
export const STAT_EVENTS: ReadonlyArray<readonly [string, number]> = [
  ['access', C.IN_ACCESS], ['modify', C.IN_MODIFY], ['attrib', C.IN_ATTRIB], ['close_write', C.IN_CLOSE_WRITE],
  ['close_nowrite', C.IN_CLOSE_NOWRITE], ['open', C.IN_OPEN], ['moved_from', C.IN_MOVED_FROM],
  ['moved_to', C.IN_MOVED_TO], ['move_self', C.IN_MOVE_SELF], ['create', C.IN_CREATE], ['delete', C.IN_DELETE],
  ['delete_self', C.IN_DELETE_SELF], ['unmount', C.IN_UNMOUNT],
];

/** The event list of --help (inotifywait's wording, one line each). */
export const EVENT_HELP: ReadonlyArray<readonly [string, string]> = [
  ['access', 'file or directory contents were read'],
  ['modify', 'file or directory contents were written'],
  ['attrib', 'file or directory attributes changed (mode, owner, times, xattrs)'],
  ['close_write', 'file or directory closed, after being opened in writable mode'],
  ['close_nowrite', 'file or directory closed, after being opened in read-only mode'],
  ['close', 'close_write or close_nowrite (printed as one of those, never CLOSE alone)'],
  ['open', 'file or directory opened'],
  ['moved_to', 'file or directory moved to a watched directory'],
  ['moved_from', 'file or directory moved from a watched directory'],
  ['move', 'moved_to or moved_from'],
  ['move_self', 'a watched file or directory was moved'],
  ['create', 'file or directory created within a watched directory'],
  ['delete', 'file or directory deleted within a watched directory'],
  ['delete_self', 'a watched file or directory was deleted'],
  ['unmount', 'file system containing a watched file or directory unmounted'],
];
