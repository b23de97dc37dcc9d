// GNU getopt_long, as inotifywait and inotifywatch parse their arguments: options and operands in any order,
// short clusters (-mrq), attached values (-emodify, -t5, --event=modify), a value taken from the next argument
// even when it starts with '-' (--exclude -tmp), unique prefixes of long names (--mon), and `--`.
import { InosyncError } from '../errors.js';

export interface OptionSpec {
  /** Key in the result. */
  key: string;
  long: string;
  short?: string;
  takesValue: boolean;
}

export interface ParsedOption {
  key: string;
  /** The value for options that take one; undefined for flags. */
  value?: string;
}

export interface ParsedArgs {
  /** In command-line order (repeated options appear repeatedly). */
  options: ParsedOption[];
  operands: string[];
}

function usageError(program: string, message: string): InosyncError {
  return new InosyncError(message, `See \`${program} --help\`.`, { exitCode: 1 });
}

function findLong(specs: readonly OptionSpec[], name: string, program: string): OptionSpec {
  const exact = specs.find((s) => s.long === name);
  if (exact) return exact;
  const candidates = specs.filter((s) => s.long.startsWith(name));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) throw usageError(program, `unrecognized option '--${name}'`);
  throw usageError(program, `option '--${name}' is ambiguous; possibilities: ${candidates.map((s) => `'--${s.long}'`).join(' ')}`);
}

export function getoptLong(args: readonly string[], specs: readonly OptionSpec[], program: string): ParsedArgs {
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = findLong(specs, name, program);
      if (!spec.takesValue) {
        if (eq !== -1) throw usageError(program, `option '--${spec.long}' doesn't allow an argument`);
        options.push({ key: spec.key });
      } else if (eq !== -1) {
        options.push({ key: spec.key, value: arg.slice(eq + 1) });
      } else {
        if (i + 1 >= args.length) throw usageError(program, `option '--${spec.long}' requires an argument`);
        options.push({ key: spec.key, value: args[++i]! });
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const spec = specs.find((s) => s.short === letter);
        if (!spec) throw usageError(program, `invalid option -- '${letter}'`);
        if (!spec.takesValue) {
          options.push({ key: spec.key });
          continue;
        }
        if (j + 1 < arg.length) options.push({ key: spec.key, value: arg.slice(j + 1) });
        else if (i + 1 < args.length) options.push({ key: spec.key, value: args[++i]! });
        else throw usageError(program, `option requires an argument -- '${letter}'`);
        break;
      }
      continue;
    }
    operands.push(arg);
  }
  return { options, operands };
}
