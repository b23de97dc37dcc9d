// `inosync limits`: the kernel's inotify limits, what is held, what trees need, and how to raise them.
import type { Argv, CommandModule } from 'yargs';
import { applyLimits, DEFAULT_SYSCTL_DIR, persistLimits, type AppliedChange, type LimitSetting } from '../limits/apply.js';
import { effectiveInstanceLimit, effectiveWatchLimit, SYSCTL } from '../limits/read.js';
import { raiseCommands, recommendations, type Recommendation } from '../limits/recommend.js';
import { surveyInotify, type InotifySurvey } from '../limits/survey.js';
import type { TreeToCount } from '../limits/count-dirs.js';
import { loadConfig } from '../config/load.js';
import { InosyncError } from '../errors.js';
import { excludeFn, readPatternFile } from '../sync/exclude.js';
import { withExamples } from './examples.js';
import { withBoundedOptions } from './bounded-option.js';
import { thousands as n } from '../log/thousands.js';

interface LimitsArgs {
  dirs: string[];
  exclude: string[];
  config?: string;
  apply: boolean;
  persist: boolean;
  'sysctl-dir': string;
  watches?: number;
  instances?: number;
  'queued-events'?: number;
  json: boolean;
}


/** What --apply and --persist write: the recommendation, or the value the user asked for instead. */
function chosenSettings(survey: InotifySurvey, args: LimitsArgs): LimitSetting[] {
  const pick = (r: Recommendation, override: number | undefined): LimitSetting => ({ sysctl: r.sysctl, value: override ?? r.recommended });
  const { watches, instances, queuedEvents } = survey.advice;
  return [pick(watches, args.watches), pick(instances, args.instances), pick(queuedEvents, args['queued-events'])];
}

function renderText(survey: InotifySurvey, applied: AppliedChange[] | null, persisted: string | null): string {
  const { limits, usage, advice } = survey;
  const lines: string[] = [];
  const watchLimit = effectiveWatchLimit(limits);
  const instanceLimit = effectiveInstanceLimit(limits);
  lines.push(`inotify limits (uid ${usage.uid}):`);
  lines.push(`  ${watchLimit.sysctl.padEnd(32)} ${n(watchLimit.value).padStart(12)}   held now: ${n(watchLimit.sysctl === SYSCTL.nsWatches ? usage.namespace.watches : usage.watches)}`);
  lines.push(`  ${instanceLimit.sysctl.padEnd(32)} ${n(instanceLimit.value).padStart(12)}   held now: ${n(instanceLimit.sysctl === SYSCTL.nsInstances ? usage.namespace.instances : usage.instances)}`);
  lines.push(`  ${limits.maxQueuedEvents.sysctl.padEnd(32)} ${n(limits.maxQueuedEvents.value).padStart(12)}`);
  if (usage.holders.length > 0) {
    lines.push('held by:');
    for (const h of usage.holders.slice(0, 5)) lines.push(`  pid ${h.pid} (${h.command}): ${n(h.watches)} watches in ${h.instances} instance(s)`);
    if (usage.holders.length > 5) lines.push(`  ... and ${usage.holders.length - 5} more process(es)`);
  }
  if (usage.unreadableProcesses > 0) lines.push(`  (${usage.unreadableProcesses} process(es) of this user could not be inspected)`);
  if (survey.trees.length > 0) {
    lines.push('trees (one watch per directory, symlinks not followed):');
    for (const tree of survey.trees) lines.push(`  ${tree.path}: ${n(tree.directories)} directories`);
  }
  lines.push('recommended:');
  for (const r of recommendations(advice)) {
    lines.push(`  ${r.sysctl} = ${n(r.recommended)}${r.sufficient ? '  (ok)' : `  (now ${n(r.current)}: too low)`}`);
    lines.push(`      ${r.reason}`);
  }
  if (advice.namespaceNote) lines.push(`note: ${advice.namespaceNote}`);
  if (applied) {
    lines.push(applied.length === 0 ? 'applied: nothing to raise' : `applied: ${applied.map((c) => `${c.sysctl} ${n(c.from)} -> ${n(c.to)}`).join(', ')}`);
  }
  if (persisted) lines.push(`persisted: ${persisted} (loaded at boot; \`sysctl --system\` loads it now)`);
  if (!applied && !persisted) {
    const commands = raiseCommands(advice, survey.trees.map((tree) => tree.path));
    if (commands.length > 0) lines.push('to raise them:', ...commands.map((c) => `  ${c}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The positional DIRs (with --exclude) and the sources of --config (with their own excludes). */
function treesToCount(args: LimitsArgs): TreeToCount[] {
  const tree = (root: string, patterns: string[]): TreeToCount => {
    const exclude = excludeFn(patterns);
    return exclude ? { root, exclude } : { root };
  };
  const fromConfig = args.config === undefined ? [] : loadConfig(args.config).syncs.map((sync) =>
    tree(sync.source, [...(sync.exclude ?? []), ...(sync.excludeFrom ?? []).flatMap(readPatternFile)]));
  return [...args.dirs.map((dir) => tree(dir, args.exclude)), ...fromConfig];
}

export const limitsCommand: CommandModule<object, LimitsArgs> = {
  command: 'limits [dirs..]',
  describe: 'Show inotify limits, what is held, what DIRs need; raise them with --apply/--persist',
  builder: (yargs: Argv) =>
    withBoundedOptions(withExamples(yargs, [
      ['how many watches /srv/www needs and whether they fit', '$0 limits /srv/www'],
      ['raise what is too low, now and after reboots', 'sudo $0 limits --apply --persist /srv/www'],
      ['what the agent\'s trees need, excludes applied', '$0 limits --config /etc/inosync/inosync.yaml'],
      ['the watch recommendation, for a script', '$0 limits --json | jq .advice.watches'],
    ]), [
      { bound: 'watches', describe: 'value to apply/persist for max_user_watches instead of the recommendation' },
      { bound: 'instances', describe: 'value to apply/persist for max_user_instances instead of the recommendation' },
      { bound: 'queued-events', describe: 'value to apply/persist for max_queued_events instead of the recommendation' },
    ])
      .positional('dirs', { type: 'string', array: true, default: [] as string[], describe: 'trees to count directories in (each needs one watch per directory)' })
      .option('exclude', { type: 'string', array: true, default: [] as string[], describe: 'rsync-style PATTERN of directories not to count (as sync --exclude)' })
      .option('config', { alias: 'c', type: 'string', describe: 'count the sources of this agent config FILE, with their excludes' })
      .option('apply', { type: 'boolean', default: false, describe: 'raise the limits that are too low now, by writing /proc/sys/fs/inotify (root); never lowers a limit' })
      .option('persist', { type: 'boolean', default: false, describe: `write the recommended values to ${DEFAULT_SYSCTL_DIR}/60-inosync.conf so they survive a reboot (root)` })
      .option('sysctl-dir', { type: 'string', default: DEFAULT_SYSCTL_DIR, describe: 'directory --persist writes into' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object (for scripts)' })
      .check((argv) => {
        // An empty DIR was counted as "/" (the whole filesystem: minutes, and every mount).
        if ((argv.dirs as string[]).includes('')) throw new InosyncError('a DIR to count is empty', 'Name each tree to count, e.g. inosync limits /srv/www.', { exitCode: 2 });
        if (argv['sysctl-dir'] === '') throw new InosyncError('--sysctl-dir is empty', `Name the directory --persist writes into (default ${DEFAULT_SYSCTL_DIR}).`, { exitCode: 2 });
        return true;
      }) as unknown as Argv<LimitsArgs>,
  handler: async (args) => {
    const survey = await surveyInotify(treesToCount(args));
    const settings = chosenSettings(survey, args);
    const applied = args.apply ? await applyLimits(settings) : null;
    const persisted = args.persist
      ? await persistLimits(settings, `Trees: ${survey.trees.map((tree) => tree.path).join(', ') || '(none given)'}; written ${new Date().toISOString()}.`, args['sysctl-dir'])
      : null;
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ...survey, applied, persisted }, null, 2)}\n`);
    } else {
      process.stdout.write(renderText(survey, applied, persisted));
    }
  },
};
