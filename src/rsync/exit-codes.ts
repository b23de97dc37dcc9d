// What an rsync exit status means for the batch that produced it.
//
//   ok     the target has what was asked (24: files vanished mid-transfer; their delete events follow)
//   retry  worth sending again later: partial transfers, connection trouble, timeouts, a killed child
//   fatal  retrying the same thing will fail the same way (usage, protocol, unsupported feature),
//          or a status we do not know: reported loudly, for this batch and this target only
export type Outcome = 'ok' | 'retry' | 'fatal';

export interface ExitMeaning {
  outcome: Outcome;
  /** One line for logs: what rsync said with this status. */
  meaning: string;
}

const KNOWN: ReadonlyMap<number, ExitMeaning> = new Map<number, ExitMeaning>([
  [0, { outcome: 'ok', meaning: 'success' }],
  [24, { outcome: 'ok', meaning: 'some source files vanished during the transfer' }],
  [23, { outcome: 'retry', meaning: 'partial transfer: some files could not be transferred' }],
  [5, { outcome: 'retry', meaning: 'error starting the client-server protocol' }],
  [10, { outcome: 'retry', meaning: 'error in socket I/O' }],
  [11, { outcome: 'retry', meaning: 'error in file I/O' }],
  [12, { outcome: 'retry', meaning: 'error in the rsync protocol data stream (connection lost?)' }],
  [14, { outcome: 'retry', meaning: 'error in IPC code' }],
  [20, { outcome: 'retry', meaning: 'rsync was interrupted by a signal' }],
  [22, { outcome: 'retry', meaning: 'rsync could not allocate memory' }],
  [30, { outcome: 'retry', meaning: 'timeout in data send/receive' }],
  [35, { outcome: 'retry', meaning: 'timeout waiting for the connection' }],
  [255, { outcome: 'retry', meaning: 'ssh failed (host unreachable, refused, or authentication)' }],
  [1, { outcome: 'fatal', meaning: 'syntax or usage error (an rsync option the sender or receiver does not accept)' }],
  [2, { outcome: 'fatal', meaning: 'protocol incompatibility between the two rsyncs' }],
  [3, { outcome: 'fatal', meaning: 'errors selecting input/output files or directories' }],
  [4, { outcome: 'fatal', meaning: 'requested action not supported by the receiving rsync' }],
  [6, { outcome: 'fatal', meaning: 'daemon unable to append to its log file' }],
  [13, { outcome: 'fatal', meaning: 'errors with program diagnostics' }],
  [21, { outcome: 'fatal', meaning: 'some error returned by waitpid()' }],
  [25, { outcome: 'fatal', meaning: 'the --max-delete limit stopped deletions' }],
]);

export function classifyExit(exitCode: number | null, signal: NodeJS.Signals | null): ExitMeaning {
  if (exitCode === null) {
    return { outcome: 'retry', meaning: `rsync was killed by ${signal ?? 'a signal'}` };
  }
  return KNOWN.get(exitCode) ?? { outcome: 'fatal', meaning: `unknown rsync exit status ${exitCode}` };
}

// Out of descriptors, processes or memory, for now: a client flood or a busy machine, not a lasting fault.
const TRANSIENT_SPAWN_ERRORS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM']);

/** An error that says the machine is short of descriptors, processes or memory for the moment. */
export function isResourceShortage(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && TRANSIENT_SPAWN_ERRORS.has(code);
}

/** What it means that rsync could not be started at all: ENOENT (no rsync) lasts, a resource shortage passes. */
export function classifySpawnError(error: Error): ExitMeaning {
  const transient = isResourceShortage(error);
  return { outcome: transient ? 'retry' : 'fatal', meaning: `rsync could not be started: ${error.message}${transient ? ' (the machine is short of descriptors, processes or memory; retrying)' : ''}` };
}

/** The worse of two outcomes: fatal > retry > ok. */
export function worse(a: Outcome, b: Outcome): Outcome {
  const rank = { ok: 0, retry: 1, fatal: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}
