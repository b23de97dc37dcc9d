// What a running agent tells `inosync status` and the metrics endpoint: one snapshot, per sync and per host.
import type { FailureCause } from '../rsync/failure.js';

export type HostState = 'syncing' | 'idle' | 'retrying' | 'down';

export interface BatchInFlight {
  /** Paths in the batch (0 for a full sync of the tree). */
  paths: number;
  full: boolean;
  startedAt: string;
}

export interface HostCounters {
  batches: number;
  files: number;
  bytes: number;
  failures: number;
}

export interface HostStatus {
  /** The target as the user wrote it ([user@]host:/path or a local directory). */
  target: string;
  state: HostState;
  /** Paths waiting for this host (not counting the batch in flight). */
  pending: number;
  inFlight: BatchInFlight | null;
  /** ISO time of the last batch that succeeded, null before the first. */
  lastSuccess: string | null;
  /** A full sync is owed or running (the startup one, also behind a startup difference, see src/state/). */
  fullSyncPending?: boolean;
  /** Age of the oldest change this host has not received yet, null when it is up to date. */
  lagMs: number | null;
  /** Failed batches in a row (0 once one succeeds). */
  failures: number;
  /** The last failure's message, with rsync's or ssh's own first error line. */
  lastError: string | null;
  /** What the last failure is, and its fix, when it lasts until fixed on the host (see src/rsync/failure.ts). */
  cause: FailureCause | null;
  counters: HostCounters;
}

export interface SyncCounters {
  events: number;
  overflows: number;
  rescans: number;
}

export interface SyncStatus {
  source: string;
  /** Watches this sync holds now. */
  watches: number;
  /** Directories left out as too deep or too long to watch or send (relative to the source, bytes as latin1). */
  skipped?: string[];
  hosts: HostStatus[];
  counters: SyncCounters;
}

export interface AgentStatus {
  pid: number;
  version: string;
  startedAt: string;
  syncs: SyncStatus[];
}

/** Produces the current snapshot; called per request, so it must be cheap. */
export type StatusSource = () => AgentStatus;
