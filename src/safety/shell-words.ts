// Splits a value written on one line into argv words, the way a shell would quote, without a shell: no
// expansion of variables, globs or $(...), so nothing in it is ever run or matched. Hooks (--on-sync) and
// rsync options (--rsync-opts) are split here, so a quote means the same in both.
import { InosyncError } from '../errors.js';

/** The words of `line` (none for a blank line); `what` names the flag in the error for an unclosed quote. */
export function shellWords(line: string, what: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new InosyncError(`${what} ${JSON.stringify(line)} has an unclosed ${quote}`, 'Close the quote. The value is split into words as a shell would, but never given to one: for shell features write them out (sh -c \'...\').', { exitCode: 2 });
  if (inWord) words.push(word);
  return words;
}
