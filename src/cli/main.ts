// The inosync command line: wires yargs commands to the modules that do the work.
// First import, so first to run: the process's signal listeners (see src/safety/signals.cts).
import '../safety/signals.cjs';
import { basename } from 'node:path';
import { describeError, InosyncError } from '../errors.js';
import { loadCommands } from './commands.js';
import { buildParser } from './parser.js';

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
  const commands = await loadCommands(args[0]);
  await buildParser(args, program, commands).parseAsync();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${describeError(error, program)}\n`);
  process.exit(error instanceof InosyncError ? error.exitCode : 1);
});
