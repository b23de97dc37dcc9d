// Where lines go: a stream (stdout/stderr), a file opened for appending (-o, as inotifywait: O_APPEND, 0600),
// or syslog (-s) through the `logger` program (argv, no shell), facility daemon, priority info, tagged with the
// program name and pid, as inotifywait's openlog(..., LOG_PID, LOG_DAEMON).
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { InosyncError } from '../errors.js';

export interface Sink {
  write(data: Buffer | string): void;
  /** Flushes and releases what the sink holds. */
  close(): Promise<void>;
}

const asBytes = (data: Buffer | string): Buffer => (typeof data === 'string' ? Buffer.from(data) : data);

/** What messages are written to: a stream, or a descriptor written directly (see descriptorSink). */
export interface TextOut {
  write(data: Buffer | string): unknown;
}

/**
 * Writes to a stream the caller owns (it is not ended). Write errors (EPIPE: the reader left) go to `onError`;
 * the listener stays, since such an error is emitted after the write returned, possibly after close().
 */
export function streamSink(stream: Writable, onError: (error: Error) => void): Sink {
  stream.on('error', onError);
  return {
    write: (data) => { stream.write(data); },
    close: async () => undefined,
  };
}

/**
 * Writes straight to a descriptor, as a C program writes its messages to stderr: nothing to set up (a pipe's
 * stream costs `inosync watch` 4 ms of module loading at each start), each message out before the next.
 * Errors are dropped: messages are best-effort, and a reader that left must not end the watch. Should the
 * descriptor be non-blocking and full (EAGAIN), this write's rest and every later one go to `stream()`, which
 * queues them, in order.
 */
export function descriptorSink(fd: number, stream: () => Writable): TextOut {
  let queued: Writable | undefined;
  return {
    write: (data) => {
      const buffer = asBytes(data);
      let done = 0;
      try {
        while (done < buffer.length && queued === undefined) done += writeSync(fd, buffer, done);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        queued = stream().on('error', () => undefined);
      }
      if (queued !== undefined && done < buffer.length) queued.write(buffer.subarray(done));
    },
  };
}

/**
 * Gathers what one pass of event handling writes and hands it to `sink` in one write when the pass is over
 * (a microtask): every event of a kernel read is out before the next read, and a burst costs a write call
 * per pass, not per event (150,000 events to -o /dev/null: a write each was a quarter of the monitor's time).
 */
export function coalescing(sink: Sink): Sink {
  let pending: Buffer[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    pending = [];
    sink.write(data);
  };
  return {
    write: (data) => {
      if (pending.length === 0) queueMicrotask(flush);
      pending.push(asBytes(data));
    },
    close: async () => {
      flush();
      await sink.close();
    },
  };
}

/** Appends to `path` (created 0600), each write reaching the file before the next event is read. */
export function appendFileSink(path: string): Sink {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new InosyncError(`Failed to open output file ${path} (${code})`, 'Give -o a path in a writable directory.', { exitCode: 1, cause: error });
  }
  return {
    write: (data) => {
      const buffer = asBytes(data);
      let done = 0;
      while (done < buffer.length) done += writeSync(fd, buffer, done);
    },
    close: async () => closeSync(fd),
  };
}

export interface SyslogOptions {
  tag: string;
  /** Socket to log to instead of /dev/log. */
  socket?: string;
  /** Where logger's own complaints go (no syslog socket, for instance). */
  stderr: TextOut;
}

/** Where logger(1) sends messages when not told otherwise. */
const SYSLOG_SOCKET = '/dev/log';

/**
 * For events sent to syslog (-d without -o): throws when no syslog socket is there. inotifywait's syslog(3)
 * drops every event then without a word, and logger would only complain once the daemon has gone.
 */
export function requireSyslogSocket(socket: string | undefined): void {
  const path = socket ?? SYSLOG_SOCKET;
  if (isSocket(path)) return;
  throw new InosyncError(`Couldn't log to syslog: ${path} is not a socket (no syslog daemon listens there), so every event sent to syslog would be lost`,
    'Start a syslog daemon (systemd-journald, rsyslog), or give --syslog-socket PATH, or send the events to a file with -o FILE.', { exitCode: 1 });
}

/** One `logger` process, fed one message per line on its stdin (newlines inside a message become spaces). */
export function syslogSink(options: SyslogOptions): Sink {
  const args = ['-t', options.tag, `--id=${process.pid}`, '-p', 'daemon.info', ...(options.socket ? ['-u', options.socket] : [])];
  // Loaded here, not imported: child_process (with net and dgram behind it) costs every `inosync watch` 5 ms
  // at start, and only -s starts a child.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child: ChildProcess = spawn('logger', args, { stdio: ['pipe', 'ignore', 'pipe'], shell: false });
  (child.stderr as Readable).on('data', (chunk: Buffer) => options.stderr.write(chunk));
  child.on('error', (error) => options.stderr.write(`syslog: cannot run logger: ${error.message}\n`));
  const stdin = child.stdin as Writable;
  stdin.on('error', () => undefined); // logger gone: its own error already went to stderr
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    write: (data) => {
      const text = (typeof data === 'string' ? data : data.toString('utf8')).replace(/\0/g, ' ').replace(/\n+$/, '').replace(/\n/g, ' ');
      if (text !== '') stdin.write(`${text}\n`);
    },
    close: async () => {
      stdin.end();
      await exited;
    },
  };
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}
