// `inosync watch` (and `inotifywait`, the same under that name): an inotifywait-compatible monitor; with
// --stats, inotifywatch. Arguments are parsed the way inotifywait parses them (GNU getopt_long), not by yargs:
// main() hands them to runWatch untouched, and yargs only lists the command in `inosync --help`.
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import { DAEMON_ENV, READY, startDaemon } from '../monitor/daemon.js';
import { statsHelp, waitHelp } from '../monitor/help.js';
import { runStats, runWait, type MonitorIo } from '../monitor/monitor.js';
import { parseWatchCommand, type StatsOptions, type WaitOptions } from '../monitor/options.js';
import { descriptorSink } from '../monitor/sinks.js';
import { endBySignal, onSignal, type GuardedSignal } from '../safety/signals.cjs';

const invokedAs = basename(process.argv[1] ?? '');
const program = invokedAs === 'inotifywait' || invokedAs === 'inotifywatch' ? invokedAs : 'inosync watch';
/** How the statistics mode is invoked: `inotifywatch`, or `inosync watch --stats`. */
const statsProgram = invokedAs === 'inotifywatch' ? 'inotifywatch' : `${program} --stats`;

/**
 * Messages are written to fd 2 directly, stdout and stdin are touched only when used: Node makes each of
 * process.stdin, stdout and stderr on first use, loading the stream, net or tty modules behind it, which
 * together cost a `watch` that starts in a shell loop (or races inotifywait) about 9 ms.
 */
const stderr = descriptorSink(2, () => process.stderr);

function io(extra: Partial<MonitorIo> = {}): MonitorIo {
  return {
    get stdout() { return process.stdout; },
    stderr,
    get stdin() { return process.stdin; },
    program,
    ...extra,
  };
}

async function runInForeground(options: WaitOptions): Promise<number> {
  if (options.daemon && process.env[DAEMON_ENV] !== '1') {
    return startDaemon({
      file: process.execPath,
      args: [...process.execArgv, ...process.argv.slice(1)],
      env: process.env,
      inheritStdin: options.fromfile === '-',
      stderr,
    });
  }
  if (process.env[DAEMON_ENV] === '1') {
    delete process.env[DAEMON_ENV];
    return runWait(options, io({ onReady: () => process.send?.(READY, () => process.disconnect?.()) }));
  }
  return runWait(options, io());
}

async function runStatsUntilSignal(options: StatsOptions): Promise<number> {
  const stop = new AbortController();
  const signals: GuardedSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const unsubscribe = signals.map((s) => onSignal(s, () => stop.abort()));
  try {
    return await runStats(options, io({ signal: stop.signal }));
  } finally {
    for (const off of unsubscribe) off();
  }
}

/** The entry `inosync --help` lists; main() runs `watch` itself, before yargs (see runWatch). */
export const watchCommand: CommandModule = {
  command: 'watch [args..]',
  describe: 'Print filesystem events like inotifywait (also: --stats, like inotifywatch)',
  handler: () => undefined,
};

/**
 * Runs the monitor on inotifywait's arguments, as given; resolves with its exit code. main() calls it
 * directly, without yargs: a shell loop that starts `inotifywait` once per event must not pay for a parser
 * it does not use.
 */
export async function runWatch(args: string[]): Promise<number> {
  const command = parseWatchCommand(args, program);
  if (command.kind === 'help') {
    process.stdout.write(`${command.stats ? statsHelp(statsProgram, program) : waitHelp(program)}\n`);
    return 0;
  }
  if (command.kind === 'stats') return runStatsUntilSignal(command);
  // inotifywait ends on SIGHUP, as on SIGTERM and SIGINT (which end a process that did not subscribe to
  // them); SIGUSR1, which would end inotifywait, is ignored here: see src/safety/signals.cts.
  onSignal('SIGHUP', () => endBySignal('SIGHUP'));
  return runInForeground(command);
}
