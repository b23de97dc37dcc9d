// `inosync sync`: keep one or more targets identical to a source tree, live.
import type { Argv, CommandModule } from 'yargs';
import { createLogger, type Logger } from '../log/logger.js';
import { defaultBackoff } from '../sync/backoff.js';
import { syncDefaults, type Unsynced } from '../sync/engine.js';
import { onSignal, type GuardedSignal } from '../safety/signals.cjs';
import { createAgent, type Agent } from './agent.js';
import { DEFAULT_FULL_SYNC_PROCS } from '../rsync/transport.js';
import { withAgentOptions, type AgentArgs } from './agent-plan.js';
import { withBoundedOptions } from './bounded-option.js';
import { withTargetOptions, type SyncArgs } from './sync-options.js';
import { withExamples, type Example } from './examples.js';

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

const examples: Example[] = [
  ['mirror to a local directory', '$0 sync --source /srv/www --target /backup/www'],
  ['mirror to two hosts over ssh, with one key', '$0 sync -s /www -t web2:/www -t u@web3:/www --ssh-identity ~/.ssh/key'],
  ['an ssh port for one target (named by its host)', '$0 sync -s /data -t 10.0.0.7:/data --ssh-port 10.0.0.7=2222'],
  ['an ssh option for every target', '$0 sync -s /data -t web2:/data --ssh-option ConnectTimeout=5'],
  ['leave out .git and temp files', '$0 sync -s /src -t /dst --exclude .git/ --exclude \'*.tmp\''],
  ['replay directory renames on the target instead of sending them again', '$0 sync -s /src -t web2:/src --remote-moves'],
  ['a backup: files deleted on the source stay on the target', '$0 sync -s /srv/www -t /backup/www --delete never'],
];

export const syncCommand: CommandModule<object, SyncCommandArgs> = {
  command: 'sync',
  describe: 'Keep targets (local directories or [user@]host:/path over ssh) identical to a source tree, live',
  builder: (yargs: Argv) => {
    let y = withBoundedOptions(withTargetOptions(yargs), [
      { bound: 'quiet-ms', describe: 'send once no change has come for this long', default: syncDefaults.quietMs },
      { bound: 'max-delay-ms', describe: 'never hold a change longer than this, even a file still being written', default: syncDefaults.maxDelayMs },
      { bound: 'max-procs', describe: 'rsyncs running at once across all targets (one per target at most)', default: syncDefaults.maxProcs },
      { bound: 'full-sync-procs', describe: 'rsyncs one target\'s full sync of a large tree runs side by side (with -H, subtrees that share a hard link go in one run); each full sync takes one --max-procs slot', default: DEFAULT_FULL_SYNC_PROCS },
      { bound: 'max-pending', describe: 'paths a target may owe before they collapse into one full sync', default: syncDefaults.maxPending },
      { bound: 'retry-base-ms', describe: 'first retry delay after a failed rsync; doubles per failure, with jitter', default: defaultBackoff.baseMs },
      { bound: 'retry-max-ms', describe: 'longest retry delay', default: defaultBackoff.capMs },
      { bound: 'timeout', describe: 'rsync I/O timeout and ssh connect/keep-alive budget', default: syncDefaults.timeoutSec },
      { bound: 'drain-timeout', describe: 'on SIGTERM/SIGINT, how long to keep sending what is pending', default: 10 },
    ])
      .option('remote-moves', { type: 'boolean', default: false, describe: 'replay directory renames on the targets instead of sending the subtree again (not on targets that keep deletes: there the old name stays; not over rsync daemon targets: those get the normal send)' })
      .option('delete', { type: 'string', array: true, default: [], describe: '[TARGET=]MODE: which deletes reach the targets (or one): always (default), never (deleted files stay: a backup), startup (the startup and verification full syncs delete, live deletes do not), running (live deletes do, the startup sync does not)' })
      .option('initial-sync', { type: 'boolean', default: true, describe: 'the startup full sync of every target; --no-initial-sync skips it (the targets are known to be current); SIGUSR1 and --verify-every still do full syncs' })
      .option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], describe: 'what to log (JSON lines on stderr, readable on a TTY)' });
    y = withAgentOptions(y);
    y = withExamples(y, examples);
    return y.epilogue([
      'Startup: watches are armed first, then every target gets one full rsync (in parallel, up to --max-procs);',
      'what changes meanwhile is sent after it (--no-initial-sync skips that full sync; a persistent per-target state,',
      'once built, will make a restart cheap anyway). A file is sent when its writer closes it, or within',
      '--max-delay-ms if it is held open. A target that fails is retried with backoff while the others go on.',
      'SIGTERM/SIGINT: stop watching, send what is pending within --drain-timeout, exit 0; a second signal exits at once.',
      'Refused (exit 2), on real paths with symlinks resolved: a source that is not a directory; a local target that is',
      'the source, holds it, lies inside it or another target, or is /; a remote target path of /.',
      'SIGHUP (reload the config) and SIGUSR1 (full resync) sent during startup are acted on once it runs; during the stop, ignored.',
    ].join('\n')) as unknown as Argv<SyncCommandArgs>;
  },
  handler: (args) => runSync(args),
};
