// `inosync sync`: keep one or more targets identical to a source tree, live.
import { setFlagsFromString } from 'node:v8';
import type { Argv, CommandModule } from 'yargs';
import { createLogger, type Logger } from '../log/logger.js';
import { defaultBackoff } from '../sync/backoff.js';
import { syncDefaults, type Unsynced } from '../sync/engine.js';
import { createAgent } from './agent.js';
import { withAgentOptions, type AgentArgs } from './agent-plan.js';
import { usage, withTargetOptions, type SyncArgs } from './sync-options.js';
import { withExamples, type Example } from './examples.js';

type SyncCommandArgs = SyncArgs & AgentArgs;

/**
 * V8's young generation starts at 1 MiB per semi-space and doubles under load up to 16 MiB, and an idle agent
 * keeps what it grew to: 9 to 12 MiB of its RSS, measured (npm run bench -- footprint). A growth factor of 1
 * keeps it at the start size; the churn row measured no more CPU. Set here, at run time, not on the command
 * line: a V8 flag there would reject the launcher's code cache (src/cli/launcher.cts), and `watch` keeps
 * V8's default.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

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

export async function runSync(args: SyncCommandArgs): Promise<void> {
  keepYoungGenerationSmall();
  const logger = createLogger({ level: args['log-level'] });
  const engine = await createAgent(args, logger);
  let signals = 0;
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => { done = resolve; });
  const shutdown = async (reason: string, code: number): Promise<void> => {
    logger.info({ reason, drainTimeoutSec: args['drain-timeout'] }, 'stopping: no longer watching; sending what is pending');
    logUnsynced(logger, await engine.stop(args['drain-timeout'] * 1000));
    done(code);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      void shutdown(signal, 0);
      return;
    }
    logger.warn({ signal }, 'second signal: exiting at once, without draining');
    void engine.stop(0);
    setImmediate(() => process.exit(1));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  engine.on('error', (error) => {
    if (signals > 0) return;
    signals += 1;
    void shutdown(`${error.message} (fix: ${error.fix})`, error.exitCode || 1);
  });
  await engine.start();
  const code = await finished;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  if (code !== 0) process.exitCode = code;
}

const examples: Example[] = [
  ['mirror to a local directory', '$0 sync --source /srv/www --target /backup/www'],
  ['mirror to two hosts over ssh, with one key', '$0 sync -s /www -t web2:/www -t u@web3:/www --ssh-identity ~/.ssh/key'],
  ['an ssh port for one target (named by its host)', '$0 sync -s /data -t 10.0.0.7:/data --ssh-port 10.0.0.7=2222'],
  ['an ssh option for every target', '$0 sync -s /data -t web2:/data --ssh-option ConnectTimeout=5'],
  ['leave out .git and temp files', '$0 sync -s /src -t /dst --exclude .git/ --exclude \'*.tmp\''],
  ['replay directory renames on the target instead of sending them again', '$0 sync -s /src -t web2:/src --remote-moves'],
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
    y = withExamples(y, examples);
    return y.epilogue([
      'Startup: watches are armed first, then every target gets one full rsync (in parallel, up to --max-procs);',
      'what changes meanwhile is sent after it. A file is sent when its writer closes it, or within',
      '--max-delay-ms if it is held open. A target that fails is retried with backoff while the others go on.',
      'SIGTERM/SIGINT: stop watching, send what is pending within --drain-timeout, exit 0; a second signal exits at once.',
    ].join('\n')) as unknown as Argv<SyncCommandArgs>;
  },
  handler: (args) => runSync(args),
};
