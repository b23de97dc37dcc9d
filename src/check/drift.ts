// What a full sync would change on a target, changing nothing: `rsync -n -r --delete` with itemized output.
import { silentLogger, type Logger } from '../log/logger.js';
import { runChild } from '../rsync/child.js';
import { classifyExit, classifySpawnError } from '../rsync/exit-codes.js';
import { SshMaster } from '../rsync/ssh-master.js';
import { rsyncDestination, type Target } from '../rsync/target.js';
import { daemonOptions } from '../rsync/daemon-target.js';
import { MODIFY_WINDOW, NANOSECOND_MTIMES } from '../rsync/run.js';
import { DEFAULT_RSYNC_OPTIONS } from '../rsync/transport.js';
import { checkRsyncOptions } from '../safety/rsync-options.js';

export interface DriftItem {
  /** rsync's itemize code: `>f.st......` (would be updated), `>f+++++++++` (missing), `*deleting` (extra). */
  code: string;
  /** Relative path, exact bytes (rsync's \#ooo escapes undone). */
  path: Buffer;
}

export interface TargetDrift {
  target: string;
  items: DriftItem[];
  /** Set when the comparison could not be made (host down, rsync error). */
  error: string | null;
}

export interface DriftOptions {
  source: string;
  target: Target;
  excludes?: readonly string[];
  /** Replaces the default attribute flags, as for the sync. */
  rsyncOptions?: readonly string[];
  timeoutSec?: number;
  logger?: Logger;
}

// Printable, and not something rsync prints itself: tells our lines from those of a user's -v or --stats.
const MARKER = '#drift# ';
const ITEMIZE_WIDTH = 11;

/** Undoes rsync's escaping of unprintable bytes in names (\#ooo, octal). */
export function unescapeName(text: string): Buffer {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'latin1');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && raw[i + 1] === 0x23 && /^[0-7]{3}$/.test(raw.toString('latin1', i + 2, i + 5))) {
      bytes.push(Number.parseInt(raw.toString('latin1', i + 2, i + 5), 8));
      i += 4;
    } else {
      bytes.push(raw[i] as number);
    }
  }
  return Buffer.from(bytes);
}

/** Parses one `--out-format='#drift# %i %n'` line; undefined for lines that are not ours. */
export function parseItemLine(line: Buffer): DriftItem | undefined {
  const text = line.toString('latin1');
  if (!text.startsWith(MARKER)) return undefined;
  const rest = text.slice(MARKER.length);
  let path = unescapeName(rest.slice(ITEMIZE_WIDTH + 1));
  if (path.length > 1 && path[path.length - 1] === 0x2f) path = path.subarray(0, path.length - 1);
  return { code: rest.slice(0, ITEMIZE_WIDTH).trimEnd(), path };
}

export async function measureDrift(options: DriftOptions): Promise<TargetDrift> {
  const { target } = options;
  const timeoutSec = options.timeoutSec ?? 30;
  const logger = options.logger ?? silentLogger;
  const master = target.kind === 'ssh' ? new SshMaster(target, { timeoutSec, logger }) : undefined;
  try {
    const state = await master?.ensure();
    if (state && !state.ok) return { target: target.spec, items: [], error: state.message };
    const items: DriftItem[] = [];
    const attrs = options.rsyncOptions === undefined ? DEFAULT_RSYNC_OPTIONS : checkRsyncOptions(options.rsyncOptions, 'the rsync options');
    const child = await runChild({
      command: 'rsync',
      args: [
        ...attrs,
        // Compared the way the sync compares (to the nanosecond, unless the user's flags say otherwise).
        ...(attrs.some((o) => MODIFY_WINDOW.test(o)) ? [] : [NANOSECOND_MTIMES]),
        ...(master ? ['-e', master.rsyncShell()] : daemonOptions(target, timeoutSec, attrs)),
        `--timeout=${timeoutSec}`, '--dry-run', '-r', '--delete', '--force', `--out-format=${MARKER}%i %n`,
        ...(options.excludes ?? []).map((p) => `--exclude=${p}`),
        '--', `${options.source.replace(/\/+$/, '')}/`, rsyncDestination(target),
      ],
      stallMs: (timeoutSec * 2 + 5) * 1000,
      onStdoutLine: (line) => {
        const item = parseItemLine(line);
        if (item) items.push(item);
      },
    });
    const meaning = child.spawnError ? classifySpawnError(child.spawnError) : classifyExit(child.exitCode, child.signal);
    if (meaning.outcome !== 'ok') {
      const detail = child.stderrTail.trim().split('\n').slice(-2).join('; ');
      return { target: target.spec, items, error: `${meaning.meaning}${detail ? `: ${detail}` : ''}` };
    }
    return { target: target.spec, items, error: null };
  } finally {
    await master?.stop();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A path for a terminal: valid UTF-8 kept, control characters and bytes that are not UTF-8 as \xNN. */
export function printablePath(path: Buffer): string {
  const escape = (byte: number): string => `\\x${byte.toString(16).padStart(2, '0')}`;
  try {
    return utf8.decode(path).replace(/[\x00-\x1f\x7f\\]/g, (c) => escape(c.charCodeAt(0)));
  } catch {
    return [...path].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : escape(b))).join('');
  }
}

/** The itemize code in words, for people. */
export function describeItem(code: string): string {
  if (code.startsWith('*deleting')) return 'only on the target';
  if (code.includes('+++++++++')) return 'missing on the target';
  if (code[0] === 'c' || code[0] === '>') return code[1] === 'f' ? 'content differs' : 'differs';
  if (code[0] === 'h') return 'hard link differs';
  return 'attributes differ';
}
