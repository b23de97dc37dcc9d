// Reading a config file (YAML or JSON) and reporting every mistake at once: where, what, and what is right.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { InosyncError } from '../errors.js';
import { configSchema, FIELD_EXAMPLES, KNOWN_FIELDS, type InosyncConfig } from './schema.js';

export type ConfigFormat = 'yaml' | 'json';

/** One mistake in a config file. */
export interface ConfigProblem {
  /** Where, as a path into the document: syncs[0].targets[1]. */
  field: string;
  problem: string;
  /** A right way to write it, in the file's own syntax. */
  example: string;
}

export class ConfigError extends InosyncError {
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    const count = problems.length === 1 ? 'a mistake' : `${problems.length} mistakes`;
    const lines = problems.map((p) => `  ${p.field}: ${p.problem}${p.example ? `\n      for example: ${p.example}` : ''}`);
    super(`config ${file} has ${count}; nothing was started:\n${lines.join('\n')}`, `Correct the field(s) above; scripts/inosync.example.yaml shows every field with comments.`, { exitCode: 2 });
    this.problems = problems;
  }
}

export function formatOf(file: string): ConfigFormat {
  return extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
}

function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : `${text ? '.' : ''}${String(part)}`;
  return text || '(top level)';
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function example(path: readonly PropertyKey[], format: ConfigFormat): string {
  let keyIndex = path.length - 1;
  while (keyIndex >= 0 && typeof path[keyIndex] !== 'string') keyIndex--;
  const key = path[keyIndex] as string | undefined;
  if (key === undefined || !(key in FIELD_EXAMPLES)) return '';
  let value = FIELD_EXAMPLES[key];
  // syncs[0].targets[1]: one element of the list, not the list
  if (keyIndex < path.length - 1 && Array.isArray(value)) value = value[0];
  const rendered = flow(value);
  if (keyIndex < path.length - 1) return rendered;
  return format === 'json' ? `"${key}": ${rendered}` : `${key}: ${rendered}`;
}

/** A value on one line, readable in YAML and JSON alike: ["a", "b"], { port: 22 }. */
function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `"${k}": ${flow(v)}`).join(', ')} }`;
  return JSON.stringify(value);
}

function closest(word: string, candidates: readonly string[]): string | null {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0] as number;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j] as number;
        row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length] as number;
  };
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Field names allowed where an unknown key was found. */
function knownKeys(path: readonly PropertyKey[]): readonly string[] {
  const keys = path.filter((p) => typeof p === 'string');
  const last = keys[keys.length - 1];
  if (last === undefined) return KNOWN_FIELDS.top;
  if (last === 'ssh') return KNOWN_FIELDS.ssh;
  if (last === 'targets') return KNOWN_FIELDS.target;
  return KNOWN_FIELDS.sync;
}

function problemsOf(issue: z.core.$ZodIssue, format: ConfigFormat): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const suggestion = closest(key, knownKeys(issue.path));
      const path = [...issue.path, key];
      return {
        field: fieldPath(path),
        problem: `unknown field${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
        example: suggestion ? example([...issue.path, suggestion], format) : `one of ${knownKeys(issue.path).join(', ')}`,
      };
    });
  }
  let problem: string;
  switch (issue.code) {
    case 'invalid_type':
      problem = issue.input === undefined ? 'is required' : `must be ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : `a ${issue.expected}`}, not ${describe(issue.input)}`;
      break;
    case 'invalid_union':
      problem = `is not a valid value (got ${describe(issue.input)})`;
      break;
    case 'invalid_value':
      problem = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${describe(issue.input)}`;
      break;
    case 'too_small':
      problem = issue.origin === 'array' ? issue.message : `must be at least ${String(issue.minimum)}, not ${describe(issue.input)}`;
      if (issue.origin === 'string') problem = 'must not be empty';
      break;
    case 'too_big':
      problem = `must be at most ${String(issue.maximum)}, not ${describe(issue.input)}`;
      break;
    default:
      problem = `${issue.message}${issue.input === undefined ? '' : ` (got ${describe(issue.input)})`}`;
  }
  return [{ field: fieldPath(issue.path), problem, example: example(issue.path, format) }];
}

/** Checks a parsed document; throws ConfigError listing every mistake. */
export function validateConfig(document: unknown, file: string, format: ConfigFormat = formatOf(file)): InosyncConfig {
  const result = configSchema.safeParse(document, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(file, result.error.issues.flatMap((issue) => problemsOf(issue, format)));
}

function parseText(text: string, file: string, format: ConfigFormat): unknown {
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      const at = /position (\d+)/.exec((error as Error).message);
      const offset = at ? Number(at[1]) : -1;
      const line = offset < 0 ? '?' : String(text.slice(0, offset).split('\n').length);
      throw new ConfigError(file, [{ field: `line ${line}`, problem: `not valid JSON: ${(error as Error).message}`, example: 'JSON has no comments and no trailing commas; use a .yaml file for comments' }]);
    }
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(file, document.errors.map((e) => ({
      field: `line ${e.linePos?.[0]?.line ?? '?'}`,
      problem: `not valid YAML: ${e.message.split('\n')[0]}`,
      example: 'indent with spaces, "key: value", lists with "- item"',
    })));
  }
  return document.toJS() as unknown;
}

/** Reads, parses and validates a config file. */
export function loadConfig(file: string): InosyncConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InosyncError(`cannot read config ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 'Check the --config path (scripts/inosync.example.yaml is a commented start).', { exitCode: 2, cause: error });
  }
  const format = formatOf(file);
  return validateConfig(parseText(text, file, format), file, format);
}
