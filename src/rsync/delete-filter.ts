// Deletes as a filter list, for receivers whose rsync fails on --delete-missing-args (rsync issue #910;
// lsyncd's method since samba bug 12569).
//
// One `rsync -r --delete --force --include-from=- --exclude='*'` run: the rules include each deleted path,
// everything below it (a deleted directory's contents on the receiver must not count as excluded, or rsync
// refuses to remove the directory) and its ancestors (so rsync descends to it); everything else is
// excluded, and excluded entries on the receiver are left alone. Rules are anchored ('/' = transfer root).

/** The NUL-separated include rules (for --from0 --include-from=-) that delete `paths` and nothing else. */
export function deleteRules(paths: readonly Buffer[]): Buffer {
  const rules = new Set<string>();
  const out: Buffer[] = [];
  const add = (rule: Buffer): void => {
    const key = rule.toString('latin1');
    if (rules.has(key)) return;
    rules.add(key);
    out.push(rule, NUL);
  };
  for (const path of paths) {
    const parts = splitPath(path);
    if (parts.length === 0) continue;
    for (let depth = 1; depth < parts.length; depth++) {
      add(Buffer.concat([anchored(parts.slice(0, depth)), SLASH]));
    }
    add(anchored(parts));
    add(Buffer.concat([anchored(parts, true), SLASH_STARSTAR]));
  }
  return Buffer.concat(out);
}

/** The exclude rule (anchored at the transfer root) for the directory at `path` and everything below it. */
export function excludeRule(path: Buffer): Buffer {
  return Buffer.concat([anchored(splitPath(path)), SLASH]);
}

const NUL = Buffer.from([0]);
const SLASH = Buffer.from('/');
const SLASH_STARSTAR = Buffer.from('/**');
const WILD = new Set([0x2a, 0x3f, 0x5b]); // * ? [
const BACKSLASH = 0x5c;

function splitPath(path: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      if (i > start) parts.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/**
 * `/a/b/c` as an rsync pattern matching exactly that path. rsync treats a backslash as an escape only in a
 * pattern that has a wildcard; so a name with `*?[` (or a pattern that gets a `/**` suffix) has all of
 * `*?[\` escaped, and any other name is written as it is.
 */
function anchored(parts: Buffer[], wildcardPattern = false): Buffer {
  const joined = Buffer.concat(parts.flatMap((part) => [SLASH, part]));
  const escape = wildcardPattern || joined.some((byte) => WILD.has(byte));
  if (!escape) return joined;
  const bytes: number[] = [];
  for (const byte of joined) {
    if (WILD.has(byte) || byte === BACKSLASH) bytes.push(BACKSLASH);
    bytes.push(byte);
  }
  return Buffer.from(bytes);
}
