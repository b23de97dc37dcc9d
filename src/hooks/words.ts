// Splits a command written on one line into argv words, the way a shell would quote, without a shell:
// no expansion of variables, globs or $(...), so nothing in it is ever run except the command itself.
import { InosyncError } from '../errors.js';

export function splitWords(line: string, what = 'command'): string[] {
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
  if (quote) throw new InosyncError(`${what} ${JSON.stringify(line)} has an unclosed ${quote}`, `Close the quote; for shell features write them out: sh -c '...'.`, { exitCode: 2 });
  if (inWord) words.push(word);
  if (words.length === 0) throw new InosyncError(`${what} is empty`, 'Give the program to run and its arguments, e.g. --on-sync "/usr/local/bin/reload-site --quiet".', { exitCode: 2 });
  return words;
}
