// `inosync check`: compares the source with every target without changing anything, and prints the drift.
import type { Argv, CommandModule } from 'yargs';
import { describeItem, measureDrift, printablePath, type TargetDrift } from '../check/drift.js';
import { InosyncError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { syncDefaults } from '../sync/engine.js';
import { planCommandLine, type AgentArgs } from './agent-plan.js';
import { withBoundedOptions } from './bounded-option.js';
import { withTargetOptions, type SyncArgs } from './sync-options.js';
import { withExamples } from './examples.js';

interface CheckArgs extends Pick<SyncArgs, 'target' | 'exclude' | 'exclude-from' | 'rsync-opts' | 'ssh-port' | 'ssh-identity' | 'ssh-option' | 'timeout'> {
  source?: string;
  config?: string;
  json: boolean;
  limit: number;
}

export const CHECK_EXIT = { identical: 0, drift: 1, error: 2 } as const;

interface SyncDrift {
  source: string;
  targets: TargetDrift[];
}

function render(results: SyncDrift[], limit: number): string {
  const lines: string[] = [];
  for (const sync of results) {
    for (const t of sync.targets) {
      const head = `${sync.source} -> ${t.target}`;
      if (t.error) lines.push(`${head}: cannot compare: ${t.error}`);
      else if (t.items.length === 0) lines.push(`${head}: identical`);
      else {
        lines.push(`${head}: ${t.items.length} difference${t.items.length === 1 ? '' : 's'}`);
        for (const item of t.items.slice(0, limit)) lines.push(`  ${item.code.padEnd(11)}  ${describeItem(item.code).padEnd(21)}  ${printablePath(item.path)}`);
        if (t.items.length > limit) lines.push(`  ... and ${t.items.length - limit} more (--limit N, or --json for all)`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function toJson(results: SyncDrift[]): unknown {
  return {
    syncs: results.map((sync) => ({
      source: sync.source,
      targets: sync.targets.map((t) => ({
        target: t.target,
        identical: t.error === null && t.items.length === 0,
        error: t.error,
        // Paths that are not valid UTF-8 are given as base64 too (pathBase64), so they stay exact.
        items: t.items.map((i) => ({ code: i.code, change: describeItem(i.code), path: i.path.toString(), pathBase64: i.path.toString('base64') })),
      })),
    })),
  };
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Compare the source with every target (rsync dry run) and print the drift; exit 0 identical, 1 drift, 2 error',
  builder: (yargs: Argv) =>
    withBoundedOptions(withTargetOptions(withExamples(yargs, [
      ['is the mirror identical?', '$0 check --source /srv/www --target backup@mirror1:/srv/www'],
      ['every sync of the agent, for a script', '$0 check --config /etc/inosync/inosync.yaml --json'],
    ])), [
      { bound: 'timeout', describe: 'rsync I/O timeout and ssh connect budget', default: syncDefaults.timeoutSec },
      { bound: 'limit', describe: 'differences listed per target in the text output', default: 50 },
    ])
      .option('config', { alias: 'c', type: 'string', describe: 'the agent\'s config FILE: check every sync in it' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
      .check((argv) => {
        if (!argv.source && !argv.config) throw new InosyncError('nothing to check', 'Give --source DIR --target SPEC, or --config FILE.', { exitCode: CHECK_EXIT.error });
        return true;
      })
      .epilogue('Exit codes: 0 every target identical; 1 some target differs; 2 a target could not be compared (or a usage error).\n' +
        'Only what rsync\'s quick check sees is compared (size, time, type, attributes), as for a sync.') as unknown as Argv<CheckArgs>,
  handler: async (args) => {
    try {
      const logger = createLogger({ level: 'warn' });
      const syncArgs = args as unknown as SyncArgs & AgentArgs;
      const plan = await planCommandLine(syncArgs, logger);
      const results: SyncDrift[] = await Promise.all(plan.syncs.map(async ({ options }) => ({
        source: options.sourceLabel ?? options.source,
        targets: await Promise.all(options.targets.map((target) => measureDrift({
          source: options.source,
          target,
          excludes: options.excludes ?? [],
          ...(options.rsyncOptions ? { rsyncOptions: options.rsyncOptions } : {}),
          timeoutSec: options.timeoutSec ?? syncDefaults.timeoutSec,
          logger,
        }))),
      })));
      process.stdout.write(args.json ? `${JSON.stringify(toJson(results), null, 2)}\n` : render(results, args.limit));
      const all = results.flatMap((r) => r.targets);
      process.exitCode = all.some((t) => t.error) ? CHECK_EXIT.error : all.some((t) => t.items.length > 0) ? CHECK_EXIT.drift : CHECK_EXIT.identical;
    } catch (error) {
      // Any failure to compare is exit 2, whatever its usual code: 1 means drift here.
      if (error instanceof InosyncError) throw new InosyncError(error.message, error.fix, { exitCode: CHECK_EXIT.error, cause: error });
      throw error;
    }
  },
};
