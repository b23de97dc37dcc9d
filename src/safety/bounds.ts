// Every number a user gives the agent, with its unit and range, in one place: the flags and the config file
// check the same bounds (the schema builds its zod checks from this table, without this module loading zod).
//
// Why bounded: a number past what its consumer holds does not fail, it misbehaves. Node's timers hold at
// most 2^31-1 ms (24.8 days) and turn a larger delay into 1 ms (`--verify-every 30d` was a full sync per
// millisecond); ssh and rsync take whole seconds; a count of rsyncs or pending paths is memory and processes.
// The ranges are wide enough for any sane setup, and each is stated in --help and the README.
import { InosyncError } from '../errors.js';

const MAX_INT = 2 ** 31 - 1;
/** The longest delay a Node timer holds: a larger one fires after 1 ms. */
export const MAX_TIMER_MS = MAX_INT;

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * `ms`, `s`: a whole number in that unit. `count`: a whole number of things. `duration`: text such as 30s, 15m,
 * 6h, 1d or 500ms (a bare number is seconds: see config/duration.ts), kept in milliseconds; its min and max
 * are milliseconds too.
 */
export type Unit = 'ms' | 's' | 'count' | 'duration';

export interface Bound {
  min: number;
  max: number;
  unit: Unit;
  /** Seconds may be fractional where the consumer takes milliseconds (the drain). */
  fractional?: boolean;
}

export const BOUNDS = {
  'quiet-ms': { min: 0, max: HOUR_MS, unit: 'ms' },
  'max-delay-ms': { min: 1, max: HOUR_MS, unit: 'ms' },
  'retry-base-ms': { min: 1, max: HOUR_MS, unit: 'ms' },
  'retry-max-ms': { min: 1, max: HOUR_MS, unit: 'ms' },
  timeout: { min: 1, max: 3600, unit: 's' },
  'drain-timeout': { min: 0, max: 3600, unit: 's', fractional: true },
  'max-procs': { min: 1, max: 256, unit: 'count' },
  /** rsyncs of one target's split full sync at once: an ssh target multiplexes them over one connection. */
  'full-sync-procs': { min: 1, max: 64, unit: 'count' },
  'max-pending': { min: 1, max: 10_000_000, unit: 'count' },
  'verify-every': { min: SECOND_MS, max: 24 * DAY_MS, unit: 'duration' },
  'progress-every': { min: SECOND_MS, max: DAY_MS, unit: 'duration' },
  'status-timeout': { min: 1, max: HOUR_MS, unit: 'ms' },
  /** Differences `inosync check` lists per target. */
  limit: { min: 0, max: 10_000_000, unit: 'count' },
  // inotify's limits are ints in the kernel (fs.inotify.*).
  watches: { min: 1, max: MAX_INT, unit: 'count' },
  instances: { min: 1, max: MAX_INT, unit: 'count' },
  'queued-events': { min: 1, max: MAX_INT, unit: 'count' },
} as const satisfies Record<string, Bound>;

export type BoundName = keyof typeof BOUNDS;

/** A duration in milliseconds as a user would write it: 24d, 1h, 90s, 1500ms. */
export function showMs(ms: number): string {
  for (const [unit, size] of [['d', DAY_MS], ['h', HOUR_MS], ['m', 60_000], ['s', SECOND_MS]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** What a value of this bound must be, in words: "a whole number of seconds from 1 to 3600". */
export function describeBound(bound: Bound): string {
  const whole = bound.fractional === true ? 'a number' : 'a whole number';
  switch (bound.unit) {
    case 'ms': return `${whole} of milliseconds from ${bound.min} to ${bound.max} (${showMs(bound.max)})`;
    case 's': return `${whole} of seconds from ${bound.min} to ${bound.max}`;
    case 'count': return `${whole} from ${bound.min} to ${bound.max}`;
    case 'duration': return `a duration from ${showMs(bound.min)} to ${showMs(bound.max)} (30s, 15m, 6h, 1d; a bare number is seconds)`;
  }
}

/** The range for --help: "1..3600 s". */
export function rangeOf(bound: Bound): string {
  if (bound.unit === 'duration') return `${showMs(bound.min)}..${showMs(bound.max)}`;
  return `${bound.min}..${bound.max}${bound.unit === 'count' ? '' : ` ${bound.unit}`}`;
}

/** The usage error for a value of `option` (as the user named it) that is not within `bound`; `ms`: how it was read. */
export function outOfBound(option: string, given: unknown, bound: Bound, ms?: number): InosyncError {
  const reading = ms === undefined ? '' : ` (read as ${showMs(ms)})`;
  return new InosyncError(`${option} ${JSON.stringify(given)}${reading} is not valid: expected ${describeBound(bound)}`, `Give ${option} a value in that range.`, { exitCode: 2 });
}

/**
 * `value` (a flag's text or a config file's number) as a number within `bound`, or the usage error naming
 * what was given and what is expected. Only plain decimal numbers count: "0x10", "" and "1e3" are not.
 */
export function requireBounded(value: string | number, option: string, bound: Bound): number {
  const n = typeof value === 'number' ? value : /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  const whole = bound.fractional === true || Number.isInteger(n);
  if (!Number.isFinite(n) || !whole || n < bound.min || n > bound.max) throw outOfBound(option, value, bound);
  return n;
}
