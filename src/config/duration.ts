// Durations as users write them: "90s", "15m", "6h", "1d", "500ms", or a bare number of SECONDS, as for every
// other duration inosync takes (--timeout, --drain-timeout); a flag whose name ends in -ms says its unit itself.
import { outOfBound, showMs, type Bound } from '../safety/bounds.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/** Milliseconds, or null when `text` is not a duration. A bare number (or a config file's number) is seconds. */
function parseDurationMs(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.round(text * 1000) : null;
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 's'] as number));
}

/** Milliseconds within `bound`, or the usage error saying what was given and what is expected. */
export function requireDurationMs(text: string | number, option: string, bound: Bound): number {
  const ms = parseDurationMs(text);
  if (ms !== null && ms >= bound.min && ms <= bound.max) return ms;
  // A bare number is read back with its unit, so a user who meant milliseconds sees the mistake.
  throw outOfBound(option, text, bound, ms === null || showMs(ms) === String(text).trim() ? undefined : ms);
}
