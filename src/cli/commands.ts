// Every subcommand of the CLI, in the order `--help` lists them. Each is loaded only when it can run:
// `inosync watch` in a shell loop must not pay for the agent's modules (pino, zod, prom-client...).
import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- yargs command modules differ in their argument shapes
export type AnyCommand = CommandModule<object, any>;

const loaders: Record<string, () => Promise<AnyCommand>> = {
  sync: async () => (await import('./sync.js')).syncCommand,
  limits: async () => (await import('./limits.js')).limitsCommand,
  status: async () => (await import('./status.js')).statusCommand,
  check: async () => (await import('./check.js')).checkCommand,
  watch: async () => (await import('./watch.js')).watchCommand,
  import: async () => (await import('./import.js')).importCommand,
};

/** The command named by the first argument alone when it names one; otherwise all (for help and errors). */
export function loadCommands(first: string | undefined): Promise<AnyCommand[]> {
  const names = first !== undefined && Object.hasOwn(loaders, first) ? [first] : Object.keys(loaders);
  return Promise.all(names.map((name) => loaders[name]!()));
}
