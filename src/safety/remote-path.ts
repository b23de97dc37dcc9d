// Which characters a remote target's path may hold. rsync hands that path to the remote shell on the ssh
// command line: since 3.2.4 it backslash-escapes it except for wildcards, which the remote shell still expands
// (`host:/srv/www*` matched /srv/www-prod, and --delete then emptied it), and older rsyncs escape nothing
// (a space splits the path, `$(...)` runs). rsync's -s/--secluded-args would keep the path from the shell, but
// old receivers do not know it. So the path is held to characters no shell treats specially: letters and
// digits of any script, and / . _ - + , = @ % :
const SAFE = /^[\p{L}\p{N}\p{M}/._+,=@%:-]$/u;

/** The first character of `path` a remote shell could interpret, or undefined when there is none. */
export function shellSpecialChar(path: string): string | undefined {
  return [...path].find((c) => !SAFE.test(c));
}

export const SAFE_REMOTE_CHARS = 'letters, digits and / . _ - + , = @ % :';
