// What the agent runs: the config file's syncs, with command-line flags given explicitly taking precedence.
import type { Argv } from 'yargs';
import { InosyncError } from '../errors.js';
import type { Logger, LogLevel } from '../log/logger.js';
import { requireDurationMs } from '../config/duration.js';
import type { InosyncConfig, SyncConfig } from '../config/schema.js';
import { splitWords } from '../hooks/words.js';
import { parseListenAddress, type ListenAddress } from '../metrics/listen-address.js';
import { parseTarget, type Target } from '../rsync/target.js';
import { checkRsyncOptions, rsyncOptionsFromFlag } from '../safety/rsync-options.js';
import { BOUNDS, rangeOf } from '../safety/bounds.js';
import { checkSyncPaths } from '../safety/paths.js';
import type { SyncOptions } from '../sync/engine.js';
import type { SyncTarget } from '../sync/target-filter.js';
import { readPatternFile } from '../sync/exclude.js';
import { defaultSocketPath } from '../status/socket-path.js';
import { defaultStateDir } from '../safety/state-dir.js';
import { buildTargets, syncOptionsFrom, usage, type SyncArgs } from './sync-options.js';

/** The agent's own options on `inosync sync` (the engine's are in sync-options.ts). */
export interface AgentArgs {
  config?: string;
  socket?: string;
  metrics?: string;
  'on-sync'?: string;
  'verify-every'?: string;
  'progress-every'?: string;
  'allow-partial-watch'?: boolean;
  'state-dir'?: string;
  'trust-state'?: boolean;
}

export function withAgentOptions<T>(yargs: Argv<T>): Argv<T & AgentArgs> {
  return yargs
    .option('config', { alias: 'c', type: 'string', describe: 'YAML or JSON FILE describing one or more syncs (flags given explicitly override it; --source with --target adds a sync or replaces the file\'s sync of that source; --target alone is refused); SIGHUP re-reads it' })
    .option('socket', { type: 'string', describe: `status socket for \`inosync status\` (default ${defaultSocketPath()})` })
    .option('metrics', { type: 'string', describe: 'serve Prometheus metrics on HOST:PORT (a bare :PORT is 127.0.0.1)' })
    .option('on-sync', { type: 'string', describe: 'COMMAND run after each successful batch per target, split into words but never given to a shell; env INOSYNC_HOST, INOSYNC_TARGET, INOSYNC_SOURCE, INOSYNC_COUNT, INOSYNC_FULL, INOSYNC_PATHS_FILE (NUL-separated paths)' })
    .option('allow-partial-watch', { type: 'boolean', default: false, describe: 'when the inotify watch limit is too low for the trees, leave the largest subtrees unwatched and cover them by periodic full syncs (every --verify-every, default 1m) instead of refusing to start' })
    .option('state-dir', { type: 'string', describe: `DIR of the per-target records of what each target confirmed, so a restart sends only what changed while the agent was down (default ${defaultStateDir()}; created 0700, refused when another user owns it or others may write to it)` })
    .option('trust-state', { type: 'boolean', default: true, describe: 'believe the state records at start; --no-trust-state starts with a plain full sync of every target (the records are still kept)' })
    .option('verify-every', { type: 'string', describe: `DURATION (30m, 6h, 1d; a bare number is seconds) between full passes that repair what inotify cannot see, logging what they repaired [${rangeOf(BOUNDS['verify-every'])}]` })
    .option('progress-every', { type: 'string', describe: `DURATION between the log lines of a running full sync, verification, startup scan or large batch (each also logs one line with its totals when it ends; \`inosync status\` shows them at any time) [${rangeOf(BOUNDS['progress-every'])}, default 10s]` })
    .check((argv) => {
      const a = argv as unknown as Partial<SyncArgs> & AgentArgs;
      if (!a.source && !a.config) throw new InosyncError('nothing to sync', 'Give --source DIR --target SPEC, or --config FILE.', { exitCode: 2 });
      if (a['verify-every'] !== undefined) requireDurationMs(a['verify-every'], '--verify-every', BOUNDS['verify-every']);
      if (a['progress-every'] !== undefined) requireDurationMs(a['progress-every'], '--progress-every', BOUNDS['progress-every']);
      if (a.metrics !== undefined) parseListenAddress(a.metrics);
      if (a['on-sync'] !== undefined) splitWords(a['on-sync'], '--on-sync');
      return true;
    }) as unknown as Argv<T & AgentArgs>;
}

/** One sync as the agent runs it: the engine's options plus what the agent does around it. */
export interface PlannedSync {
  options: SyncOptions;
  onSync: string[] | null;
  verifyEveryMs: number | null;
}

export interface AgentPlan {
  syncs: PlannedSync[];
  socket: string;
  /** False for the default path: another agent holding it then costs this one its socket, not its start. */
  socketChosen: boolean;
  metrics: ListenAddress | null;
  logLevel: LogLevel | null;
  /** Seconds, from the config file, when --drain-timeout was not given. */
  drainTimeout: number | null;
}

const ALIASES: Record<string, string> = { s: 'source', t: 'target', c: 'config' };

/** The long names of the flags present on a command line (`--x`, `--x=v`, `--no-x`, `-s`). */
export function explicitFlags(argv: readonly string[]): Set<string> {
  const flags = new Set<string>();
  for (const word of argv) {
    if (word === '--') break;
    const long = /^--(?:no-)?([^=]+)/.exec(word);
    if (long) flags.add(long[1] as string);
    else if (/^-[a-zA-Z]$/.test(word)) flags.add(ALIASES[word.slice(1)] ?? word.slice(1));
  }
  return flags;
}

function targetsOf(sync: SyncConfig): SyncTarget[] {
  return sync.targets.map((entry) => {
    const spec = typeof entry === 'string' ? entry : entry.target;
    const own = typeof entry === 'string' ? undefined : entry;
    const port = own?.ssh?.port ?? sync.ssh?.port;
    const identity = own?.ssh?.identity ?? sync.ssh?.identity;
    const deleteMode = own?.delete ?? sync.delete;
    const target: Target = parseTarget(spec, {
      sshOptions: [...(own?.ssh?.options ?? []), ...(sync.ssh?.options ?? [])], // ssh keeps an option's first value: the target's own wins
      ...(port === undefined ? {} : { port }),
      ...(identity === undefined ? {} : { identity }),
      ...(typeof entry === 'string' || entry.passwordFile === undefined ? {} : { passwordFile: entry.passwordFile }),
    });
    return {
      ...target,
      ...(deleteMode === undefined ? {} : { deleteMode }),
      ...(own?.include?.length ? { includes: own.include } : {}),
      ...(own?.exclude?.length ? { excludes: own.exclude } : {}),
    };
  });
}

/** `--delete` given explicitly wins over the file: a global value for every target, a scoped one for its own. */
function withCliDeletes(targets: SyncTarget[], args: SyncArgs): SyncTarget[] {
  const cli = buildTargets({ ...args, target: targets.map((t) => t.spec), 'ssh-port': [], 'ssh-identity': [], 'ssh-option': [], 'password-file': [] });
  return targets.map((target, i) => {
    const mode = cli[i]!.deleteMode;
    return mode === undefined ? target : { ...target, deleteMode: mode };
  });
}

function commandOf(value: string | string[] | undefined): string[] | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? splitWords(value, 'onSync') : value;
}

/** Engine options for a sync of the config file; flags named in `explicit` win over the file. */
function fromConfig(sync: SyncConfig, config: InosyncConfig, args: SyncArgs, explicit: Set<string>, logger: Logger): SyncOptions {
  const pick = <T>(flag: string, cli: T, file: T | undefined): T => (explicit.has(flag) || file === undefined ? cli : file);
  const cliExcludes = explicit.has('exclude') || explicit.has('exclude-from');
  const targets = targetsOf(sync);
  const fileOptions = sync.rsyncOptions === undefined ? undefined : checkRsyncOptions(sync.rsyncOptions, `rsyncOptions of the sync of ${sync.source}`);
  const rsyncOptions = explicit.has('rsync-opts') && args['rsync-opts'] !== undefined ? rsyncOptionsFromFlag(args['rsync-opts']) : fileOptions;
  return {
    source: sync.source,
    targets: explicit.has('delete') ? withCliDeletes(targets, args) : targets,
    excludes: cliExcludes
      ? [...args.exclude, ...args['exclude-from'].flatMap(readPatternFile)]
      : [...(sync.exclude ?? []), ...(sync.excludeFrom ?? []).flatMap(readPatternFile)],
    includes: explicit.has('include') ? args.include ?? [] : sync.include ?? [],
    initialSync: pick('initial-sync', args['initial-sync'] ?? true, sync.initialSync),
    ...(rsyncOptions === undefined ? {} : { rsyncOptions }),
    quietMs: pick('quiet-ms', args['quiet-ms'], sync.quietMs),
    maxDelayMs: pick('max-delay-ms', args['max-delay-ms'], sync.maxDelayMs),
    maxProcs: pick('max-procs', args['max-procs'], sync.maxProcs ?? config.maxProcs),
    fullSyncProcs: pick('full-sync-procs', args['full-sync-procs'], sync.fullSyncProcs),
    maxPending: pick('max-pending', args['max-pending'], sync.maxPending),
    remoteMoves: pick('remote-moves', args['remote-moves'], sync.remoteMoves),
    backoff: { baseMs: args['retry-base-ms'], capMs: args['retry-max-ms'], jitter: 0.5 },
    timeoutSec: pick('timeout', args.timeout, config.timeout),
    logger,
  };
}

/**
 * The plan for this process's command line: the config file (read when --config is given; the YAML parser and
 * the schema are loaded only then, about 7 MB an agent run by flags does not hold) and the flags, refused when
 * a target overlaps a source (src/safety/paths.ts). The agent's start, its SIGHUP reload and `inosync check`
 * all come through here.
 */
export async function planCommandLine(args: SyncArgs & AgentArgs, logger: Logger): Promise<AgentPlan> {
  const config = args.config === undefined ? null : (await import('../config/load.js')).loadConfig(args.config);
  const plan = planAgent(args, explicitFlags(process.argv.slice(2)), logger, () => syncOptionsFrom(args, logger), config);
  checkSyncPaths(plan.syncs.map((s) => s.options)); // every sync of the plan, flags and file together
  return plan;
}

/**
 * Builds the plan from the config file's contents (null without --config) and the flags. `--source` with
 * `--config` adds that sync, or replaces the file's sync of the same source; `--target` without `--source` is
 * refused. `cliSync` turns the flags into one
 * sync.
 */
export function planAgent(args: SyncArgs & AgentArgs, explicit: Set<string>, logger: Logger, cliSync: () => SyncOptions, config: InosyncConfig | null): AgentPlan {
  if (config !== null && !args.source && args.target.length > 0) {
    throw usage(`--target ${args.target.join(' --target ')} is given with --config but without --source: it would join none of the file's syncs`,
      'Put the target in the config file, under its sync, or give --source DIR too (the flags then make one sync, replacing the file\'s sync of that source).');
  }
  const cliHook = args['on-sync'] === undefined ? null : splitWords(args['on-sync'], '--on-sync');
  const cliVerify = args['verify-every'] === undefined ? null : requireDurationMs(args['verify-every'], '--verify-every', BOUNDS['verify-every']);
  const syncs: PlannedSync[] = (config?.syncs ?? []).map((sync) => ({
    options: fromConfig(sync, config as InosyncConfig, args, explicit, logger),
    onSync: cliHook ?? commandOf(sync.onSync),
    verifyEveryMs: cliVerify ?? (sync.verifyEvery === undefined ? null : requireDurationMs(sync.verifyEvery, 'verifyEvery', BOUNDS['verify-every'])),
  }));
  if (args.source) {
    const options = cliSync();
    const planned = { options, onSync: cliHook, verifyEveryMs: cliVerify };
    const same = syncs.findIndex((s) => s.options.source === options.source);
    if (same >= 0) syncs[same] = planned;
    else syncs.push(planned);
  }
  const state = {
    dir: args['state-dir'] ?? config?.stateDir ?? defaultStateDir(),
    trust: explicit.has('trust-state') || config?.trustState === undefined ? args['trust-state'] ?? true : config.trustState,
  };
  const progressEveryMs = args['progress-every'] === undefined ? undefined : requireDurationMs(args['progress-every'], '--progress-every', BOUNDS['progress-every']);
  for (const sync of syncs) {
    sync.options.state = state;
    if (progressEveryMs !== undefined) sync.options.progressEveryMs = progressEveryMs;
  }
  const metrics = args.metrics ?? config?.metrics;
  return {
    syncs,
    socket: args.socket ?? config?.socket ?? defaultSocketPath(),
    socketChosen: (args.socket ?? config?.socket) !== undefined,
    metrics: metrics === undefined ? null : parseListenAddress(metrics),
    logLevel: explicit.has('log-level') ? null : config?.logLevel ?? null,
    drainTimeout: explicit.has('drain-timeout') ? null : config?.drainTimeout ?? null,
  };
}
