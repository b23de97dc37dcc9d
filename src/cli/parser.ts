// The yargs parser of the CLI's commands (all but `watch`, which parses its own arguments like inotifywait):
// built apart from main() so that a test can run the very parser on any argv, with handlers that only plan.
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { InosyncError } from '../errors.js';
import type { AnyCommand } from './commands.js';
import { withOptionHints } from './did-you-mean.js';
import { attachFlagValues, refuseRepeatedValues, valueFlagsOf } from './flag-values.js';

export function buildParser(args: readonly string[], program: string, commands: readonly AnyCommand[]): Argv {
  // require(), not import(): the installed command runs this module bundled, from a code cache, where import()
  // has no loader (see scripts/bundle.ts). yargs is an ES module whose default export is its module.exports.
  const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
  const parsed = commands.length === 1 ? attachFlagValues(args, valueFlagsOf(commands[0]!, yargs([]))) : [...args];
  let cli = yargs(parsed)
    .scriptName(program)
    .strict()
    .demandCommand(1, 'no command given')
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .check(refuseRepeatedValues)
    .fail((message, error, usage) => {
      // Usage errors exit 2 (1 means "drift" to `check`); `watch` keeps inotifywait's 1.
      const exitCode = args[0] === 'watch' ? 1 : 2;
      // yargs passes its usage object here (typed as the yargs instance): its descriptions name the options in force.
      const known = Object.keys((usage as unknown as { getDescriptions?: () => Record<string, unknown> }).getDescriptions?.() ?? {});
      throw error ?? new InosyncError(withOptionHints(message, args, known), 'See `inosync --help` or `inosync COMMAND --help`.', { exitCode });
    });
  for (const command of commands) cli = cli.command(command);
  skipHelpCache(cli);
  return cli.help().alias('h', 'help').version();
}

/** The part of yargs' usage object (internal, hence optional) that caches a command's help. */
interface HelpCache {
  cacheHelpMessage?: () => void;
}

/**
 * yargs renders the whole help text of the command that runs right after starting its handler, to show it on
 * a later failure: synchronously, before the handler's first await resumes. For `sync` that took 100 to 400 ms
 * of every start (measured), before the agent armed a single watch. The fail handler above never shows help,
 * and `--help` renders its own: the cache is never read.
 */
function skipHelpCache(cli: Argv): void {
  const usage = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => HelpCache } }).getInternalMethods?.().getUsageInstance?.();
  if (usage?.cacheHelpMessage !== undefined) usage.cacheHelpMessage = () => undefined;
}
