// Deterministic waits: wait for a condition with a deadline, never a bare sleep.
import type { EventEmitter } from 'node:events';

export interface WaitOptions {
  /** Give up after this long; default 5000 ms. */
  timeoutMs?: number;
  /** What is awaited, for the timeout message ("the file to appear on the host"). */
  what?: string;
  /** Poll interval for waitFor; default 10 ms. */
  intervalMs?: number;
}

/** Polls `condition` until it returns a truthy value (which is returned), or rejects at the deadline. */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 5000, intervalMs = 10, what = 'a condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Everything an emitter sent under one event name since collection started. */
export interface Collector<T> {
  readonly items: T[];
  /** Resolves with all items once `predicate(items)` holds (checked now and on every new item). */
  until(predicate: (items: T[]) => boolean, options?: WaitOptions): Promise<T[]>;
  /** Stops listening. */
  stop(): void;
}

/** Starts collecting `event` from `emitter` now: start it before the action that causes the events. */
export function collect<T>(emitter: EventEmitter, event: string): Collector<T> {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  const listener = (item: T): void => {
    items.push(item);
    for (const check of [...waiters]) check();
  };
  emitter.on(event, listener);
  return {
    items,
    stop: () => emitter.off(event, listener),
    until(predicate, options = {}) {
      const { timeoutMs = 5000, what = `'${event}' events matching a predicate` } = options;
      return new Promise<T[]>((resolve, reject) => {
        const check = (): void => {
          if (!predicate(items)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(items);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (got ${items.length} events)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
