// Durations as users write them: "90s", "15m", "6h", "1d", "500ms", or a number of milliseconds.
import { InosyncError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/** Milliseconds, or null when `text` is not a duration. A bare number is milliseconds. */
export function parseDurationMs(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : null;
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] as number));
}

export function requireDurationMs(text: string | number, option: string): number {
  const ms = parseDurationMs(text);
  if (ms === null) throw new InosyncError(`${option} ${JSON.stringify(text)} is not a duration`, `Write it like 30s, 15m, 6h or 1d (a bare number is milliseconds).`, { exitCode: 2 });
  return ms;
}
