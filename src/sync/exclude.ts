// rsync-style exclude (and include) patterns as an ExcludeFn for the watch tree, so what rsync leaves out is not watched
// either. Patterns follow rsync's rules: a leading '/' anchors at the source root, a trailing '/' matches
// directories only, a pattern with a '/' (or '**') inside matches the end of the path, one without matches a
// name; '*' stops at '/', '**' does not, '?' is one character, [...] a class, 'dir/***' the dir and all below.
// Matching is on bytes (latin1 strings), so patterns and names need not be valid UTF-8.
import { readFileSync } from 'node:fs';
import { InosyncError } from '../errors.js';
import type { ExcludeFn } from '../watch/types.js';

interface Rule {
  regex: RegExp;
  dirOnly: boolean;
}

function toRule(pattern: string): Rule {
  let body = Buffer.from(pattern, 'utf8').toString('latin1');
  const dirOnly = body.endsWith('/') && body.length > 1;
  if (dirOnly) body = body.replace(/\/+$/, '');
  const anchored = body.startsWith('/');
  if (anchored) body = body.replace(/^\/+/, '');
  let tail = '';
  if (body.endsWith('/***')) {
    body = body.slice(0, -4);
    tail = '(?:/.*)?';
  }
  let source = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '*') {
      if (body[i + 1] === '*') {
        source += '.*';
        while (body[i + 1] === '*') i++;
      } else {
        source += '[^/]*';
      }
    } else if (c === '?') {
      source += '[^/]';
    } else if (c === '[') {
      const end = body.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
      } else {
        const inner = body.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${inner}]`;
        i = end;
      }
    } else {
      source += c.replace(/[\\^$.|+(){}[\]]/g, '\\$&');
    }
  }
  return { regex: new RegExp(`${anchored ? '^' : '(?:^|/)'}${source}${tail}$`, 's'), dirOnly };
}

/** An ExcludeFn for the patterns, or undefined when there are none. */
export function excludeFn(patterns: readonly string[]): ExcludeFn | undefined {
  return filterFn([], patterns);
}

/**
 * An ExcludeFn for include and exclude patterns as rsync reads `--include=... --exclude=...`: the includes
 * first, the first rule that matches decides, and a path no rule matches is included. Undefined when there
 * are no excludes (includes alone leave nothing out).
 */
export function filterFn(includes: readonly string[], excludes: readonly string[]): ExcludeFn | undefined {
  if (excludes.length === 0) return undefined;
  const rules = [...includes.map((p) => ({ ...toRule(p), exclude: false })), ...excludes.map((p) => ({ ...toRule(p), exclude: true }))];
  return (relativePath: Buffer, isDir: boolean): boolean => {
    const path = relativePath.toString('latin1');
    return rules.find((rule) => (isDir || !rule.dirOnly) && rule.regex.test(path))?.exclude ?? false;
  };
}

/** The patterns of an rsync exclude file: one per line; blank lines and lines starting with ';' or '#' skipped. */
export function readPatternFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InosyncError(`cannot read the exclude file ${file}: ${(error as Error).message}`, 'Check the --exclude-from path and its permissions.', { exitCode: 2, cause: error });
  }
  return text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith(';') && !line.startsWith('#'));
}
