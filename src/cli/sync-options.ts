// The flags that say what is mirrored where and how, and the engine options they make. Shared by `inosync
// sync`, `inosync check` and the agent's plan, so it depends on none of them.
import type { Argv } from 'yargs';
import { InosyncError } from '../errors.js';
import type { Logger, LogLevel } from '../log/logger.js';
import { parseTarget, type Target, type TargetDefaults } from '../rsync/target.js';
import { rsyncOptionsFromFlag } from '../safety/rsync-options.js';
import { defaultBackoff } from '../sync/backoff.js';
import { parseDeleteMode } from '../sync/delete-mode.js';
import type { SyncOptions } from '../sync/engine.js';
import type { SyncTarget } from '../sync/target-filter.js';
import { readPatternFile } from '../sync/exclude.js';
import { requireUtf8Targets, sourceOf } from './raw-arguments.js';

export interface SyncArgs {
  source: string;
  target: string[];
  exclude: string[];
  'exclude-from': string[];
  include?: string[];
  /** `[TARGET=]MODE` (delete-mode.ts); `inosync sync` only. */
  delete?: string[];
  'initial-sync'?: boolean;
  'rsync-opts'?: string;
  'ssh-port': string[];
  'ssh-identity': string[];
  'ssh-option': string[];
  /** [TARGET=]FILE; optional for callers that build targets without it. */
  'password-file'?: string[];
  'quiet-ms': number;
  'max-delay-ms': number;
  'max-procs': number;
  'full-sync-procs'?: number;
  'max-pending': number;
  'remote-moves': boolean;
  'retry-base-ms': number;
  'retry-max-ms': number;
  timeout: number;
  'drain-timeout': number;
  'log-level': LogLevel;
}

export const usage = (message: string, fix: string): InosyncError => new InosyncError(message, fix, { exitCode: 2 });

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

/** A port; `hosts` (the ssh targets' hosts) name what a TARGET= prefix that matched none could have been. */
function port(value: string, hosts: readonly string[]): number {
  const n = Number(value);
  const scope = /^(.*)=(\d+)$/.exec(value);
  if (scope && !Number.isInteger(n)) {
    const known = hosts.length === 0 ? 'no target is reached over ssh' : `the ssh targets' hosts: ${[...new Set(hosts)].join(', ')}`;
    throw usage(`--ssh-port ${value}: no target has the host "${scope[1]}"`, `Name a target before '=' by its host, user@host or spec (${known}), or give the port for every target: --ssh-port ${scope[2]}.`);
  }
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw usage(`--ssh-port "${value}" is not a port`, 'Give a port between 1 and 65535, for all targets (--ssh-port 2222) or one (--ssh-port host=2222).');
  return n;
}

/** The targets with their ssh settings, password files and delete modes: per-target values win over global ones. */
export function buildTargets(args: Pick<SyncArgs, 'target' | 'ssh-port' | 'ssh-identity' | 'ssh-option' | 'password-file' | 'delete'>): SyncTarget[] {
  const bare = args.target.map((spec) => parseTarget(spec));
  const names = (t: Target): string[] => (t.kind === 'local' ? [t.spec] : [t.spec, t.host, ...(t.user === undefined ? [] : [`${t.user}@${t.host}`])]);
  // A TARGET= prefix names only targets the setting is for: ssh settings ssh targets, password files daemons.
  const keys = (kind: Target['kind']): string[][] => bare.map((t) => (t.kind === kind && t.kind !== 'local' ? names(t) : []));
  const ports = scoped(args['ssh-port'], keys('ssh'));
  const identities = scoped(args['ssh-identity'], keys('ssh'));
  const options = scoped(args['ssh-option'], keys('ssh'));
  const passwords = scoped(args['password-file'] ?? [], keys('daemon'));
  if (passwords.global.length > 0 && !bare.some((t) => t.kind === 'daemon')) {
    throw usage(`--password-file ${passwords.global[0]!} is given but no target is an rsync daemon module`, 'Leave it out, or give a target rsync://[user@]host[:port]/module[/path] or [user@]host::module[/path].');
  }
  const deletes = scoped(args.delete ?? [], bare.map(names));
  const last = (list: string[]): string | undefined => list[list.length - 1];
  const toArgv = (list: string[]): string[] => list.flatMap((o) => ['-o', o]);
  return args.target.map((spec, i) => {
    // ssh keeps the first value of an option: a target's own options go before the global ones.
    const defaults: TargetDefaults = { sshOptions: [...toArgv(options.perTarget[i]!), ...toArgv(options.global)] };
    const p = last(ports.perTarget[i]!) ?? last(ports.global);
    if (p !== undefined) defaults.port = port(p, bare.flatMap((t) => (t.kind === 'ssh' ? [t.host] : [])));
    const identity = last(identities.perTarget[i]!) ?? last(identities.global);
    if (identity !== undefined) defaults.identity = identity;
    const passwordFile = last(passwords.perTarget[i]!) ?? last(passwords.global);
    if (passwordFile !== undefined) defaults.passwordFile = passwordFile;
    const mode = last(deletes.perTarget[i]!) ?? last(deletes.global);
    return { ...parseTarget(spec, defaults), ...(mode === undefined ? {} : { deleteMode: parseDeleteMode(mode, '--delete') }) };
  });
}

/** Engine options from the flags alone; agent-plan.ts builds a config file's syncs into the same shape. */
export function syncOptionsFrom(args: SyncArgs, logger: Logger): SyncOptions {
  if (args.target.length === 0) throw usage('no target given', 'Add --target DIR or --target [user@]host:/path (repeatable).');
  const specs = new Set<string>();
  for (const spec of args.target) {
    if (specs.has(spec)) throw usage(`target ${spec} is given twice`, 'Give each target once.');
    specs.add(spec);
  }
  const rsyncOptions = args['rsync-opts'] === undefined ? undefined : rsyncOptionsFromFlag(args['rsync-opts']);
  requireUtf8Targets(args.target);
  return {
    ...sourceOf(args.source), // a source that is not UTF-8: its exact bytes, through an alias
    targets: buildTargets(args),
    excludes: [...args.exclude, ...args['exclude-from'].flatMap(readPatternFile)],
    includes: args.include ?? [],
    initialSync: args['initial-sync'] ?? true,
    ...(rsyncOptions === undefined ? {} : { rsyncOptions }),
    quietMs: args['quiet-ms'],
    maxDelayMs: args['max-delay-ms'],
    maxProcs: args['max-procs'],
    fullSyncProcs: args['full-sync-procs'],
    maxPending: args['max-pending'],
    remoteMoves: args['remote-moves'],
    backoff: { ...defaultBackoff, baseMs: args['retry-base-ms'], capMs: args['retry-max-ms'] },
    timeoutSec: args.timeout,
    logger,
  };
}

/** The options that say what is mirrored where: `inosync sync` and `inosync check` both take them. */
export function withTargetOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('source', { alias: 's', type: 'string', describe: 'the directory to mirror (or give --config)' })
    .option('target', { alias: 't', type: 'string', array: true, default: [], describe: 'where to mirror it: DIR, [user@]host:/path over ssh, or an rsync daemon module, rsync://[user@]host[:port]/module[/path] or [user@]host::module[/path] (repeatable)' })
    .option('exclude', { type: 'string', array: true, default: [], describe: 'rsync-style PATTERN left out of watching and sending (repeatable)' })
    .option('exclude-from', { type: 'string', array: true, default: [], describe: 'FILE of exclude patterns, one per line (# and ; start comments)' })
    .option('include', { type: 'string', array: true, default: [], describe: 'rsync-style PATTERN kept in although an --exclude matches it (rsync order: includes first, first match wins; repeatable)' })
    .option('rsync-opts', { type: 'string', describe: 'replace the transfer flags (default "-aHAX", plus --numeric-ids as root; no -z), e.g. "-aHAX -z": attribute and transfer options only, split as a shell would (never run by one); deletes, filters, dry runs, -e and symlink following are refused' })
    .option('ssh-port', { type: 'string', array: true, default: [], describe: '[TARGET=]PORT: ssh port for every target, or for one (TARGET is its host, user@host or spec)' })
    .option('ssh-identity', { type: 'string', array: true, default: [], describe: '[TARGET=]FILE: ssh private key, for all targets or one' })
    .option('ssh-option', { type: 'string', array: true, default: [], describe: '[TARGET=]KEY=VALUE: an ssh -o option, for all targets or one (repeatable)' })
    .option('password-file', { type: 'string', array: true, default: [], describe: '[TARGET=]FILE: password for the rsync daemon targets, or for one (mode 0600, owned by the agent\'s user, not a symlink); without it rsync uses RSYNC_PASSWORD from the environment' });
}
