// Renders one event as inotifywait does: --format (printf-like), the default line, --csv; plus --json.
// Names are bytes and are copied into the output as they are.
import { isUtf8 } from 'node:buffer';
import type { TreeEvent } from '../watch/types.js';
import { eventNameList, eventNames } from './events.js';
import { strftime } from './strftime.js';

/** What a line is made of: inotifywait's %w, %f, the mask and the cookie. */
export type MonitorEvent = Pick<TreeEvent, 'dir' | 'name' | 'mask' | 'cookie' | 'synthetic'>;

export type Render = (event: MonitorEvent, now: Date) => Buffer;

type Piece = string | ((event: MonitorEvent, now: Date) => Buffer | string);

/** inotifywait's default line: `%w %,e %f` and a newline. */
export const DEFAULT_FORMAT = '%w %,e %f\n';

/**
 * Compiles a --format string (newline already appended unless --no-newline), reading it exactly as
 * inotifywait 3.22 does: %w %f %e %Xe (X any character) %T %c (cookie, hex) %0 (NUL) %n %%; any other
 * `%x` is copied as it is; a lone `%` at the very end ends the output there.
 */
export function compileFormat(format: string, timefmt: string | undefined): Render {
  const pieces: Piece[] = [];
  let literal = '';
  const push = (piece: Piece): void => {
    if (literal) pieces.push(literal);
    literal = '';
    pieces.push(piece);
  };
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      literal += ch;
      continue;
    }
    if (i === format.length - 1) break;
    const next = format[i + 1]!;
    i++;
    switch (next) {
      case '%': literal += '%'; break;
      case '0': literal += '\0'; break;
      case 'n': literal += '\n'; break;
      case 'w': push((e) => e.dir); break;
      case 'f': push((e) => e.name); break;
      case 'c': push((e) => (e.cookie >>> 0).toString(16)); break;
      case 'e': push(namesOf(',')); break;
      case 'T': push((_e, now) => (timefmt === undefined ? '' : strftime(timefmt, now))); break;
      default:
        if (i + 1 < format.length && format[i + 1] === 'e') {
          push(namesOf(next));
          i++;
        } else {
          literal += `%${next}`;
        }
    }
  }
  if (literal) pieces.push(literal);
  const fixed = pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
  const parts: Buffer[] = new Array<Buffer>(fixed.length); // reused: joinBytes copies them at once
  return (event, now) => {
    for (let i = 0; i < fixed.length; i++) {
      const piece = fixed[i] as Buffer | Exclude<Piece, string>;
      const value = Buffer.isBuffer(piece) ? piece : piece(event, now);
      parts[i] = typeof value === 'string' ? Buffer.from(value) : value;
    }
    return joinBytes(parts);
  };
}

/** %e with this separator, as bytes: made once per mask, since a burst repeats a handful of masks. */
function namesOf(separator: string): (event: MonitorEvent) => Buffer {
  const made = new Map<number, Buffer>();
  return ({ mask }) => {
    let names = made.get(mask);
    if (names === undefined) made.set(mask, (names = Buffer.from(eventNames(mask, separator))));
    return names;
  };
}

/**
 * A line's parts joined byte by byte: for a few parts of a few dozen bytes, Buffer.concat's checks and copies
 * in C++ cost more than the copying.
 */
function joinBytes(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const line = Buffer.allocUnsafe(length);
  let at = 0;
  for (const part of parts) for (let i = 0; i < part.length; i++) line[at++] = part[i] as number;
  return line;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/** inotifywait's CSV quoting: quoted (and `"` doubled) when it holds `"`, `,` or a newline, or starts or ends with a space. */
export function csvField(value: Buffer): Buffer {
  if (value.length === 0) return value;
  const needs = value.includes(QUOTE) || value.includes(COMMA) || value.includes(NEWLINE) ||
    value[0] === SPACE || value[value.length - 1] === SPACE;
  if (!needs) return value;
  const out: number[] = [QUOTE];
  for (const byte of value) {
    if (byte === QUOTE) out.push(QUOTE);
    out.push(byte);
  }
  out.push(QUOTE);
  return Buffer.from(out);
}

/** One --csv line: `watched,EVENTS,file` (the first field and its comma left out when there is no watch path). */
export function csvLine(event: MonitorEvent): Buffer {
  const parts: Buffer[] = [];
  if (event.dir.length > 0) parts.push(csvField(event.dir), Buffer.from(','));
  parts.push(csvField(Buffer.from(eventNames(event.mask))), Buffer.from(','), csvField(event.name), Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** A byte string as JSON: `key` when it is valid UTF-8, else `key_b64` holding its exact bytes in base64. */
function bytesField(key: string, value: Buffer): Record<string, string> {
  return isUtf8(value) ? { [key]: value.toString('utf8') } : { [`${key}_b64`]: value.toString('base64') };
}

/**
 * One --json line. `watch` (%w), `file` (%f) and `path` (%w%f) are strings when their bytes are valid UTF-8;
 * otherwise the field is named `watch_b64`/`file_b64`/`path_b64` and holds the exact bytes in base64.
 */
export function jsonLine(event: MonitorEvent, now: Date): Buffer {
  const record = {
    time: now.toISOString(),
    ...bytesField('watch', event.dir),
    ...bytesField('file', event.name),
    ...bytesField('path', Buffer.concat([event.dir, event.name])),
    events: eventNameList(event.mask),
    cookie: event.cookie,
    ...(event.synthetic ? { synthetic: true } : {}),
  };
  return Buffer.from(`${JSON.stringify(record)}\n`);
}
