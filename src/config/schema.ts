// The shape of inosync's config file, checked field by field before anything starts.
import { z } from 'zod';
import { parseTarget } from '../rsync/target.js';
import { InosyncError } from '../errors.js';
import { parseDurationMs } from './duration.js';

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

const targetSchema = z.union([targetSpec, z.strictObject({ target: targetSpec, ssh: sshSchema.optional() })]);

const duration = z.union([z.string(), z.number()]).refine((value) => parseDurationMs(value) !== null, { message: 'is not a duration' });

const command = z.union([z.string().min(1), z.array(z.string()).min(1)]);

export const syncSchema = z.strictObject({
  source: z.string().startsWith('/', { message: 'must be an absolute path' }),
  targets: z.array(targetSchema).min(1, { message: 'must list at least one target' }),
  exclude: z.array(z.string().min(1)).optional(),
  excludeFrom: z.array(z.string().min(1)).optional(),
  rsyncOptions: z.array(z.string()).optional(),
  ssh: sshSchema.optional(),
  quietMs: z.number().int().min(0).optional(),
  maxDelayMs: z.number().int().min(1).optional(),
  maxProcs: z.number().int().min(1).optional(),
  maxPending: z.number().int().min(1).optional(),
  remoteMoves: z.boolean().optional(),
  verifyEvery: duration.optional(),
  onSync: command.optional(),
}).superRefine((sync, context) => {
  if (sync.quietMs !== undefined && sync.maxDelayMs !== undefined && sync.maxDelayMs < sync.quietMs) {
    context.addIssue({ code: 'custom', path: ['maxDelayMs'], message: `must not be shorter than quietMs (${sync.quietMs})`, input: sync.maxDelayMs });
  }
  sync.targets.forEach((target, i) => {
    const spec = typeof target === 'string' ? target : target.target;
    const parsed = safeTarget(spec);
    if (parsed?.kind === 'local' && isInside(parsed.path, sync.source)) {
      context.addIssue({ code: 'custom', path: ['targets', i], message: 'is inside the source: the mirror would copy itself forever', input: spec });
    }
  });
});

export const configSchema = z.strictObject({
  syncs: z.array(syncSchema).min(1, { message: 'must list at least one sync' }),
  maxProcs: z.number().int().min(1).optional(),
  socket: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  metrics: z.string().regex(/^(?:\[[^\]]+\]:|[^:]*:)?\d{1,5}$/, { message: 'is not HOST:PORT' }).optional(),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
  /** Seconds, as --drain-timeout. */
  drainTimeout: z.number().min(0).optional(),
  /** Seconds, as --timeout: rsync I/O timeout and ssh connect/keep-alive budget. */
  timeout: z.number().min(1).optional(),
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
  target: ['target', 'ssh'],
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

function isInside(path: string, root: string): boolean {
  const base = root.endsWith('/') ? root : `${root}/`;
  return path === root || path.startsWith(base);
}

/** A right example for each field, shown beside a mistake in it. */
export const FIELD_EXAMPLES: Record<string, unknown> = {
  syncs: [{ source: '/srv/www', targets: ['backup@mirror1:/srv/www'] }],
  source: '/srv/www',
  targets: ['backup@mirror1:/srv/www', '/mnt/usb/www'],
  target: 'backup@mirror1:/srv/www',
  exclude: ['*.tmp', 'cache/'],
  excludeFrom: ['/etc/inosync/www.exclude'],
  rsyncOptions: ['-a', '-H', '--numeric-ids'],
  ssh: { port: 22, identity: '/root/.ssh/inosync_ed25519', options: ['-o', 'Compression=no'] },
  port: 2222,
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
