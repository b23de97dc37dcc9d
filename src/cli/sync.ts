// `inosync sync`: keep one or more targets identical to a source tree, live.
import type { Argv, CommandModule } from 'yargs';
import { InosyncError } from '../errors.js';
import { createLogger, type Logger, type LogLevel } from '../log/logger.js';
import { parseTarget, type Target, type TargetDefaults } from '../rsync/target.js';
import { defaultBackoff } from '../sync/backoff.js';
import { syncDefaults, type SyncOptions, type Unsynced } from '../sync/engine.js';
import { readPatternFile } from '../sync/exclude.js';
import { createAgent } from './agent.js';
import { withAgentOptions, type AgentArgs } from './agent-plan.js';

export interface SyncArgs extends AgentArgs {
  source: string;
  target: string[];
  exclude: string[];
  'exclude-from': string[];
  'rsync-opts'?: string;
  'ssh-port': string[];
  'ssh-identity': string[];
  'ssh-option': string[];
  'quiet-ms': number;
  'max-delay-ms': number;
  'max-procs': number;
  'max-pending': number;
  'remote-moves': boolean;
  'retry-base-ms': number;
  'retry-max-ms': number;
  timeout: number;
  'drain-timeout': number;
  'log-level': LogLevel;
}

const usage = (message: string, fix: string): InosyncError => new InosyncError(message, fix, { exitCode: 2 });

/**
 * Splits `[TARGET=]VALUE` lists into global values and values for one target. TARGET is a target's spec,
 * its host, or user@host; a value may itself hold '=' (ssh options do), so only a prefix naming a known
 * target counts.
 */
function scoped(values: readonly string[], keys: ReadonlyArray<readonly string[]>): { global: string[]; perTarget: string[][] } {
  const global: string[] = [];
  const perTarget = keys.map((): string[] => []);
  for (const value of values) {
    let placed = false;
    for (let eq = value.indexOf('='); eq > 0 && !placed; eq = value.indexOf('=', eq + 1)) {
      const prefix = value.slice(0, eq);
      keys.forEach((names, i) => {
        if (names.includes(prefix)) {
          perTarget[i]!.push(value.slice(eq + 1));
          placed = true;
        }
      });
    }
    if (!placed) global.push(value);
  }
  return { global, perTarget };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw usage(`--ssh-port "${value}" is not a port`, 'Give a port between 1 and 65535, for all targets (--ssh-port 2222) or one (--ssh-port host=2222).');
  return n;
}

/** The targets with their ssh settings: per-target values win over global ones. */
export function buildTargets(args: Pick<SyncArgs, 'target' | 'ssh-port' | 'ssh-identity' | 'ssh-option'>): Target[] {
  const bare = args.target.map((spec) => parseTarget(spec));
  const keys = bare.map((t) => (t.kind === 'ssh' ? [t.spec, t.host, ...(t.user === undefined ? [] : [`${t.user}@${t.host}`])] : [t.spec]));
  const ports = scoped(args['ssh-port'], keys);
  const identities = scoped(args['ssh-identity'], keys);
  const options = scoped(args['ssh-option'], keys);
  const last = (list: string[]): string | undefined => list[list.length - 1];
  const toArgv = (list: string[]): string[] => list.flatMap((o) => ['-o', o]);
  return args.target.map((spec, i) => {
    const defaults: TargetDefaults = { sshOptions: [...toArgv(options.global), ...toArgv(options.perTarget[i]!)] };
    const p = last(ports.perTarget[i]!) ?? last(ports.global);
    if (p !== undefined) defaults.port = port(p);
    const identity = last(identities.perTarget[i]!) ?? last(identities.global);
    if (identity !== undefined) defaults.identity = identity;
    return parseTarget(spec, defaults);
  });
}

/** Engine options from the command line (the config file of a later version merges into the same shape). */
export function syncOptionsFrom(args: SyncArgs, logger: Logger): SyncOptions {
  if (args.target.length === 0) throw usage('no target given', 'Add --target DIR or --target [user@]host:/path (repeatable).');
  const specs = new Set<string>();
  for (const spec of args.target) {
    if (specs.has(spec)) throw usage(`target ${spec} is given twice`, 'Give each target once.');
    specs.add(spec);
  }
  const rsyncOptions = args['rsync-opts']?.trim().split(/\s+/).filter((o) => o !== '');
  return {
    source: args.source,
    targets: buildTargets(args),
    excludes: [...args.exclude, ...args['exclude-from'].flatMap(readPatternFile)],
    ...(rsyncOptions === undefined ? {} : { rsyncOptions }),
    quietMs: args['quiet-ms'],
    maxDelayMs: args['max-delay-ms'],
    maxProcs: args['max-procs'],
    maxPending: args['max-pending'],
    remoteMoves: args['remote-moves'],
    backoff: { ...defaultBackoff, baseMs: args['retry-base-ms'], capMs: args['retry-max-ms'] },
    timeoutSec: args.timeout,
    logger,
  };
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

export async function runSync(args: SyncArgs): Promise<void> {
  const logger = createLogger({ level: args['log-level'] });
  const engine = await createAgent(args, logger, syncOptionsFrom);
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

const examples: Array<[string, string]> = [
  ['$0 sync --source /srv/www --target /backup/www', 'mirror to a local directory'],
  ['$0 sync --source /srv/www --target web2:/srv/www --target deploy@web3:/srv/www --ssh-identity ~/.ssh/mirror', 'mirror to two hosts over ssh'],
  ['$0 sync --source /data --target 10.0.0.7:/data --ssh-port 10.0.0.7=2222 --ssh-option ConnectTimeout=5', 'a port for one target, an ssh option for all'],
  ['$0 sync --source /src --target /dst --exclude .git/ --exclude "*.tmp" --remote-moves', 'leave out .git and temp files; replay directory renames'],
];

/** The options that say what is mirrored where, shared with `inosync check`. */
export function withTargetOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('source', { alias: 's', type: 'string', describe: 'the directory to mirror (or give --config)' })
    .option('target', { alias: 't', type: 'string', array: true, default: [], describe: 'where to mirror it: DIR or [user@]host:/path (repeatable)' })
    .option('exclude', { type: 'string', array: true, default: [], describe: 'rsync-style PATTERN left out of watching and sending (repeatable)' })
    .option('exclude-from', { type: 'string', array: true, default: [], describe: 'FILE of exclude patterns, one per line (# and ; start comments)' })
    .option('rsync-opts', { type: 'string', describe: 'replace the transfer flags (default "-aHAX", plus --numeric-ids as root; no -z), e.g. "-a -z"' })
    .option('ssh-port', { type: 'string', array: true, default: [], describe: '[TARGET=]PORT: ssh port for every target, or for one (TARGET is its host, user@host or spec)' })
    .option('ssh-identity', { type: 'string', array: true, default: [], describe: '[TARGET=]FILE: ssh private key, for all targets or one' })
    .option('ssh-option', { type: 'string', array: true, default: [], describe: '[TARGET=]KEY=VALUE: an ssh -o option, for all targets or one (repeatable)' });
}

export const syncCommand: CommandModule<object, SyncArgs> = {
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
    ].join('\n')) as unknown as Argv<SyncArgs>;
  },
  handler: (args) => runSync(args),
};
