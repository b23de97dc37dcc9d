// Every subcommand of the CLI, in the order `--help` lists them.
import type { CommandModule } from 'yargs';
import { checkCommand } from './check.js';
import { limitsCommand } from './limits.js';
import { statusCommand } from './status.js';
import { syncCommand } from './sync.js';
import { watchCommand } from './watch.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- yargs command modules differ in their argument shapes
export const commands: CommandModule<object, any>[] = [syncCommand, limitsCommand, statusCommand, checkCommand, watchCommand];
