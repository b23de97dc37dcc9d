// `inosync sync`: keep one or more targets identical to a source tree, live.
import type { Argv, CommandModule } from 'yargs';
import { createLogger, type Logger } from '../log/logger.js';
import { defaultBackoff } from '../sync/backoff.js';
import { syncDefaults, type Unsynced } from '../sync/engine.js';
import { onSignal, type GuardedSignal } from '../safety/signals.cjs';
import { createAgent, type Agent } from './agent.js';
import { withAgentOptions, type AgentArgs } from './agent-plan.js';
import { usage, withTargetOptions, type SyncArgs } from './sync-options.js';

type SyncCommandArgs = SyncArgs & AgentArgs;

function logUnsynced(logger: Logger, left: Unsynced[]): void {
  if (left.length === 0) {
    logger.info('stopped: every target has every change');
    return;
  }
  for (const host of left) {
    logger.warn({
      host: host.host,
      fullSyncOwed: host.fullSync,
      paths: host.marks,
      moves: host.moves,
      sample: host.sample.map((p) => p.toString('utf8')),
    }, 'stopped with changes this target has not received: the next start (its full sync) sends them');
  }
}

/**
 * Runs the agent until SIGTERM/SIGINT (or an error it cannot go on with): the first stops it, sending what
 * is pending within --drain-timeout; a second exits at once. Both are heard from the first line on: a stop
 * asked for while the plan is made or the agent starts takes effect as soon as it can.
 */
export async function runSync(args: SyncCommandArgs): Promise<void> {
  const logger = createLogger({ level: args['log-level'] });
  let agent: Agent | null = null;
  let signals = 0;
  let requestStop: (why: { reason: string; code: number }) => void = () => {};
  const stopRequested = new Promise<{ reason: string; code: number }>((resolve) => { requestStop = resolve; });
  const onStopSignal = (signal: GuardedSignal): void => {
    signals += 1;
    if (signals === 1) {
      requestStop({ reason: signal, code: 0 });
      return;
    }
    logger.warn({ signal }, 'second signal: exiting at once, without draining');
    void agent?.stop(0);
    setImmediate(() => process.exit(1));
  };
  const unsubscribe = [onSignal('SIGTERM', onStopSignal), onSignal('SIGINT', onStopSignal)];
  let exitCode = 0;
  try {
    agent = await createAgent(args, logger);
    if (signals > 0) {
      logger.info('stopped before the agent started');
      return exitNow(0);
    }
    agent.on('error', (error) => {
      if (signals > 0) return;
      signals += 1;
      requestStop({ reason: `${error.message} (fix: ${error.fix})`, code: error.exitCode || 1 });
    });
    const started = agent.start();
    const { reason, code } = await Promise.race([stopRequested, started.then(() => stopRequested)]);
    logger.info({ reason, drainTimeoutSec: args['drain-timeout'] }, 'stopping: no longer watching; sending what is pending');
    logUnsynced(logger, await agent.stop(args['drain-timeout'] * 1000));
    exitCode = code;
  } finally {
    for (const off of unsubscribe) off();
  }
  exitNow(exitCode);
}

/**
 * Ends the agent's process at once, its signal listeners still installed. A process left to end when its
 * work runs out closes them on the way, and a signal in that last moment gets its default action: a
 * SIGUSR1 or SIGHUP from a resync or reload script would end a clean stop as killed. (Logs are written
 * synchronously: nothing is lost.)
 */
function exitNow(code: number): never {
  process.exit(code);
}

const examples: Array<[string, string]> = [
  ['$0 sync --source /srv/www --target /backup/www', 'mirror to a local directory'],
  ['$0 sync --source /srv/www --target web2:/srv/www --target deploy@web3:/srv/www --ssh-identity ~/.ssh/mirror', 'mirror to two hosts over ssh'],
  ['$0 sync --source /data --target 10.0.0.7:/data --ssh-port 10.0.0.7=2222 --ssh-option ConnectTimeout=5', 'a port for one target, an ssh option for all'],
  ['$0 sync --source /src --target /dst --exclude .git/ --exclude "*.tmp" --remote-moves', 'leave out .git and temp files; replay directory renames'],
];

export const syncCommand: CommandModule<object, SyncCommandArgs> = {
  command: 'sync',
  describe: 'Keep targets (local directories or [user@]host:/path over ssh) identical to a source tree, live',
  builder: (yargs: Argv) => {
    let y = withTargetOptions(yargs)
      .option('quiet-ms', { type: 'number', default: syncDefaults.quietMs, describe: 'send once no change has come for this long (ms)' })
      .option('max-delay-ms', { type: 'number', default: syncDefaults.maxDelayMs, describe: 'never hold a change longer than this (ms), even a file still being written' })
      .option('max-procs', { type: 'number', default: syncDefaults.maxProcs, describe: 'rsyncs running at once across all targets (one per target at most)' })
      .option('max-pending', { type: 'number', default: syncDefaults.maxPending, describe: 'paths a target may owe before they collapse into one full sync' })
      .option('remote-moves', { type: 'boolean', default: false, describe: 'replay directory renames on the targets instead of sending the subtree again' })
      .option('retry-base-ms', { type: 'number', default: defaultBackoff.baseMs, describe: 'first retry delay after a failed rsync (ms); doubles per failure, with jitter' })
      .option('retry-max-ms', { type: 'number', default: defaultBackoff.capMs, describe: 'longest retry delay (ms)' })
      .option('timeout', { type: 'number', default: syncDefaults.timeoutSec, describe: 'rsync I/O timeout and ssh connect/keep-alive budget (s)' })
      .option('drain-timeout', { type: 'number', default: 10, describe: 'on SIGTERM/SIGINT, how long to keep sending what is pending (s)' })
      .option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], describe: 'what to log (JSON lines on stderr, readable on a TTY)' })
      .check((argv) => {
        for (const key of ['quiet-ms', 'max-delay-ms', 'max-procs', 'max-pending', 'retry-base-ms', 'retry-max-ms', 'timeout', 'drain-timeout'] as const) {
          const value = argv[key];
          if (!Number.isFinite(value) || value < 0 || ((key === 'max-procs' || key === 'max-pending') && value < 1)) {
            throw usage(`--${key} ${String(value)} is not valid`, `Give a ${key === 'max-procs' || key === 'max-pending' ? 'positive whole number' : 'number >= 0'}.`);
          }
        }
        return true;
      });
    y = withAgentOptions(y);
    for (const [command, description] of examples) y = y.example(command, description);
    return y.epilogue([
      'Startup: watches are armed first, then every target gets one full rsync (in parallel, up to --max-procs);',
      'what changes meanwhile is sent after it. A file is sent when its writer closes it, or within',
      '--max-delay-ms if it is held open. A target that fails is retried with backoff while the others go on.',
      'SIGTERM/SIGINT: stop watching, send what is pending within --drain-timeout, exit 0; a second signal exits at once.',
      'SIGHUP (reload the config) and SIGUSR1 (full resync) sent during startup are acted on once it runs; during the stop, ignored.',
    ].join('\n')) as unknown as Argv<SyncCommandArgs>;
  },
  handler: (args) => runSync(args),
};
