// "Did you mean --source?" for an option yargs does not know: its strict mode names the unknown words, and
// recommendCommands covers command names only.

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known option closest to `name`, if it is close enough to be the one meant (a typo, not a guess). */
function nearestOption(name: string, known: readonly string[]): string | undefined {
  let best: { option: string; d: number } | undefined;
  for (const option of known) {
    const d = distance(name, option);
    if (d <= Math.max(1, Math.floor(option.length / 3)) && (best === undefined || d < best.d)) best = { option, d };
  }
  return best?.option;
}

/**
 * yargs' "Unknown argument(s): a, b" with a suggestion for each word given as an option (`--sorce`,
 * `--sorce=x`, `--no-sorce`) that is near a known one; the message unchanged when none is.
 */
export function withOptionHints(message: string, argv: readonly string[], known: readonly string[]): string {
  const listed = /^Unknown arguments?: (.*)$/.exec(message)?.[1];
  if (listed === undefined) return message;
  const given = (name: string): boolean => argv.some((w) => w === `--${name}` || w.startsWith(`--${name}=`) || w === `--no-${name}`);
  const hints = listed.split(', ').filter(given).flatMap((name) => {
    const near = nearestOption(name, known);
    return near === undefined ? [] : [`--${name}: did you mean --${near}?`];
  });
  return hints.length === 0 ? message : `${message} (${hints.join('; ')})`;
}
