// How long a host waits before its next try after consecutive failures: exponential, capped, jittered so
// that hosts failing together (a shared switch rebooting) do not all come back in the same instant.

export interface BackoffOptions {
  /** Delay after the first failure (ms). */
  baseMs: number;
  /** Longest delay (ms). */
  capMs: number;
  /** Share of the delay that is random, 0..1: 0.5 gives a delay between half and all of the nominal one. */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 250, capMs: 30_000, jitter: 0.5 };

/** The delay before try `failures + 1`; `random` returns a number in [0, 1). */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, failures - 1);
  const nominal = Math.min(options.capMs, options.baseMs * 2 ** Math.min(exponent, 30));
  return Math.round(nominal * (1 - options.jitter * random()));
}
