// Numeric flags checked against their bounds in src/safety/bounds.ts. Each is read as text (yargs would turn
// "abc" into NaN and lose what was given), so the error can say what was given and what is expected, and its
// range is appended to its --help line.
import type { Argv } from 'yargs';
import { InosyncError } from '../errors.js';
import { BOUNDS, rangeOf, requireBounded, type BoundName } from '../safety/bounds.js';

export interface BoundedFlag {
  bound: BoundName;
  describe: string;
  default?: number;
  /** The flag's name, when it is not the bound's (`inosync status --timeout` is in ms, not seconds). */
  flag?: string;
}

/**
 * Adds the flags. A bad value is thrown from yargs' check, not from coerce: yargs rewraps what coerce throws
 * and the error would lose its exit code and its fix.
 */
export function withBoundedOptions<T>(yargs: Argv<T>, flags: readonly BoundedFlag[]): Argv<T> {
  let y = yargs;
  for (const { bound: name, describe, default: defaultValue, flag = name } of flags) {
    const bound = BOUNDS[name];
    y = y.option(flag, {
      type: 'string',
      ...(defaultValue === undefined ? {} : { default: defaultValue }),
      describe: `${describe} [${rangeOf(bound)}]`,
      // Given twice, the last one counts, as for yargs' own numbers.
      coerce: (value: unknown) => {
        if (value === undefined) return undefined;
        try {
          return requireBounded(String(Array.isArray(value) ? value.at(-1) : value), `--${flag}`, bound);
        } catch (error) {
          return error;
        }
      },
    }) as unknown as Argv<T>;
  }
  return y.check((argv) => {
    for (const { bound, flag = bound } of flags) {
      const value = (argv as Record<string, unknown>)[flag];
      if (value instanceof InosyncError) throw value;
    }
    return true;
  });
}
