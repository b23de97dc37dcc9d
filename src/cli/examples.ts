// Help examples a user can paste: each command on a line of its own, whole, under a `# what it does` line.
// yargs sets examples in two columns and wraps a long command across lines, which cannot be pasted.
import type { Argv } from 'yargs';

/** What one example does, and its command ($0 is the program). */
export type Example = readonly [what: string, command: string];

/** Commands longer than this would wrap on an 80-column terminal (yargs indents them by two and keeps two). */
export const EXAMPLE_WIDTH = 76;

export function withExamples<T>(yargs: Argv<T>, examples: readonly Example[]): Argv<T> {
  let y = yargs;
  // An example with an empty description is one line across the whole width (yargs' usage.js).
  for (const [what, command] of examples) y = y.example(`# ${what}`, '').example(command, '');
  return y;
}
