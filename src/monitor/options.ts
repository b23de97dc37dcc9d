// The command lines of `inosync watch` (inotifywait's options) and `inosync watch --stats` (inotifywatch's),
// checked with inotifywait's own rules and messages.
import { InosyncError } from '../errors.js';
import type { PathFilterSpec } from './filter.js';
import { getoptLong, type OptionSpec, type ParsedOption } from './getopt.js';
import { parseEventList, parseSortEvent } from './events.js';

const opt = (key: string, long: string, short: string | undefined, takesValue = false): OptionSpec =>
  short === undefined ? { key, long, takesValue } : { key, long, short, takesValue };

const FILTERS: OptionSpec[] = [
  opt('exclude', 'exclude', undefined, true), opt('excludei', 'excludei', undefined, true),
  opt('include', 'include', undefined, true), opt('includei', 'includei', undefined, true),
];

const COMMON: OptionSpec[] = [
  opt('help', 'help', 'h'), opt('event', 'event', 'e', true), opt('timeout', 'timeout', 't', true),
  opt('recursive', 'recursive', 'r'), opt('noDereference', 'no-dereference', 'P'),
  opt('fromfile', 'fromfile', undefined, true), opt('stats', 'stats', undefined), ...FILTERS,
];

/** inotifywait's options, and inosync's own (--json, --syslog-socket). */
export const WAIT_OPTIONS: readonly OptionSpec[] = [
  ...COMMON,
  opt('monitor', 'monitor', 'm'), opt('quiet', 'quiet', 'q'), opt('csv', 'csv', 'c'), opt('daemon', 'daemon', 'd'),
  opt('syslog', 'syslog', 's'), opt('format', 'format', undefined, true), opt('noNewline', 'no-newline', undefined),
  opt('timefmt', 'timefmt', undefined, true), opt('outfile', 'outfile', 'o', true), opt('json', 'json', undefined),
  opt('syslogSocket', 'syslog-socket', undefined, true),
];

/** inotifywatch's options (`--stats` mode): -a/-d sort here, -d is not --daemon. */
export const STATS_OPTIONS: readonly OptionSpec[] = [
  ...COMMON,
  opt('verbose', 'verbose', 'v'), opt('zero', 'zero', 'z'), opt('ascending', 'ascending', 'a', true),
  opt('descending', 'descending', 'd', true),
];

export type OutputStyle =
  | { kind: 'format'; format: string; timefmt: string | undefined }
  | { kind: 'csv' }
  | { kind: 'json' };

interface Common {
  recursive: boolean;
  /** The -e mask; 0 when none was given (every event). */
  events: number;
  /** Seconds; 0 means none. */
  timeout: number;
  noDereference: boolean;
  fromfile: string | undefined;
  filter: PathFilterSpec | undefined;
  operands: string[];
  /** Non-fatal remarks inotifywait prints while parsing (repeated --exclude). */
  notes: string[];
}

export interface WaitOptions extends Common {
  kind: 'wait';
  monitor: boolean;
  /** -q counted: 1 hides the setup messages, 2 hides events and warnings too. */
  quiet: number;
  output: OutputStyle;
  daemon: boolean;
  /** Messages (and, with -d and no -o, events) go to syslog. */
  syslog: boolean;
  syslogSocket: string | undefined;
  outfile: string | undefined;
}

export interface StatsOptions extends Common {
  kind: 'stats';
  verbose: boolean;
  zero: boolean;
  /** Event bit to sort by (0: total) and the direction. */
  sort: { event: number; ascending: boolean };
}

export type WatchCommand = WaitOptions | StatsOptions | { kind: 'help'; stats: boolean };

function fail(message: string, fix: string): never {
  throw new InosyncError(message, fix, { exitCode: 1 });
}

/** Whether the arguments ask for inotifywatch's statistics (`--stats`, or a unique prefix of it, before any `--`). */
export function wantsStats(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg.length > 4 && arg.startsWith('--st') && 'stats'.startsWith(arg.slice(2))) return true;
  }
  return false;
}

export function parseTimeout(value: string): number {
  if (value === '') fail('The provided value is not a valid timeout value.\nPlease specify a long int value.', 'Give whole seconds: -t 10 (0: no timeout).');
  if (!/^\s*[+-]?\d+$/.test(value)) fail(`'${value}' is not a valid timeout value.\nPlease specify a long int value.`, 'Give whole seconds: -t 10 (0: no timeout).');
  const seconds = Number(value.trim());
  if (seconds < 0) fail(`'${value}' is not a valid timeout value: it is negative.`, 'Give whole seconds: -t 10, or -t 0 for no timeout.');
  return seconds;
}

class Collected {
  constructor(private readonly options: ParsedOption[]) {}
  has(key: string): boolean {
    return this.options.some((o) => o.key === key);
  }
  count(key: string): number {
    return this.options.filter((o) => o.key === key).length;
  }
  all(key: string): string[] {
    return this.options.filter((o) => o.key === key).map((o) => o.value ?? '');
  }
  last(key: string): string | undefined {
    return this.all(key).at(-1);
  }
}

function commonOf(o: Collected, operands: string[], notes: string[]): Common {
  const events = o.all('event').reduce((mask, list) => mask | parseEventList(list), 0);
  const timeouts = o.all('timeout').map(parseTimeout);
  if (o.count('fromfile') > 1) fail('Multiple --fromfile options given.', 'Give --fromfile once.');
  for (const key of ['exclude', 'excludei']) {
    if (o.count(key) > 1) notes.push(`--${key}: only the last option will be taken into consideration.`);
  }
  if (o.has('exclude') && o.has('excludei')) fail('--exclude and --excludei cannot both be specified.', 'Use one of them.');
  if (o.has('include') && o.has('includei')) fail('--include and --includei cannot both be specified.', 'Use one of them.');
  const hasExclude = o.has('exclude') || o.has('excludei');
  const hasInclude = o.has('include') || o.has('includei');
  if (hasExclude && hasInclude) fail('include and exclude regexp cannot both be specified.', 'Use either --include or --exclude (put an alternation in one pattern: \'(a|b)\').');
  let filter: PathFilterSpec | undefined;
  for (const key of ['exclude', 'excludei', 'include', 'includei']) {
    const pattern = o.last(key);
    if (pattern !== undefined) filter = { pattern, include: key.startsWith('include'), ignoreCase: key.endsWith('i') };
  }
  return {
    recursive: o.has('recursive'),
    events,
    timeout: timeouts.at(-1) ?? 0,
    noDereference: o.has('noDereference'),
    fromfile: o.last('fromfile'),
    filter,
    operands,
    notes,
  };
}

function waitOptions(o: Collected, common: Common): WaitOptions {
  const format = o.last('format');
  const timefmt = o.last('timefmt');
  const csv = o.has('csv');
  const json = o.has('json');
  const noNewline = o.has('noNewline');
  if (o.count('outfile') > 1) fail('Multiple --outfile options given.', 'Give --outfile once.');
  if (format !== undefined && csv) fail('-c and --format cannot both be specified.', 'Use one of them.');
  if (json && (csv || format !== undefined)) fail('--json cannot be combined with --csv or --format.', 'Use one of them.');
  if (format === undefined && noNewline) fail('--no-newline cannot be specified without --format.', "Add --format, e.g. --format '%w%f%0' --no-newline.");
  if (format === undefined && timefmt !== undefined) fail('--timefmt cannot be specified without --format.', "Add --format with %T, e.g. --format '%T %w%f %e'.");
  if (format !== undefined && format.includes('%T') && timefmt === undefined) fail('%T is in --format string, but --timefmt was not specified.', "Add --timefmt, e.g. --timefmt '%F %T'.");
  const daemon = o.has('daemon');
  const outfile = o.last('outfile');
  if (daemon && outfile === undefined && !o.has('syslog')) fail('-o must be specified with -d.', 'Give -o FILE for the events (or -s to send them to syslog).');
  let output: OutputStyle;
  if (csv) output = { kind: 'csv' };
  else if (json) output = { kind: 'json' };
  else output = { kind: 'format', format: format === undefined ? '%w %,e %f\n' : noNewline ? format : `${format}\n`, timefmt };
  return {
    kind: 'wait',
    ...common,
    monitor: o.has('monitor') || daemon,
    quiet: o.count('quiet'),
    output,
    daemon,
    syslog: o.has('syslog') || daemon,
    syslogSocket: o.last('syslogSocket'),
    outfile,
  };
}

function statsOptions(o: Collected, common: Common): StatsOptions {
  const sorts = [...o.all('ascending').map((e) => ({ e, ascending: true })), ...o.all('descending').map((e) => ({ e, ascending: false }))];
  if (sorts.length > 1) fail('Please specify -a or -d once only!', 'Give one of -a EVENT or -d EVENT.');
  const sort = sorts[0] === undefined ? { event: 0, ascending: false } : { event: parseSortEvent(sorts[0].e), ascending: sorts[0].ascending };
  return { kind: 'stats', ...common, verbose: o.has('verbose'), zero: o.has('zero'), sort };
}

/** Parses the arguments after `watch` (or after `inotifywait`/`inotifywatch`). */
export function parseWatchCommand(args: readonly string[], program: string): WatchCommand {
  const stats = wantsStats(args);
  const parsed = getoptLong(args, stats ? STATS_OPTIONS : WAIT_OPTIONS, program);
  const o = new Collected(parsed.options);
  if (o.has('help')) return { kind: 'help', stats };
  const common = commonOf(o, parsed.operands, []);
  return stats ? statsOptions(o, common) : waitOptions(o, common);
}
