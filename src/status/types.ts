// What a running agent tells `inosync status` and the metrics endpoint: one snapshot, per sync and per host.
import type { FailureCause } from '../rsync/failure.js';

export type HostState = 'syncing' | 'idle' | 'retrying' | 'down';

export interface BatchInFlight {
  /** Paths in the batch (0 for a full sync of the tree). */
  paths: number;
  full: boolean;
  startedAt: string;
}

/** Which long piece of work a progress report is about (see src/status/progress.ts); 'batch': a large one of live changes. */
export type PassKind = 'scan' | 'difference' | 'batch' | 'full sync' | 'verification';
/** 'scanning': the source is read (lstat) before rsync starts; 'sending': rsync runs. */
export type PassPhase = 'scanning' | 'sending';
/** Where the total comes from: rsync's own file list, the last scan, the state record, watches times an average, the batch's marks. */
export type TotalFrom = 'rsync' | 'scan' | 'record' | 'watches' | 'marks';

export interface PassProgress {
  pass: PassKind;
  phase: PassPhase;
  startedAt: string;
  /** When the current phase began (the estimate is of that phase). */
  phaseStartedAt: string;
  /** Entries gone through in this phase: scanned (lstat), or checked by rsync. */
  checked: number;
  /** Entries this phase goes through, when known or estimated. */
  total: number | null;
  totalFrom: TotalFrom | null;
  /** Regular files whose data rsync sent, and the bytes, so far. */
  sent: number;
  bytes: number;
  /** Time left in this phase at the rate so far, null until there is a rate and a total. */
  etaMs: number | null;
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
  /** The long pass running now (a full sync, a verification, a large startup difference), if any. */
  progress?: PassProgress | null;
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
  /** The startup scan of the source (state records), while it runs. */
  scan?: PassProgress | null;
}

export interface AgentStatus {
  pid: number;
  version: string;
  startedAt: string;
  syncs: SyncStatus[];
}

/** Produces the current snapshot; called per request, so it must be cheap. */
export type StatusSource = () => AgentStatus;
