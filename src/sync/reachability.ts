// Waiting for an unreachable host to come back, without waiting longer than it takes.
//
// A host that refused or timed out is not retried on a growing backoff (which at the host's return may
// still have seconds to run): its probe (a cheap check, see src/rsync/probe.ts) is tried every
// INTERVAL_MS, and the host is retried the moment one answers. Probes overlap while one hangs (a
// black-holed host answers none until it is restored, then the next one at once), at most MAX_OPEN at a
// time. After LONG_OUTAGE_MS the pace drops to SLOW_INTERVAL_MS: a host down for hours is still seen back
// within a second or so, and costs a few packets a second at most.
//
//   failure (unreachable) ──► probe now ──answers──► 'answers' (it is up and failed anyway: plain backoff)
//                                  └─ no answer ──► probe every interval ──answers──► 'back' (retry now)

/** One check of the host: true when it answers. It must settle by itself (it holds its own timeout). */
export type Probe = () => Promise<boolean>;

export type ReturnVerdict = 'answers' | 'back' | 'aborted';

export interface ReachabilityOptions {
  intervalMs: number;
  slowIntervalMs: number;
  longOutageMs: number;
  maxOpen: number;
}

// A probe of a host that is down costs a SYN (and a reset, or nothing): every 100 ms is still no load, and
// takes 150 ms off the wait at the return compared with 250 (half an interval on average). A black-holed
// host's probes each wait out their 1 s connect timeout, so up to 10 are open at that pace.
export const reachabilityDefaults: ReachabilityOptions = { intervalMs: 100, slowIntervalMs: 1000, longOutageMs: 60_000, maxOpen: 10 };

/** Probes until the host answers: 'answers' when it did at the first try, 'back' when later. */
export function awaitReturn(probe: Probe, signal: AbortSignal, options: ReachabilityOptions = reachabilityDefaults): Promise<ReturnVerdict> {
  return new Promise((resolve) => {
    const started = Date.now();
    let open = 0;
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (verdict: ReturnVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(verdict);
    };
    const onAbort = (): void => finish('aborted');
    const tick = (): void => {
      if (settled) return;
      const first = tries === 0;
      if (open < options.maxOpen) {
        open += 1;
        tries += 1;
        probe().catch(() => false).then((answered) => {
          open -= 1;
          if (answered) finish(first ? 'answers' : 'back');
        });
      }
      const pace = Date.now() - started < options.longOutageMs ? options.intervalMs : options.slowIntervalMs;
      timer = setTimeout(tick, pace);
    };
    if (signal.aborted) {
      finish('aborted');
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    tick();
  });
}
