// Runs `inosync watch` (inotifywait) and `inosync watch --stats` (inotifywatch) on a watch tree and returns
// the exit status: 0 an event (or statistics), 1 an error or an event not asked for, 2 the timeout.
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InosyncError } from '../errors.js';
import { constants as C } from '../inotify/binding.js';
import { MAX_TIMER_MS } from '../safety/bounds.js';
import { RootError, RootGoneError, WatchLimitError } from '../watch/errors.js';
import { WatchTree } from '../watch/tree.js';
import type { TreeEvent } from '../watch/types.js';
import { ALL_EVENTS } from './events.js';
import { compilePathFilter, type PathFilter } from './filter.js';
import { compileFormat, csvLine, jsonLine, type Render } from './format.js';
import type { StatsOptions, WaitOptions } from './options.js';
import { atExclusions, buildWatchList, type WatchList } from './paths.js';
import { appendFileSink, coalescing, requireSyslogSocket, streamSink, syslogSink, type Sink, type TextOut } from './sinks.js';
import { EventStats } from './stats.js';

/** The process's standard streams, each created only when first used: creating one costs milliseconds at start. */
export interface MonitorIo {
  readonly stdout: Writable;
  /** Messages; its write errors are the caller's to drop. */
  readonly stderr: TextOut;
  /** Read for `--fromfile -`. */
  readonly stdin: Readable;
  /** Name in messages and the syslog tag: `inotifywait`, `inotifywatch` or `inosync watch`. */
  program: string;
  /** Called once every watch is set ("Watches established."): a daemon tells its parent here. */
  onReady?: () => void;
  /** Ends the run: --stats then prints its table (SIGINT, SIGTERM, SIGHUP). */
  signal?: AbortSignal;
}

/** Events the tree may need that inotifywait only asks the kernel for when told to (-e). */
const EXTRA_EVENTS = C.IN_ACCESS | C.IN_OPEN | C.IN_CLOSE_NOWRITE;
/** The kernel sends these whatever the mask: inotifywait sees them (and, without -m, exits 1 on them). */
const ALWAYS_SENT = C.IN_UNMOUNT | C.IN_Q_OVERFLOW;

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory', EACCES: 'Permission denied', ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links', ENAMETOOLONG: 'File name too long', EPERM: 'Operation not permitted',
};

function errnoOf(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** inotifywait's words for a path it cannot watch; inosync's own message for the rest (limits carry their fix). */
function startErrorText(error: unknown): string {
  if (error instanceof RootError) {
    const code = errnoOf(error);
    return `Couldn't watch ${error.root.toString()}: ${ERRNO_TEXT[code ?? ''] ?? code ?? error.message}\n`;
  }
  if (error instanceof InosyncError) return `${error.message}\n  fix: ${error.fix}\n`;
  return `${error instanceof Error ? error.message : String(error)}\n`;
}

async function readWatchList(fromfile: string | undefined, operands: readonly string[], io: MonitorIo, say: (text: string) => void): Promise<WatchList> {
  let content: Buffer | undefined;
  if (fromfile === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    content = Buffer.concat(chunks);
  } else if (fromfile !== undefined) {
    try {
      content = readFileSync(fromfile);
    } catch (error) {
      say(`Couldn't open ${fromfile}: ${ERRNO_TEXT[(error as NodeJS.ErrnoException).code ?? ''] ?? String(error)}\n`);
    }
  }
  return buildWatchList(content, operands);
}

function renderer(options: WaitOptions): Render {
  const output = options.output;
  if (output.kind === 'csv') return (event) => csvLine(event);
  if (output.kind === 'json') return jsonLine;
  return compileFormat(output.format, output.timefmt);
}

function filterOf(options: WaitOptions | StatsOptions): PathFilter | undefined {
  return options.filter === undefined ? undefined : compilePathFilter(options.filter);
}

/** The time given to a line that shows none (no %T, not --json): no Date made per event of a burst. */
const NO_TIME = new Date(0);

const eventPath = (event: TreeEvent): Buffer => Buffer.concat([event.dir, event.name]);

/**
 * A file found by listing a new directory may have been written (and closed) before the directory's watch
 * existed: after its CREATE it is also reported as CLOSE_WRITE,CLOSE, so that `-e close_write` sees it. If its
 * writer still holds it open, the kernel's own CLOSE_WRITE follows later.
 */
function writtenBeforeWatched(created: TreeEvent): TreeEvent {
  return { ...created, mask: C.IN_CLOSE_WRITE };
}

/** A watched path as %w shows it: directories end with '/'. */
function watchPath(path: Buffer): Buffer {
  try {
    return statSync(path).isDirectory() && path[path.length - 1] !== 0x2f ? Buffer.concat([path, Buffer.from('/')]) : path;
  } catch {
    return path;
  }
}

interface Run {
  tree: WatchTree;
  /** Resolves with the exit status once `finish` is called. */
  done: Promise<number>;
  finish(code: number): void;
  /** True once finish has been called. */
  readonly ended: boolean;
  /** (Re)arms the inactivity timeout (none when seconds is 0). */
  arm(seconds: number, code: number): void;
}

function startRun(list: WatchList, options: WaitOptions | StatsOptions, extraEvents: number, cleanup: () => Promise<void>, signal: AbortSignal | undefined, onAbort: number): Run {
  const exclude = options.recursive ? atExclusions(list.exclusions) : undefined;
  const linkRoots = options.noDereference ? 'watch' : 'follow';
  const tree = new WatchTree({ roots: list.roots, recursive: options.recursive, linkRoots, ...(exclude ? { exclude } : {}), extraEvents });
  // The inactivity timeout: one timer, which on firing sees whether an event came since and then waits out
  // the rest. Arming is a (monotonic) clock read, not a timer cleared and set again per event of a burst.
  let timer: NodeJS.Timeout | undefined;
  let deadline = 0;
  let timeoutCode = 0;
  const expireOrWait = (): void => {
    const left = deadline - process.uptime() * 1000;
    if (left > 0) timer = setTimeout(expireOrWait, Math.min(left, MAX_TIMER_MS));
    else run.finish(timeoutCode);
  };
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => { resolveDone = resolve; });
  let finished = false;
  const abort = (): void => run.finish(onAbort);
  const run: Run = {
    tree,
    done,
    get ended() {
      return finished;
    },
    finish(code) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      tree.close();
      void cleanup().then(() => resolveDone(code), () => resolveDone(code));
    },
    arm(seconds, code) {
      if (finished || seconds === 0) return;
      deadline = process.uptime() * 1000 + seconds * 1000;
      timeoutCode = code;
      // inotifywait takes any long: a timeout past a Node timer's range is waited out in steps.
      timer ??= setTimeout(expireOrWait, Math.min(seconds * 1000, MAX_TIMER_MS));
    },
  };
  if (signal?.aborted) queueMicrotask(abort);
  else signal?.addEventListener('abort', abort, { once: true });
  return run;
}

interface Messages {
  say(text: string): void;
  /** The watches are set: a daemon stops copying its messages to its parent. */
  ready(): void;
  syslog: Sink | undefined;
  close(): Promise<void>;
}

/** Messages go to stderr, or to syslog with -s; a daemon also shows them to its parent until it is ready. */
function messagesFor(options: WaitOptions, io: MonitorIo): Messages {
  const tag = basename(io.program.split(' ')[0] ?? 'inosync');
  const syslog = options.syslog ? syslogSink({ tag, stderr: io.stderr, ...(options.syslogSocket ? { socket: options.syslogSocket } : {}) }) : undefined;
  let copyToStderr = syslog === undefined || options.daemon;
  return {
    say: (text) => {
      syslog?.write(text);
      if (copyToStderr) io.stderr.write(text);
    },
    ready: () => { copyToStderr = syslog === undefined; },
    syslog,
    close: async () => { await syslog?.close(); },
  };
}

/** Events go to -o FILE, to syslog for a daemon without -o, else to stdout (a write error calls `onWriteError`). */
function eventOutput(options: WaitOptions, io: MonitorIo, syslog: Sink | undefined, onWriteError: () => void): Sink {
  if (options.outfile !== undefined) return coalescing(appendFileSink(options.outfile));
  if (options.daemon && syslog) return syslog;
  return coalescing(streamSink(io.stdout, onWriteError));
}

/** `inosync watch`: inotifywait. */
export async function runWait(options: WaitOptions, io: MonitorIo): Promise<number> {
  if (options.daemon && options.outfile === undefined) requireSyslogSocket(options.syslogSocket);
  const messages = messagesFor(options, io);
  const { say } = messages;
  let output: Sink | undefined;
  const closeAll = async (): Promise<void> => { await Promise.all([messages.close(), output === messages.syslog ? undefined : output?.close()]); };
  try {
    for (const note of options.notes) say(`${note}\n`);
    const filter = filterOf(options);
    const render = renderer(options);
    const list = await readWatchList(options.fromfile, options.operands, io, say);
    if (list.roots.length === 0) {
      say('No files specified to watch!\n');
      await closeAll();
      return 1;
    }
    // The reader of stdout went away (EPIPE): inotifywait dies of SIGPIPE there; inosync ends with 1.
    let onWriteError = (): void => undefined;
    const out = eventOutput(options, io, messages.syslog, () => onWriteError());
    output = out;
    const asked = options.events === 0 ? ALL_EVENTS : options.events;
    const delivered = asked | ALWAYS_SENT;
    const run = startRun(list, options, asked & EXTRA_EVENTS, closeAll, io.signal, 1);
    const { tree } = run;
    onWriteError = () => run.finish(1);
    const gone = new Set<string>();
    const rootCount = new Set(list.roots.map((r) => r.toString('latin1'))).size;

    const showsTime = options.output.kind === 'json' || (options.output.kind === 'format' && options.output.timefmt !== undefined);
    const onEvent = (event: TreeEvent): void => {
      if (run.ended) return;
      // A watch the kernel removed (deleted) is IN_IGNORED to inotifywait: delivered even when not asked for.
      const ends = event.name.length === 0 && (event.mask & C.IN_DELETE_SELF) !== 0;
      if (!(event.mask & delivered) && !ends) return;
      if (filter && !filter(eventPath(event))) return;
      run.arm(options.timeout, 2);
      const wanted = (event.mask & asked) !== 0;
      if (wanted && options.quiet < 2) out.write(render(event, showsTime ? new Date() : NO_TIME));
      if (!options.monitor) run.finish(wanted ? 0 : 1);
    };
    tree.on('event', (event) => {
      onEvent(event);
      if (event.synthetic && !(event.mask & C.IN_ISDIR)) onEvent(writtenBeforeWatched(event));
    });
    tree.on('warning', (warning) => {
      if (options.quiet < 2) say(`${warning.message}\n`);
    });
    tree.on('error', (error) => {
      if (options.quiet < 2) say(`${error.message}\n`);
      if (error instanceof RootGoneError) {
        gone.add(error.root.toString('latin1'));
        if (gone.size >= rootCount) run.finish(1); // nothing left to watch
      } else if (!(error instanceof WatchLimitError)) {
        run.finish(1);
      }
    });

    if (!options.quiet) say(options.recursive ? 'Setting up watches.  Beware: since -r was given, this may take a while!\n' : 'Setting up watches.\n');
    try {
      await tree.start();
    } catch (error) {
      say(startErrorText(error));
      run.finish(1);
      return await run.done;
    }
    if (!options.quiet) say('Watches established.\n');
    messages.ready();
    io.onReady?.();
    run.arm(options.timeout, 2);
    return await run.done;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** `inosync watch --stats`: inotifywatch. Counts until the timeout or the signal, then prints the table. */
export async function runStats(options: StatsOptions, io: MonitorIo): Promise<number> {
  const say = (text: string): void => { io.stderr.write(text); };
  for (const note of options.notes) say(`${note}\n`);
  const filter = filterOf(options);
  const list = await readWatchList(options.fromfile, options.operands, io, say);
  if (list.roots.length === 0) {
    say('No files specified to watch!\n');
    return 1;
  }
  const asked = options.events === 0 ? ALL_EVENTS : options.events;
  const stats = new EventStats();
  const run = startRun(list, options, asked & EXTRA_EVENTS, async () => undefined, io.signal, 0);
  const { tree } = run;
  tree.on('event', (event) => {
    if (!(event.mask & asked)) return;
    if (filter && !filter(eventPath(event))) return;
    stats.record(event.dir, event.mask);
  });
  tree.on('warning', (warning) => say(`${warning.message}\n`));
  tree.on('error', (error) => say(`${error.message}\n`));
  say('Establishing watches...\n');
  try {
    if (options.verbose && options.recursive) for (const root of list.roots) say(`Setting up watch(es) on ${root.toString()}\n`);
    await tree.start();
    if (options.verbose && options.recursive) for (const root of list.roots) say(`OK, ${root.toString()} is now being watched.\n`);
  } catch (error) {
    say(startErrorText(error).replace(/^Couldn't watch/, 'Failed to watch'));
    run.finish(1);
    return await run.done;
  }
  if (options.verbose) say(`Total of ${tree.watchCount} watches.\n`);
  say('Finished establishing watches, now collecting statistics.\n');
  if (options.verbose && options.timeout) say(`Will listen for events for ${options.timeout} seconds.\n`);
  io.onReady?.();
  if (options.zero) for (const path of tree.watchedPaths()) stats.touch(watchPath(path));
  run.arm(options.timeout, 0);
  const code = await run.done;
  if (code !== 0) return code;
  if (stats.eventCount === 0 && !options.zero) {
    say('No events occurred.\n');
    return 0;
  }
  io.stdout.write(stats.table(asked, options.sort, options.zero));
  return 0;
}
