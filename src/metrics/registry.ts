// Prometheus metrics read from the agent's status snapshot at scrape time (nothing is counted twice).
import { Counter, Gauge, Registry } from 'prom-client';
import { readWatchLimit } from '../limits/read.js';
import type { AgentStatus, HostCounters, StatusSource, SyncCounters } from '../status/types.js';

type SyncLabels = 'source';
type HostLabels = 'source' | 'target';

type Rows<L extends string> = (status: AgentStatus) => Array<[Record<L, string>, number]>;

/**
 * A metric read from the agent's running totals at scrape time: reset, then filled from the snapshot, so a
 * sync removed by a reload disappears instead of freezing at its last value. Totals stay typed `counter`
 * (for rate()), levels `gauge`.
 */
function fromSnapshot<L extends string>(
  kind: 'counter' | 'gauge',
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  rows: Rows<L>,
  snapshot: () => AgentStatus,
): void {
  const config = { name, help, labelNames, registers: [registry] };
  const fill = (put: (labels: Partial<Record<L, string>>, value: number) => void): void => {
    for (const [labels, value] of rows(snapshot())) put(labels, value);
  };
  if (kind === 'counter') new Counter<L>({ ...config, collect() { this.reset(); fill((l, v) => this.inc(l, v)); } });
  else new Gauge<L>({ ...config, collect() { this.reset(); fill((l, v) => this.set(l, v)); } });
}

const perSync = (key: keyof SyncCounters) => (status: AgentStatus): Array<[Record<SyncLabels, string>, number]> =>
  status.syncs.map((sync) => [{ source: sync.source }, sync.counters[key]]);

const perHost = (value: (host: AgentStatus['syncs'][number]['hosts'][number]) => number | null) =>
  (status: AgentStatus): Array<[Record<HostLabels, string>, number]> =>
    status.syncs.flatMap((sync) => sync.hosts.flatMap((host): Array<[Record<HostLabels, string>, number]> => {
      const v = value(host);
      return v === null ? [] : [[{ source: sync.source, target: host.target }, v]];
    }));

const hostCounter = (key: keyof HostCounters) => perHost((host) => host.counters[key]);

/**
 * How long a read of the watch limit is reused: it changes only when an admin raises it (`inosync limits
 * --apply`), and a scraper every few seconds must not cost procfs reads each time.
 */
const WATCH_LIMIT_REREAD_MS = 60_000;

/**
 * inosync_watch_limit: the inotify watch limit this agent's user is held to (the lower of the global sysctl
 * and its user namespace's), so a dashboard can plot inosync_watches against it. Unlabelled: the limit is
 * per user, shared by every sync of the agent.
 */
function watchLimitGauge(registry: Registry): void {
  let cached: { at: number; value: number | null } | null = null;
  const current = (): number | null => {
    const now = Date.now();
    if (!cached || now - cached.at >= WATCH_LIMIT_REREAD_MS) {
      // A /proc that cannot be read leaves the gauge out of the scrape rather than failing the whole scrape.
      let value: number | null = null;
      try { value = readWatchLimit()?.value ?? null; } catch { /* reported as absent */ }
      cached = { at: now, value };
    }
    return cached.value;
  };
  new Gauge({
    name: 'inosync_watch_limit',
    help: 'inotify watches this user may hold: fs.inotify.max_user_watches, or user.max_inotify_watches if lower',
    registers: [registry],
    collect() {
      this.reset();
      const value = current();
      if (value !== null) this.set(value);
    },
  });
}

export function createMetricsRegistry(source: StatusSource): Registry {
  const registry = new Registry();
  // One snapshot per scrape, shared by every collector of that scrape.
  let cached: { at: number; status: AgentStatus } | null = null;
  const snapshot = (): AgentStatus => {
    const now = Date.now();
    if (!cached || now - cached.at > 100) cached = { at: now, status: source() };
    return cached.status;
  };
  const syncs = ['source'] as const;
  const hosts = ['source', 'target'] as const;
  fromSnapshot('counter', registry, 'inosync_events_total', 'inotify events read for a sync', syncs, perSync('events'), snapshot);
  fromSnapshot('counter', registry, 'inosync_overflows_total', 'inotify queue overflows (each costs a rescan)', syncs, perSync('overflows'), snapshot);
  fromSnapshot('counter', registry, 'inosync_rescans_total', 'directories rescanned because the watch model may have drifted', syncs, perSync('rescans'), snapshot);
  fromSnapshot('gauge', registry, 'inosync_watches', 'inotify watches held by a sync', syncs, (status) => status.syncs.map((sync) => [{ source: sync.source }, sync.watches]), snapshot);
  watchLimitGauge(registry);
  fromSnapshot('counter', registry, 'inosync_batches_total', 'rsync batches that succeeded, per target', hosts, hostCounter('batches'), snapshot);
  fromSnapshot('counter', registry, 'inosync_files_sent_total', 'files rsync transferred, per target', hosts, hostCounter('files'), snapshot);
  fromSnapshot('counter', registry, 'inosync_bytes_sent_total', 'bytes rsync sent, per target', hosts, hostCounter('bytes'), snapshot);
  fromSnapshot('counter', registry, 'inosync_rsync_failures_total', 'rsync runs that failed, per target', hosts, hostCounter('failures'), snapshot);
  fromSnapshot('gauge', registry, 'inosync_pending_paths', 'paths waiting for a target (the batch in flight not counted)', hosts, perHost((host) => host.pending), snapshot);
  fromSnapshot('gauge', registry, 'inosync_lag_seconds', 'age of the oldest change a target has not received (0 when up to date)', hosts, perHost((host) => (host.lagMs ?? 0) / 1000), snapshot);
  fromSnapshot('gauge', registry, 'inosync_target_up', '1 unless the target is down or retrying', hosts, perHost((host) => (host.state === 'down' || host.state === 'retrying' ? 0 : 1)), snapshot);
  // The long pass running on a target (full sync, verification, large batch): there while it runs only.
  fromSnapshot('gauge', registry, 'inosync_pass_entries_checked', 'entries the running full sync or large batch has gone through (its current phase)', hosts, perHost((host) => host.progress?.checked ?? null), snapshot);
  fromSnapshot('gauge', registry, 'inosync_pass_entries_total', 'entries the running pass goes through (rsync\'s list, or an estimate)', hosts, perHost((host) => host.progress?.total ?? null), snapshot);
  fromSnapshot('gauge', registry, 'inosync_pass_files_sent', 'files the running pass has sent so far', hosts, perHost((host) => host.progress?.sent ?? null), snapshot);
  fromSnapshot('gauge', registry, 'inosync_pass_seconds_left', 'estimated time left in the running pass\'s phase', hosts, perHost((host) => { const eta = host.progress?.etaMs ?? null; return eta === null ? null : eta / 1000; }), snapshot);
  return registry;
}
