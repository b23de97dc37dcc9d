// Logging for the agent: JSON lines on stderr when not a TTY (journald-friendly), readable lines on a TTY.
import { createRequire } from 'node:module';
import { pino, type Logger, type Level } from 'pino';
import type PinoPretty from 'pino-pretty';
import { stderrLine } from './terminal-line.js';

export type { Logger };
export type LogLevel = Level | 'silent';

export interface LoggerOptions {
  level?: LogLevel;
  /** Force readable (true) or JSON (false) output; default: readable when stderr is a TTY. */
  pretty?: boolean;
  /** Where lines go; default stderr (stdout belongs to command output such as `watch`). */
  fd?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 2;
  const readable = options.pretty ?? Boolean(process.stderr.isTTY && fd === 2);
  const base = { level: options.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (readable) {
    // Loaded for a terminal only: an agent under systemd logs JSON and need not hold it. require(), not import():
    // the installed command runs bundled, where import() has no loader (see scripts/bundle.ts).
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    // On stderr, through its status line, so that a progress display stays below the log lines.
    return pino(base, pretty({ destination: fd === 2 ? stderrLine : fd, sync: true, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ fd, sync: true }));
}

/** A logger that drops everything, for library use and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
