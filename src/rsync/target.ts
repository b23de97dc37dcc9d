// Where a mirror goes: a local directory, `[user@]host:/path` over ssh, or an rsync daemon's module
// (`rsync://[user@]host[:port]/module[/path]`, `[user@]host::module[/path]`: daemon-target.ts).
//
// A target spec follows rsync's own rule: a colon before the first slash makes it remote, two make it a
// daemon module. Specs are validated here, once, because the host and the target path end up on the
// ssh/rsync command line (never file names: those travel inside the rsync protocol): a host that starts with
// '-' would be read as an option, and a remote path reaches the remote shell (src/safety/remote-path.ts).
import { resolve } from 'node:path';
import { SAFE_REMOTE_CHARS, shellSpecialChar } from '../safety/remote-path.js';
import { daemonUrl, isDaemonUrl, parseDaemonModule, parseDaemonUrl, type DaemonTarget } from './daemon-target.js';
import { bareHost, bracketedHost, checkLogin, specError } from './remote-spec.js';

export type Target = LocalTarget | SshTarget | DaemonTarget;
export type { DaemonTarget } from './daemon-target.js';

export interface LocalTarget {
  kind: 'local';
  /** The spec as the user wrote it, for logs. */
  spec: string;
  /** Absolute directory path. */
  path: string;
}

export interface SshTarget {
  kind: 'ssh';
  spec: string;
  user?: string;
  /** Host name or address; an IPv6 address without brackets. */
  host: string;
  port?: number;
  /** Directory on the remote host; a relative one is relative to the login directory, as with rsync. */
  path: string;
  /** Private key file (ssh -i). */
  identity?: string;
  /** Extra ssh arguments, as argv words, e.g. ['-o', 'StrictHostKeyChecking=accept-new']. */
  sshOptions: string[];
}

export interface TargetDefaults {
  port?: number;
  identity?: string;
  sshOptions?: string[];
  /** rsync --password-file, for an rsync daemon target (ignored by the others). */
  passwordFile?: string;
}

export function parseTarget(spec: string, defaults: TargetDefaults = {}): Target {
  const bad = specError(spec);
  if (spec.length === 0) throw bad('is empty', 'Give a directory (/srv/mirror), an ssh target (user@host:/srv/mirror) or an rsync daemon module (rsync://host/module).');
  if (spec.startsWith('-')) throw bad('starts with "-" and would be read as an option', 'Write a local directory as ./-name or give the full path; hosts cannot start with "-".');
  if (spec.includes('\0')) throw bad('contains a NUL byte', 'Remove it from the target.');
  if (isDaemonUrl(spec)) return parseDaemonUrl(spec, defaults.passwordFile);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw bad('is a URL other than rsync://', 'Write an ssh target as user@host:/path, an rsync daemon module as rsync://[user@]host[:port]/module[/path].');
  }
  const colon = remoteColon(spec);
  if (colon < 0) return { kind: 'local', spec, path: resolve(spec) };

  const hostPart = spec.slice(0, colon);
  if (spec[colon + 1] === ':') return parseDaemonModule(spec, hostPart, spec.slice(colon + 2), defaults.passwordFile);
  const path = spec.slice(colon + 1);
  const at = hostPart.lastIndexOf('@');
  const user = at >= 0 ? hostPart.slice(0, at) : undefined;
  const host = at >= 0 ? hostPart.slice(at + 1) : hostPart;

  checkLogin(user, host, bad, 'host:/srv/mirror');
  if (path.length === 0) throw bad('has no path after the colon', 'Write the remote directory after the colon: host:/srv/mirror.');
  if (path.startsWith('-')) throw bad('has a remote path starting with "-"', 'Write the remote path as ./-name or as an absolute path.');
  const special = shellSpecialChar(path);
  if (special !== undefined) {
    throw bad(`has ${JSON.stringify(special)} in the remote path: the remote shell would expand or interpret it (a "*" matches other directories, which --delete would then empty)`,
      `Use only ${SAFE_REMOTE_CHARS} in a remote path (no ~ either: a relative path is already relative to the login directory); rename the directory or point a symlink with a plain name at it.`);
  }

  const port = defaults.port;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw bad(`has an invalid ssh port ${port}`, 'Give a port between 1 and 65535.');
  }
  const target: SshTarget = {
    kind: 'ssh',
    spec,
    host: bareHost(host),
    path,
    sshOptions: [...(defaults.sshOptions ?? [])],
  };
  if (user !== undefined) target.user = user;
  if (port !== undefined) target.port = port;
  if (defaults.identity !== undefined) target.identity = resolve(defaults.identity);
  return target;
}

/** Index of the colon that makes a spec remote (rsync's rule: a colon before any slash), or -1. */
function remoteColon(spec: string): number {
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    return close > 0 && spec[close + 1] === ':' ? close + 1 : -1;
  }
  // user@[v6]:path
  const bracket = spec.indexOf('@[');
  if (bracket >= 0 && bracket < (spec.indexOf('/') >>> 0)) {
    const close = spec.indexOf(']', bracket);
    return close > 0 && spec[close + 1] === ':' ? close + 1 : -1;
  }
  const colon = spec.indexOf(':');
  const slash = spec.indexOf('/');
  return colon >= 0 && (slash < 0 || colon < slash) ? colon : -1;
}

/**
 * How rsync names the destination: `dir/` locally, `[user@]host:path/` (IPv6 in brackets) over ssh,
 * `rsync://[user@]host[:port]/module/path/` for a daemon.
 */
export function rsyncDestination(target: Target): string {
  if (target.kind === 'daemon') return daemonUrl(target);
  const dir = withSlash(target.path);
  if (target.kind === 'local') return dir;
  return `${target.user === undefined ? '' : `${target.user}@`}${bracketedHost(target.host)}:${dir}`;
}

function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}
