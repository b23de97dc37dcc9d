// The inosync command line: wires yargs commands to the modules that do the work.
// First import, so first to run: the process's signal listeners (see src/safety/signals.cts).
import '../safety/signals.cjs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { describeError, InosyncError } from '../errors.js';
import { loadCommands } from './commands.js';
import { withOptionHints } from './did-you-mean.js';
import { attachFlagValues, valueFlagsOf } from './flag-values.js';

// Installed as a symlink named inotifywait (or inotifywatch), inosync is a drop-in for it.
const invokedAs = basename(process.argv[1] ?? '');
const program = invokedAs === 'inotifywait' || invokedAs === 'inotifywatch' ? invokedAs : 'inosync';

async function main(argv: string[]): Promise<void> {
  const args = invokedAs === 'inotifywait' ? ['watch', ...argv] : invokedAs === 'inotifywatch' ? ['watch', '--stats', ...argv] : argv;
  if (args[0] === 'watch') {
    // inotifywait's own argument parser, without yargs (see runWatch).
    process.exitCode = await (await import('./watch.js')).runWatch(args.slice(1));
    return;
  }
  // require(), not import(): the installed command runs this module bundled, from a code cache, where import()
  // has no loader (see scripts/bundle.ts). yargs is an ES module whose default export is its module.exports.
  const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
  const commands = await loadCommands(args[0]);
  const parsed = commands.length === 1 ? attachFlagValues(args, valueFlagsOf(commands[0]!, yargs([]))) : args;
  let cli = yargs(parsed)
    .scriptName(program)
    .strict()
    .demandCommand(1, 'no command given')
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, error, usage) => {
      // Usage errors exit 2 (1 means "drift" to `check`); `watch` keeps inotifywait's 1.
      const exitCode = args[0] === 'watch' ? 1 : 2;
      // yargs passes its usage object here (typed as the yargs instance): its descriptions name the options in force.
      const known = Object.keys((usage as unknown as { getDescriptions?: () => Record<string, unknown> }).getDescriptions?.() ?? {});
      throw error ?? new InosyncError(withOptionHints(message, args, known), 'See `inosync --help` or `inosync COMMAND --help`.', { exitCode });
    });
  for (const command of commands) cli = cli.command(command);
  await cli.help().alias('h', 'help').version().parseAsync();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${describeError(error, program)}\n`);
  process.exit(error instanceof InosyncError ? error.exitCode : 1);
});
