// --exclude/--include (and the case-insensitive -i forms): POSIX extended regular expressions, as inotifywait
// takes them, run on the event's path as it is printed (%w%f). Translated to a JavaScript RegExp: bracket
// expressions ([[:alpha:]], a literal backslash inside brackets), GNU's \< and \> word edges, `.` matching
// newlines. Matches are the same for the patterns people write; POSIX's leftmost-longest rule does not
// change whether a pattern matches, only what it matches.
import { isUtf8 } from 'node:buffer';
import { InosyncError } from '../errors.js';

const CLASSES: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', print: ' -~', graph: '!-~', cntrl: '\\x00-\\x1f\\x7f', xdigit: '0-9A-Fa-f',
  word: 'A-Za-z0-9_',
};

const WORD = '[A-Za-z0-9_]';

/** Translates one bracket expression starting at pattern[start] === '['; returns the JS class and where it ended. */
function bracket(pattern: string, start: number): { source: string; end: number } {
  let i = start + 1;
  let out = '[';
  if (pattern[i] === '^') {
    out += '^';
    i++;
  }
  if (pattern[i] === ']') {
    out += '\\]';
    i++;
  }
  for (; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === ']') return { source: `${out}]`, end: i };
    if (ch === '[' && (pattern[i + 1] === ':' || pattern[i + 1] === '=' || pattern[i + 1] === '.')) {
      const kind = pattern[i + 1]!;
      const close = pattern.indexOf(`${kind}]`, i + 2);
      if (close === -1) throw badPattern(pattern, 'unterminated [: :], [= =] or [. .]');
      const name = pattern.slice(i + 2, close);
      if (kind === ':') {
        const cls = CLASSES[name];
        if (cls === undefined) throw badPattern(pattern, `unknown character class [:${name}:]`);
        out += cls;
      } else {
        out += escapeClassChar(name);
      }
      i = close + 1;
      continue;
    }
    out += ch === '\\' || ch === '[' ? `\\${ch}` : ch;
  }
  throw badPattern(pattern, 'unmatched [');
}

function escapeClassChar(text: string): string {
  return text.replace(/[\\\]\[^-]/g, (c) => `\\${c}`);
}

function badPattern(pattern: string, why: string): InosyncError {
  return new InosyncError(`invalid regular expression '${pattern}': ${why}`,
    'Give a POSIX extended regular expression, e.g. --exclude \'(\\.swp|~)$\'.', { exitCode: 1 });
}

/** The JavaScript source for a POSIX extended regular expression. */
export function ereToJs(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '[') {
      const { source, end } = bracket(pattern, i);
      out += source;
      i = end;
    } else if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw badPattern(pattern, 'trailing backslash');
      i++;
      if (next === '<') out += `(?<!${WORD})(?=${WORD})`;
      else if (next === '>') out += `(?<=${WORD})(?!${WORD})`;
      else if ('wWsSbB'.includes(next)) out += `\\${next}`;
      else if (/[A-Za-z0-9]/.test(next)) out += next; // no other escapes in ERE: a literal letter or digit
      else out += `\\${next}`;
    } else {
      out += ch;
    }
  }
  return out;
}

export interface PathFilterSpec {
  pattern: string;
  /** --include: events whose path does NOT match are dropped; --exclude: those that match are. */
  include: boolean;
  ignoreCase: boolean;
}

/** A compiled --exclude/--include: true means "report this path". */
export type PathFilter = (path: Buffer) => boolean;

export function compilePathFilter(spec: PathFilterSpec): PathFilter {
  let regex: RegExp;
  try {
    regex = new RegExp(ereToJs(spec.pattern), spec.ignoreCase ? 'is' : 's');
  } catch (error) {
    throw badPattern(spec.pattern, error instanceof Error ? error.message : String(error));
  }
  return (path) => {
    // Paths that are not UTF-8 are matched byte by byte (latin1 maps each byte to one character).
    const text = path.toString(isUtf8(path) ? 'utf8' : 'latin1');
    return regex.test(text) === spec.include;
  };
}
