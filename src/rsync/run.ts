// One rsync child: its command line, what it reports while it runs (items changed and deleted, directories
// it would not delete, a receiver that rejects --delete-missing-args, no rsync on the far side), and whether
// it did its job. It is spawned ahead of its input (see PreparedChild): complete() feeds it its NUL list.
import type { Logger } from '../log/logger.js';
import { isExecutable, prepareChild, type ChildResult, type PreparedChild, type Silence } from './child.js';
import { daemonRefusal } from './daemon-refusal.js';
import { classifyExit, type Outcome } from './exit-codes.js';
import { saysNoRemoteRsync } from './failure.js';
import { countLine, emptyCounts, OUT_FORMAT_ARG, type ItemCounts } from './itemize.js';
import { readProgress2, type RunProgress } from '../status/progress.js';

// rsync's quick check compares mtimes to the second: a file rewritten with the same size within the second
// of its last transfer would be skipped, on every later run too. A negative window compares nanoseconds
// (receivers from rsync 3.1.3 on; older ones compare seconds). A user's own --modify-window wins.
export const NANOSECOND_MTIMES = '--modify-window=-1';
export const MODIFY_WINDOW = /^(--modify-window|-@)/;

// Not "protocol incompatibility" alone: a login shell that prints to stdout ends the same way.
const DELETE_ARGS_REJECTED = /invalid file mode|delete-missing-args: unknown option|unknown option.*delete-missing-args/i;
const PROTECTED_DIR = /cannot delete non-empty directory/;
/** Overall progress, \r-separated updates ending in a newline when a file is done, and at the end. */
const PROGRESS_ARG = '--info=progress2';

/**
 * The background verification's rsync runs at idle I/O priority and the lowest CPU priority, through ionice
 * and nice (util-linux, coreutils), which exec it in place: argv only, same pid for the watchdog. Each is
 * left out when it is not installed.
 */
const LOW_PRIORITY: readonly string[] = [
  ...lookUp(['/usr/bin/ionice', '/bin/ionice'], '-c3'),
  ...lookUp(['/usr/bin/nice', '/bin/nice'], '-n19'),
];

function lookUp(places: string[], option: string): string[] {
  const program = places.find(isExecutable);
  return program === undefined ? [] : [program, option];
}

export interface RunSpec {
  /** Attribute flags (-aHAX or the user's). */
  attrs: string[];
  /** How rsync reaches the far side: `-e SHELL` for an ssh target, the daemon's options for a daemon target. */
  shell: readonly string[];
  /** --exclude options. */
  filters: string[];
  /** What the run does: --files-from, -r, --delete... */
  mechanism: string[];
  from: string;
  to: string;
  timeoutSec: number;
  /** The far side, for the message when it has no rsync. */
  where: string;
  logger: Logger;
  /** Ends the run whatever else happens (its transport stopping). */
  stopping: AbortSignal;
  /** Under ionice -c3 and nice -n19 (see LOW_PRIORITY). */
  lowPriority?: boolean;
  /** Asks, after a quiet, whether the far side still answers (child.ts). */
  silence?: Silence;
  /**
   * Also reads rsync's overall progress (--info=progress2: its to-chk=LEFT/TOTAL, on stdout between the item
   * lines), for a long run (src/status/progress.ts); the item counts are live either way.
   */
  progress?: boolean;
}

export interface Run {
  counts: ItemCounts;
  child: ChildResult;
  /** Directories rsync would not delete: they hold excluded entries on the target. */
  kept: number;
  rejectedDeletes: boolean;
  args: string[];
  /** What went wrong although rsync exited well (set by checks of the run's effect). */
  problem?: { outcome: Outcome; meaning: string };
}

/** An rsync spawned ahead of its input. */
export interface Launched {
  prepared: PreparedChild;
  /** What it has done so far, updated as its lines arrive. */
  live: RunProgress;
  complete(stdin: Buffer, signal?: AbortSignal): Promise<Run>;
}

export function launchRsync(spec: RunSpec): Launched {
  const { attrs, timeoutSec, stopping } = spec;
  const args = [
    ...attrs, ...spec.shell, ...(attrs.some((o) => MODIFY_WINDOW.test(o)) ? [] : [NANOSECOND_MTIMES]), `--timeout=${timeoutSec}`, OUT_FORMAT_ARG,
    ...(spec.progress === true ? [PROGRESS_ARG] : []), ...spec.filters, ...spec.mechanism,
    '--', spec.from, spec.to,
  ];
  const counts = emptyCounts();
  const live: RunProgress = { counts, checked: 0, total: null };
  let kept = 0;
  let rejectedDeletes = false;
  let noRemoteRsync = false;
  let refused: string | undefined;
  const usesMissingArgs = spec.mechanism.includes('--delete-missing-args');
  spec.logger.debug({ args }, 'rsync');
  const command = spec.lowPriority === true && LOW_PRIORITY.length > 0 ? [...LOW_PRIORITY, 'rsync'] : ['rsync'];
  const prepared = prepareChild({
    command: command[0]!,
    args: [...command.slice(1), ...args],
    stallMs: (timeoutSec * 2 + 5) * 1000,
    ...(spec.silence ? { silence: spec.silence } : {}),
    // rsync reports a directory it would not delete as info, on stdout.
    onStdoutLine: (line) => {
      if (countLine(counts, line)) return;
      const text = line.toString('latin1');
      if (PROTECTED_DIR.test(text)) kept++;
      else if (spec.progress === true) readProgress2(live, text);
    },
    onStderrLine: (line) => {
      if (usesMissingArgs && DELETE_ARGS_REJECTED.test(line)) rejectedDeletes = true;
      // rsync reports a lost connection (12) when the far side has no rsync: retrying will not mend that.
      if (saysNoRemoteRsync(line)) noRemoteRsync = true;
      refused ??= daemonRefusal(line, spec.where);
    },
  });
  const complete = async (stdin: Buffer, signal?: AbortSignal): Promise<Run> => {
    const child = await prepared.run(stdin, signal === undefined ? stopping : AbortSignal.any([signal, stopping]));
    // Only a failing run can mean the receiver rejected the flag; the same words in a successful run are noise.
    rejectedDeletes &&= child.exitCode !== null && [1, 2, 4, 12].includes(child.exitCode);
    const run: Run = { counts, child, kept, rejectedDeletes, args };
    if (noRemoteRsync && child.exitCode !== 0) run.problem = { outcome: 'fatal', meaning: `rsync is not installed on ${spec.where} (or not on its PATH: see --rsync-path)` };
    if (refused !== undefined && child.exitCode !== 0) run.problem = { outcome: 'fatal', meaning: refused };
    return run;
  };
  return { prepared, live, complete };
}

export function succeeded(run: Run): boolean {
  return run.problem === undefined && classifyExit(run.child.exitCode, run.child.signal).outcome === 'ok' && run.child.spawnError === undefined;
}
