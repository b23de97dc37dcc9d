// A hook's command line as argv words: split as a shell would quote (src/safety/shell-words.ts), never run
// by one.
import { InosyncError } from '../errors.js';
import { shellWords } from '../safety/shell-words.js';

export function splitWords(line: string, what = 'command'): string[] {
  const words = shellWords(line, what);
  if (words.length === 0) throw new InosyncError(`${what} is empty`, 'Give the program to run and its arguments, e.g. --on-sync "/usr/local/bin/reload-site --quiet".', { exitCode: 2 });
  return words;
}
