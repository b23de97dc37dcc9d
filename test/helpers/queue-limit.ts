// Forcing a real inotify queue overflow without changing the machine for long.
import { readFileSync, writeFileSync } from 'node:fs';

const LIMIT_FILE = '/proc/sys/fs/inotify/max_queued_events';

/** Whether this process may lower the limit (root only). Use as a test's skip reason. */
export const cannotLowerQueueLimit: string | false = process.getuid?.() === 0 ? false : 'needs root (writes /proc/sys/fs/inotify/max_queued_events)';

/**
 * Runs `open` (which must create the inotify instance) while max_queued_events is `limit`, and
 * restores it at once: the limit is global but read only when an instance is created.
 */
export function withQueueLimit<T>(limit: number, open: () => T): T {
  // Another test may hold it lowered for an instant: never take that passing value for the one to restore.
  let saved = readFileSync(LIMIT_FILE, 'utf8');
  const deadline = Date.now() + 1000;
  while (Number.parseInt(saved, 10) <= 1024 && Date.now() < deadline) saved = readFileSync(LIMIT_FILE, 'utf8');
  writeFileSync(LIMIT_FILE, String(limit));
  try {
    return open();
  } finally {
    writeFileSync(LIMIT_FILE, saved);
  }
}
