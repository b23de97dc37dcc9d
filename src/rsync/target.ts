// Where a mirror goes: a local directory or `[user@]host:/path` over ssh.
//
// A target spec follows rsync's own rule: a colon before the first slash makes it remote. Specs are validated
// here, once, because the host and the target path end up on the ssh/rsync command line (never file names:
// those travel inside the rsync protocol): a host that starts with '-' would be read as an option, and a
// remote path reaches the remote shell (src/safety/remote-path.ts).
import { resolve } from 'node:path';
import { InosyncError } from '../errors.js';
import { SAFE_REMOTE_CHARS, shellSpecialChar } from '../safety/remote-path.js';

export type Target = LocalTarget | SshTarget;

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
}

const HOST = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;

export function parseTarget(spec: string, defaults: TargetDefaults = {}): Target {
  const bad = (what: string, fix: string): InosyncError => new InosyncError(`target "${spec}": ${what}`, fix, { exitCode: 2 });
  if (spec.length === 0) throw bad('is empty', 'Give a directory (/srv/mirror) or an ssh target (user@host:/srv/mirror).');
  if (spec.startsWith('-')) throw bad('starts with "-" and would be read as an option', 'Write a local directory as ./-name or give the full path; hosts cannot start with "-".');
  if (spec.includes('\0')) throw bad('contains a NUL byte', 'Remove it from the target.');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw bad('is a URL; only local directories and [user@]host:/path over ssh are supported', 'Write it as user@host:/path (rsync daemons are not supported).');
  }
  const colon = remoteColon(spec);
  if (colon < 0) return { kind: 'local', spec, path: resolve(spec) };

  if (spec[colon + 1] === ':') throw bad('is an rsync daemon module (host::module)', 'Use an ssh target, user@host:/path; rsync daemons are not supported.');
  const hostPart = spec.slice(0, colon);
  const path = spec.slice(colon + 1);
  const at = hostPart.lastIndexOf('@');
  const user = at >= 0 ? hostPart.slice(0, at) : undefined;
  const host = at >= 0 ? hostPart.slice(at + 1) : hostPart;

  if (user !== undefined && !USER.test(user)) throw bad(`has an invalid user name "${user}"`, 'Use letters, digits, ".", "_" or "-" (not first) in the user name, or leave "user@" out.');
  if (host.length === 0) throw bad('has an empty host', 'Write the host before the colon: host:/srv/mirror.');
  if (!HOST.test(host)) throw bad(`has an invalid host "${host}"`, 'Use a host name or address (IPv6 in brackets: [::1]:/path); it cannot start with "-".');
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
    host: host.startsWith('[') ? host.slice(1, -1) : host,
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

/** How rsync names the destination: `dir/` locally, `[user@]host:path/` (IPv6 in brackets) over ssh. */
export function rsyncDestination(target: Target): string {
  const dir = withSlash(target.path);
  if (target.kind === 'local') return dir;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.user === undefined ? '' : `${target.user}@`}${host}:${dir}`;
}

function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}
