// A flag that takes a value takes the next word, whatever it starts with, as getopt does. yargs instead reads
// a next word that starts with '-' as more flags: `--rsync-opts "-aHAX -z"` became "Unknown arguments: a, H,
// A, X", and `-t -oops` never reached the target's own check. Such pairs are joined into `--flag=value`
// before yargs parses them.
import type { Argv, CommandModule } from 'yargs';
import { InosyncError } from '../errors.js';

/** What yargs (17, 18) knows of the options declared on an instance; present at run time, absent from its types. */
interface DeclaredOptions { string: string[]; number: string[]; array: string[]; alias: Record<string, string[]> }

/**
 * The spellings (`--target`, `-t`) of the command's flags that take a value, each with its long name: read from
 * the command's own builder run on a blank `probe`, so the list cannot drift from the flags' definitions.
 */
export function valueFlagsOf(command: CommandModule<object, unknown>, probe: Argv): Map<string, string> {
  if (typeof command.builder === 'function') command.builder(probe);
  const options = (probe as unknown as { getOptions(): DeclaredOptions }).getOptions();
  const longOf = new Map<string, string>();
  for (const [long, aliases] of Object.entries(options.alias)) for (const alias of aliases) longOf.set(alias, long);
  const flags = new Map<string, string>();
  for (const key of [...options.string, ...options.number]) {
    const long = longOf.get(key) ?? key;
    flags.set(key.length === 1 ? `-${key}` : `--${key}`, long);
  }
  return flags;
}

/** `args` with each value flag followed by a word starting with '-' joined to it as `--long=word`. */
export function attachFlagValues(args: readonly string[], valueFlags: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (word === '--') return [...out, ...args.slice(i)];
    const long = valueFlags.get(word);
    const next = args[i + 1];
    if (long !== undefined && next !== undefined && next.startsWith('-')) {
      out.push(`--${long}=${next}`);
      i++;
    } else {
      out.push(word);
    }
  }
  return out;
}

/**
 * A yargs check: a flag that takes one value (not a repeatable one) given twice is refused. yargs would hand
 * the command a list of both values where it expects one (`--socket a --socket b` reached net.connect as a
 * list), and for `--source` or `--config` neither value is safely the one meant. The bounded numbers keep
 * getopt's "last one counts" (bounded-option.ts reads them so): a number given twice cannot mirror the wrong tree.
 */
export function refuseRepeatedValues(argv: Record<string, unknown>, options: unknown): true {
  const declared = options as DeclaredOptions;
  for (const key of declared.string) {
    const value = argv[key];
    if (key.length > 1 && Array.isArray(value) && !declared.array.includes(key)) {
      throw new InosyncError(`--${key} is given ${value.length} times (${value.map((v) => JSON.stringify(v)).join(', ')}); it takes one value`, `Give --${key} once.`, { exitCode: 2 });
    }
  }
  return true;
}
