// The shape of inosync's config file, checked field by field before anything starts.
import { z } from 'zod';
import { parseTarget } from '../rsync/target.js';
import { InosyncError } from '../errors.js';
import { BOUNDS, describeBound, type BoundName } from '../safety/bounds.js';
import { requireDurationMs } from './duration.js';
import { DELETE_MODES } from '../sync/delete-mode.js';

export const sshSchema = z.strictObject({
  port: z.number().int().min(1).max(65_535).optional(),
  identity: z.string().min(1).optional(),
  /** Extra ssh arguments as words, e.g. ["-o", "Compression=no"]. */
  options: z.array(z.string()).optional(),
});

const targetSpec = z.string().min(1).superRefine((spec, context) => {
  try {
    parseTarget(spec);
  } catch (error) {
    context.addIssue({ code: 'custom', message: error instanceof InosyncError ? error.message.replace(/^target "[^"]*": /, '') : String(error), input: spec });
  }
});

const patterns = z.array(z.string().min(1));
const deleteMode = z.enum(DELETE_MODES);

/** A target object: where, and what it does differently from the sync's other targets. */
const targetObject = z.strictObject({
  target: targetSpec,
  ssh: sshSchema.optional(),
  delete: deleteMode.optional(),
  /** On top of the sync's: this target alone leaves these out, or keeps these in. */
  exclude: patterns.optional(),
  include: patterns.optional(),
  /** rsync --password-file, for an rsync daemon target: checked when the sync is built (safety/password-file.ts). */
  passwordFile: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
});

const targetSchema = z.union([targetSpec, targetObject.superRefine((entry, context) => {
  const kind = safeTarget(entry.target)?.kind;
  if (entry.passwordFile !== undefined && kind !== undefined && kind !== 'daemon') {
    context.addIssue({ code: 'custom', path: ['passwordFile'], message: 'is for rsync daemon targets (rsync://host/module, host::module) only', input: entry.passwordFile });
  }
  if (entry.ssh !== undefined && kind === 'daemon') {
    context.addIssue({ code: 'custom', path: ['ssh'], message: 'does not apply: an rsync daemon target is reached without ssh', input: entry.ssh });
  }
})]);

/** A number within the flag's bound (src/safety/bounds.ts): the file and the flags take the same values. */
function bounded(name: Exclude<BoundName, 'verify-every'>) {
  const bound: { min: number; max: number; fractional?: boolean } = BOUNDS[name];
  const number = z.number().min(bound.min).max(bound.max);
  return bound.fractional === true ? number : number.int();
}

const duration = z.union([z.string(), z.number()]).superRefine((value, context) => {
  try {
    requireDurationMs(value, 'verifyEvery', BOUNDS['verify-every']);
  } catch (error) {
    if (!(error instanceof InosyncError)) throw error;
    context.addIssue({ code: 'custom', message: `is not ${describeBound(BOUNDS['verify-every'])}`, input: value });
  }
});

const command = z.union([z.string().min(1), z.array(z.string()).min(1)]);

export const syncSchema = z.strictObject({
  source: z.string().startsWith('/', { message: 'must be an absolute path' }),
  targets: z.array(targetSchema).min(1, { message: 'must list at least one target' }),
  exclude: patterns.optional(),
  excludeFrom: patterns.optional(),
  include: patterns.optional(),
  delete: deleteMode.optional(),
  initialSync: z.boolean().optional(),
  rsyncOptions: z.array(z.string()).optional(),
  ssh: sshSchema.optional(),
  quietMs: bounded('quiet-ms').optional(),
  maxDelayMs: bounded('max-delay-ms').optional(),
  maxProcs: bounded('max-procs').optional(),
  fullSyncProcs: bounded('full-sync-procs').optional(),
  maxPending: bounded('max-pending').optional(),
  remoteMoves: z.boolean().optional(),
  verifyEvery: duration.optional(),
  onSync: command.optional(),
}).superRefine((sync, context) => {
  if (sync.quietMs !== undefined && sync.maxDelayMs !== undefined && sync.maxDelayMs < sync.quietMs) {
    context.addIssue({ code: 'custom', path: ['maxDelayMs'], message: `must not be shorter than quietMs (${sync.quietMs})`, input: sync.maxDelayMs });
  }
});

export const configSchema = z.strictObject({
  syncs: z.array(syncSchema).min(1, { message: 'must list at least one sync' }),
  maxProcs: bounded('max-procs').optional(),
  socket: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  metrics: z.string().regex(/^(?:\[[^\]]+\]:|[^:]*:)?\d{1,5}$/, { message: 'is not HOST:PORT' }).optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
  /** Seconds, as --drain-timeout. */
  drainTimeout: bounded('drain-timeout').optional(),
  /** Seconds, as --timeout: rsync I/O timeout and ssh connect/keep-alive budget. */
  timeout: bounded('timeout').optional(),
  /** As --state-dir: where each target's record of what it confirmed is kept. */
  stateDir: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  /** As --trust-state (false: --no-trust-state). */
  trustState: z.boolean().optional(),
}).superRefine((config, context) => {
  const seen = new Map<string, number>();
  config.syncs.forEach((sync, i) => {
    const first = seen.get(sync.source);
    if (first !== undefined) context.addIssue({ code: 'custom', path: ['syncs', i, 'source'], message: `is already the source of syncs[${first}]; list its targets there`, input: sync.source });
    else seen.set(sync.source, i);
  });
});

/** Field names allowed in each kind of mapping, for "did you mean" hints. */
export const KNOWN_FIELDS = {
  top: Object.keys(configSchema.shape),
  sync: Object.keys(syncSchema.shape),
  ssh: Object.keys(sshSchema.shape),
  target: Object.keys(targetObject.shape),
} as const;

export type InosyncConfig = z.infer<typeof configSchema>;
export type SyncConfig = z.infer<typeof syncSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type SshConfig = z.infer<typeof sshSchema>;

function safeTarget(spec: string): ReturnType<typeof parseTarget> | null {
  try {
    return parseTarget(spec);
  } catch {
    return null;
  }
}

/** A right example for each field, shown beside a mistake in it. */
export const FIELD_EXAMPLES: Record<string, unknown> = {
  syncs: [{ source: '/srv/www', targets: ['backup@mirror1:/srv/www'] }],
  source: '/srv/www',
  targets: ['backup@mirror1:/srv/www', '/mnt/usb/www'],
  target: 'backup@mirror1:/srv/www',
  exclude: ['*.tmp', 'cache/'],
  include: ['keep.log'],
  delete: 'never',
  initialSync: false,
  excludeFrom: ['/etc/inosync/www.exclude'],
  rsyncOptions: ['-a', '-H', '--numeric-ids'],
  ssh: { port: 22, identity: '/root/.ssh/inosync_ed25519', options: ['-o', 'Compression=no'] },
  port: 2222,
  passwordFile: '/etc/inosync/www.secret',
  identity: '/root/.ssh/inosync_ed25519',
  options: ['-o', 'Compression=no'],
  quietMs: 50,
  maxDelayMs: 1000,
  maxProcs: 8,
  remoteMoves: true,
  verifyEvery: '6h',
  onSync: ['/usr/local/bin/reload-site', '--quiet'],
  socket: '/run/inosync/inosync.sock',
  metrics: '127.0.0.1:9464',
  logLevel: 'info',
  drainTimeout: 10,
  timeout: 30,
  maxPending: 200000,
  stateDir: '/var/lib/inosync',
  trustState: true,
};
