// Which rsync options a user may give (--rsync-opts, a config's rsyncOptions): an allow-list of attribute and
// transfer options, read with rsync's own grammar, so that no spelling gets something else past it.
//
// inosync runs rsync as root with its own file list, deletes, output format, timeout and ssh connection, and
// promises that a target converges to the source and that nothing outside the two trees is read or written.
// An option is allowed only when it cannot break that: it changes which attributes are kept, or how the data
// travels. Everything else is refused, known or not, with the reason when rsync's table gives one.
//
// rsync's grammar (popt, options.c, checked against rsync 3.5 here): a word `--name` or `--name=value` (no
// abbreviations; `--no-X` exists only where the table lists it); a word `-abc` is a bundle of short options,
// and a short option that takes a value takes the rest of the bundle (`-ae ssh...` is `-a -e 'ssh...'`,
// `-f-_f` is `--filter='-_f'`) or, when nothing is left, the next word. A value in the next word is taken
// even when it starts with '-'. Any other word, `--` included, is a path to rsync: a source or destination of
// the user's choosing, refused outright.
import { InosyncError } from '../errors.js';
import { shellWords } from './shell-words.js';

/** Options that went through checkRsyncOptions, as given (rsync reads them as they were checked). */
export type RsyncOptions = readonly string[] & { readonly __checked: 'rsync-options' };

interface Allowed { value: boolean }
const flag: Allowed = { value: false };
const valued: Allowed = { value: true };

/** Long names allowed, with whether they take a value (rsync's POPT_ARG_STRING/INT). */
const ALLOWED = new Map<string, Allowed>([
  // attributes
  ...names(flag, 'archive', 'links', 'no-links', 'no-l', 'perms', 'no-perms', 'no-p', 'times', 'no-times', 'no-t',
    'group', 'no-group', 'no-g', 'owner', 'no-owner', 'no-o', 'devices', 'no-devices', 'specials', 'no-specials',
    'no-D', 'hard-links', 'no-hard-links', 'no-H', 'acls', 'no-acls', 'no-A', 'xattrs', 'no-xattrs', 'no-X',
    'executability', 'atimes', 'no-atimes', 'no-U', 'open-noatime', 'no-open-noatime', 'omit-dir-times',
    'no-omit-dir-times', 'no-O', 'omit-link-times', 'no-omit-link-times', 'no-J', 'numeric-ids', 'no-numeric-ids',
    'super', 'no-super', 'fake-super', 'safe-links', 'munge-links', 'no-munge-links'),
  ...names(valued, 'chmod', 'chown', 'usermap', 'groupmap', 'modify-window'),
  // transfer
  ...names(flag, 'compress', 'no-compress', 'no-z', 'old-compress', 'new-compress', 'checksum', 'no-checksum', 'no-c',
    'ignore-times', 'whole-file', 'no-whole-file', 'no-W', 'sparse', 'no-sparse', 'no-S', 'preallocate', 'fsync',
    'one-file-system', 'no-one-file-system', 'no-x', 'partial', 'no-partial', 'no-inplace', 'no-iconv',
    'secluded-args', 'no-secluded-args', 'protect-args', 'no-protect-args', 'no-s', 'no-bwlimit', 'no-contimeout',
    // output: inosync reads only lines behind its own marker
    'verbose', 'no-verbose', 'no-v', 'stats'),
  ...names(valued, 'compress-level', 'zl', 'compress-choice', 'zc', 'skip-compress', 'checksum-choice', 'cc',
    'block-size', 'bwlimit', 'rsync-path', 'contimeout'),
]);

/** rsync's short options: the long option each stands for, and whether it takes a value. */
const SHORT: Record<string, { long: string; value: boolean }> = Object.fromEntries([
  ...[['a', 'archive'], ['l', 'links'], ['p', 'perms'], ['t', 'times'], ['g', 'group'], ['o', 'owner'], ['D', 'devices'], // -D is --devices --specials
    ['H', 'hard-links'], ['A', 'acls'], ['X', 'xattrs'], ['E', 'executability'], ['U', 'atimes'], ['N', 'crtimes'],
    ['O', 'omit-dir-times'], ['J', 'omit-link-times'], ['z', 'compress'], ['c', 'checksum'], ['I', 'ignore-times'],
    ['W', 'whole-file'], ['S', 'sparse'], ['x', 'one-file-system'], ['s', 'secluded-args'], ['v', 'verbose'],
    ['q', 'quiet'], ['h', 'human-readable'], ['n', 'dry-run'], ['r', 'recursive'], ['d', 'dirs'], ['L', 'copy-links'],
    ['k', 'copy-dirlinks'], ['K', 'keep-dirlinks'], ['R', 'relative'], ['u', 'update'], ['y', 'fuzzy'], ['m', 'prune-empty-dirs'],
    ['P', 'partial and progress'], ['i', 'itemize-changes'], ['b', 'backup'], ['F', 'filter rules'], ['C', 'cvs-exclude'],
    ['0', 'from0'], ['4', 'ipv4'], ['6', 'ipv6'], ['8', '8-bit-output'], ['V', 'version']].map(([c, long]) => [c, { long, value: false }]),
  ...[['@', 'modify-window'], ['B', 'block-size'], ['e', 'rsh'], ['T', 'temp-dir'], ['f', 'filter'], ['M', 'remote-option']]
    .map(([c, long]) => [c, { long, value: true }]),
] as Array<[string, { long: string; value: boolean }]>);

const DELETES = 'deletes on the target: deletes follow the source, and inosync sends them itself';
const NOT_SENT = 'leaves changed files unsent, so the target would never match the source';
const FILTERS = 'is a filter: use inosync\'s --exclude/--exclude-from, which also stop the watching';
const OUTSIDE = 'reads or writes files outside the source and target trees';
const FOLLOWS = 'follows symlinks, so rsync (as root) could read or write outside the source and target trees';
const OURS = 'is set by inosync itself';
const DAEMON = 'is for rsync daemons, which inosync does not use';
const OUTPUT = 'changes rsync\'s output, which inosync reads';

/** Why a known option is refused; anything neither here nor allowed gets the allow-list's reason. */
const REFUSED = new Map<string, string>([
  ...names(DELETES, 'del', 'delete', 'delete-before', 'delete-during', 'delete-delay', 'delete-after', 'delete-excluded',
    'delete-missing-args', 'force', 'no-force', 'max-delete', 'ignore-errors'),
  ...names('removes files from the source', 'remove-source-files', 'remove-sent-files'),
  ...names('makes rsync change nothing while inosync reports the target in sync', 'dry-run', 'list-only', 'version', 'help'),
  ...names(NOT_SENT, 'update', 'existing', 'ignore-non-existing', 'ignore-existing', 'max-size', 'min-size', 'size-only',
    'prune-empty-dirs', 'stop-after', 'stop-at', 'time-limit', 'append', 'append-verify'),
  ...names(FILTERS, 'filter', 'filter rules', 'exclude', 'include', 'exclude-from', 'include-from', 'cvs-exclude'),
  ...names('changes which paths rsync reads the list of, or where they land: inosync gives the list (--files-from)',
    'files-from', 'from0', 'no-from0', 'relative', 'no-relative', 'implied-dirs', 'no-implied-dirs', 'recursive', 'no-recursive',
    'dirs', 'no-dirs', 'inc-recursive', 'no-inc-recursive', 'ignore-missing-args', 'old-dirs'),
  ...names(FOLLOWS, 'copy-links', 'copy-unsafe-links', 'copy-dirlinks', 'keep-dirlinks'),
  ...names(OUTSIDE, 'backup', 'backup-dir', 'suffix', 'read-batch', 'write-batch', 'only-write-batch', 'log-file',
    'temp-dir', 'compare-dest', 'copy-dest', 'link-dest', 'partial-dir', 'copy-devices', 'write-devices', 'early-input',
    'password-file'),
  ['inplace', `${OUTSIDE}: it writes into the existing file, and so through a hard link it has to a file elsewhere`],
  ['iconv', 'converts names, but inosync sends names as the bytes it saw: a converted name would not match its deletes'],
  ...names('passes commands or options to the other side that inosync cannot check, or changes how they are quoted',
    'rsh', 'remote-option', 'old-args', 'trust-sender'),
  ...names(`${OURS} (its --timeout)`, 'timeout', 'no-timeout'),
  ...names(DAEMON, 'daemon', 'config', 'dparam', 'detach', 'no-detach', 'address', 'port', 'sockopts', 'ipv4', 'ipv6', 'server', 'sender'),
  ...names(OUTPUT, 'out-format', 'log-format', 'log-file-format', 'itemize-changes', 'quiet', 'human-readable', 'progress',
    'partial and progress', 'info', 'debug', 'stderr', 'msgs2stderr', '8-bit-output'),
]);

const ALLOWED_SUMMARY = '-a -l -p -t -g -o -D -H -A -X -E -U -O -J -z -c -I -W -S -x -s -v, --numeric-ids, --chmod, --chown, '
  + '--usermap, --groupmap, --super, --fake-super, --safe-links, --munge-links, --modify-window (-@), --block-size (-B), '
  + '--compress-level, --compress-choice, --skip-compress, --checksum-choice, --bwlimit, --partial, --preallocate, --fsync, '
  + '--rsync-path, --contimeout, --stats, and their --no- forms';

/**
 * The words as rsync options, checked; throws InosyncError (exit 2) naming the first refused option, why,
 * and what to do. `where` names their source for the message (`--rsync-opts`, `rsyncOptions of /src`).
 */
export function checkRsyncOptions(words: readonly string[], where: string): RsyncOptions {
  const refuse = (option: string, word: string, why: string): InosyncError => new InosyncError(
    `rsync option "${option}"${word === option ? '' : ` (in "${word}")`} in ${where} is refused: it ${why}`,
    `Remove it from ${where}. Allowed are attribute and transfer options: ${ALLOWED_SUMMARY}.`,
    { exitCode: 2 },
  );
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word.includes('\0')) throw refuse(word, word, 'contains a NUL byte');
    if (word === '--' || !word.startsWith('-') || word === '-') {
      throw refuse(word, word, 'is not an option: rsync would take it as a file to send or a place to write');
    }
    const takesNext = (option: string): void => {
      if (i + 1 >= words.length) throw refuse(option, word, 'needs a value (--name=VALUE, or the value as the next word)');
      i++;
    };
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const allowed = ALLOWED.get(name);
      if (allowed === undefined) throw refuse(`--${name}`, word, whyRefused(name));
      if (!allowed.value && eq >= 0) throw refuse(`--${name}`, word, 'takes no value');
      if (allowed.value && eq < 0) takesNext(word);
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const letter = word[j] as string;
      const short = Object.hasOwn(SHORT, letter) ? SHORT[letter] : undefined;
      if (short === undefined || !ALLOWED.has(short.long)) throw refuse(`-${letter}`, word, short === undefined ? 'is not an rsync option' : whyRefused(short.long));
      if (!short.value) continue;
      if (j === word.length - 1) takesNext(`-${letter}`);
      break; // the rest of the word is the value
    }
  }
  return Object.freeze([...words]) as unknown as RsyncOptions;
}

/** A one-line flag value (`--rsync-opts "-aHAX -z"`), split as a shell would quote it, then checked. */
export function rsyncOptionsFromFlag(value: string, flagName = '--rsync-opts'): RsyncOptions {
  const words = shellWords(value, flagName);
  if (words.length === 0) throw new InosyncError(`${flagName} is empty`, `Give rsync options (e.g. ${flagName} "-aHAX -z"), or leave ${flagName} out for the default -aHAX.`, { exitCode: 2 });
  return checkRsyncOptions(words, flagName);
}

function whyRefused(long: string): string {
  return REFUSED.get(long) ?? 'is not on inosync\'s list of attribute and transfer options that cannot break the mirror';
}

function names<T>(value: T, ...keys: string[]): Array<[string, T]> {
  return keys.map((key) => [key, value]);
}
