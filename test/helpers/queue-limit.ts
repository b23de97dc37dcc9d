// Forcing a real inotify queue overflow (or room for a huge burst) without changing the machine for long.
import { readFileSync, writeFileSync } from 'node:fs';

const LIMIT_FILE = '/proc/sys/fs/inotify/max_queued_events';

/** Whether this process may change the limit (root only). Use as a test's skip reason. */
export const cannotLowerQueueLimit: string | false = process.getuid?.() === 0 ? false : 'needs root (writes /proc/sys/fs/inotify/max_queued_events)';

/**
 * Runs `open` (which must create the inotify instance, or start the process that does) while
 * max_queued_events is `limit`, and restores it as soon as `open` returns or its promise settles:
 * the limit is global but read only when an instance is created.
 */
export function withQueueLimit<T>(limit: number, open: () => T): T {
  const saved = String(machineQueueLimit());
  const restore = (): void => writeFileSync(LIMIT_FILE, saved);
  writeFileSync(LIMIT_FILE, String(limit));
  let result: T;
  try {
    result = open();
  } catch (error) {
    restore();
    throw error;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}

/**
 * The machine's max_queued_events. Another test may hold it lowered for an instant (tests run two at a
 * time): a value that small is waited out, so it is neither restored nor taken as the machine's.
 */
export function machineQueueLimit(): number {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = Number.parseInt(readFileSync(LIMIT_FILE, 'utf8'), 10);
    if (value > 1024 || Date.now() >= deadline) return value;
  }
}
