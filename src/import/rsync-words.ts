// Another tool's rsync options, sorted into those inosync takes and those it refuses (with the reason from
// src/safety/rsync-options.ts, the one place that decides). A bundle such as sersync's "-artuz" is split
// letter by letter, so that "-r" and "-u" are refused while "-a", "-t" and "-z" are kept.
import { InosyncError } from '../errors.js';
import { checkRsyncOptions } from '../safety/rsync-options.js';

export interface SortedOptions {
  kept: string[];
  /** One note per option left out: which, and why. */
  refused: string[];
}

export function sortRsyncOptions(words: readonly string[], where: string): SortedOptions {
  const kept: string[] = [];
  const refused: string[] = [];
  const attempt = (candidate: string[]): string | null => {
    try {
      checkRsyncOptions(candidate, where);
      return null;
    } catch (error) {
      if (error instanceof InosyncError) return error.message;
      throw error;
    }
  };
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (attempt([word]) === null) {
      kept.push(word);
      continue;
    }
    const next = words[i + 1];
    if (next !== undefined && attempt([word, next]) === null) {
      kept.push(word, next);
      i++;
      continue;
    }
    if (/^-[A-Za-z0-9]{2,}$/.test(word)) {
      const letters = [...word.slice(1)].filter((letter) => {
        const why = attempt([`-${letter}`]);
        if (why !== null) refused.push(`${why}; left out.`);
        return why === null;
      });
      if (letters.length > 0) kept.push(`-${letters.join('')}`);
      continue;
    }
    refused.push(`${attempt([word]) as string}; left out.`);
  }
  return { kept, refused };
}
