// Paths as the user typed them. process.argv is decoded as UTF-8, lossily (a byte that is not UTF-8 becomes
// U+FFFD); the exact bytes of the command line are in /proc/self/cmdline. A source that is not valid UTF-8 is
// taken from there and reaches the engine through a private alias (src/safety/source-alias.ts), with its
// name shown escaped (\xff) in logs and status. A local target that is not valid UTF-8 is refused: its
// decoded name is another path, which the overlap check (src/safety/paths.ts) would judge instead.
import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { printablePath } from '../check/drift.js';
import { InosyncError } from '../errors.js';
import { sourceAlias } from '../safety/source-alias.js';

/** The command line's words as bytes, or none when /proc is not there. */
function commandLine(): Buffer[] {
  let text: Buffer;
  try {
    text = readFileSync('/proc/self/cmdline');
  } catch {
    return [];
  }
  const words: Buffer[] = [];
  for (let start = 0; start < text.length;) {
    const end = text.indexOf(0, start);
    words.push(text.subarray(start, end < 0 ? text.length : end));
    start = end < 0 ? text.length : end + 1;
  }
  return words;
}

/** The exact bytes of the value of one of `flags` that yargs read as `given` (the last one, as yargs takes). */
function rawValue(given: string, flags: readonly string[]): Buffer {
  const exact = Buffer.from(given);
  if (!given.includes('\uFFFD')) return exact; // decoded without loss
  let found: Buffer = exact;
  const words = commandLine();
  words.forEach((word, i) => {
    const text = word.toString();
    const flag = flags.find((f) => text.startsWith(`${f}=`));
    const value = flag !== undefined ? word.subarray(flag.length + 1) : flags.includes(text) ? words[i + 1] : undefined;
    if (value !== undefined && value.toString() === given) found = value;
  });
  return found;
}

/** The engine's source (and how to name it) for the --source the user gave. */
export function sourceOf(given: string): { source: string; sourceLabel?: string } {
  const raw = rawValue(given, ['-s', '--source']);
  if (isUtf8(raw)) return { source: given };
  return { source: sourceAlias(raw), sourceLabel: printablePath(raw) };
}

/** Refuses a --target whose exact bytes are not valid UTF-8. */
export function requireUtf8Targets(specs: readonly string[]): void {
  for (const spec of specs) {
    const raw = rawValue(spec, ['-t', '--target']);
    if (!isUtf8(raw)) {
      throw new InosyncError(`target ${printablePath(raw)} is not valid UTF-8, which inosync cannot hand to rsync as a target`, 'Give the target directory a UTF-8 name (mv), or mirror into a UTF-8 path.', { exitCode: 2 });
    }
  }
}
