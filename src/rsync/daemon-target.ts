// An rsync daemon module as a target: `rsync://[user@]host[:port]/module[/path]` or
// `[user@]host::module[/path]`.
//
// rsync talks to the daemon itself, over TCP (port 873 unless the URL names one): no ssh, no shell on the far
// side, nothing shared between runs. Each rsync opens its own session, so a standby started ahead (see
// transport.ts) holds one session of its own, connected and logged in, waiting for its list. The password
// comes from --password-file or from RSYNC_PASSWORD in the agent's environment (rsync reads both itself).
//
// The module and the path inside it travel inside the protocol, not through a shell, and are held to
// allow-lists all the same; a '..' component is refused: the daemon clamps it to the module's root, where
// --delete would then empty the rest of the module.
import { checkPasswordFile } from '../safety/password-file.js';
import { SAFE_REMOTE_CHARS, shellSpecialChar } from '../safety/remote-path.js';
import { bareHost, bracketedHost, checkLogin, specError, type SpecError } from './remote-spec.js';
import type { Target } from './target.js';

export interface DaemonTarget {
  kind: 'daemon';
  spec: string;
  user?: string;
  /** Host name or address; an IPv6 address without brackets. */
  host: string;
  /** The daemon's TCP port; rsync's default (873) when absent. */
  port?: number;
  module: string;
  /** Directory inside the module, without leading or trailing slashes; '' is the module's root. */
  path: string;
  /** Absolute, checked path of the --password-file; without it rsync uses RSYNC_PASSWORD, if set. */
  passwordFile?: string;
}

const URL_SPEC = /^rsync:\/\/(?:([^@/]*)@)?(\[[^\]/]*\]|[^:/]*)(?::([^/]*))?(?:\/(.*))?$/is;
const MODULE = /^[A-Za-z0-9._-]+$/;

export const isDaemonUrl = (spec: string): boolean => /^rsync:\/\//i.test(spec);

/** `rsync://[user@]host[:port]/module[/path]` */
export function parseDaemonUrl(spec: string, passwordFile: string | undefined): DaemonTarget {
  const bad = specError(spec);
  const match = URL_SPEC.exec(spec);
  if (!match) throw bad('is not an rsync daemon URL', 'Write it as rsync://[user@]host[:port]/module[/path].');
  const [, user, host = '', port, rest] = match;
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) {
    throw bad(`has an invalid port "${port}"`, 'Give the daemon\'s port as a number between 1 and 65535 (rsync://host:8873/module), or leave it out for 873.');
  }
  const target = daemonTarget(spec, bad, user, host, rest ?? '', passwordFile, 'rsync://host/module');
  if (port !== undefined) target.port = Number(port);
  return target;
}

/** `[user@]host::module[/path]`; `login` is what comes before the '::', `rest` what follows it. */
export function parseDaemonModule(spec: string, login: string, rest: string, passwordFile: string | undefined): DaemonTarget {
  const at = login.lastIndexOf('@');
  const user = at >= 0 ? login.slice(0, at) : undefined;
  return daemonTarget(spec, specError(spec), user, at >= 0 ? login.slice(at + 1) : login, rest, passwordFile, 'host::module');
}

function daemonTarget(spec: string, bad: SpecError, user: string | undefined, host: string, rest: string, passwordFile: string | undefined, example: string): DaemonTarget {
  checkLogin(user, host, bad, example);
  const slash = rest.indexOf('/');
  const module = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  if (module.length === 0) throw bad('names no module', `Write the daemon's module after the host: ${example}[/path].`);
  if (!MODULE.test(module)) throw bad(`has an invalid module name "${module}"`, 'Module names hold letters, digits, ".", "_" and "-" only.');
  if (path.split('/').includes('..')) {
    throw bad('has ".." in the path inside the module', 'The daemon would clamp it to the module\'s root, and --delete would then empty the rest of the module: name the directory inside the module directly.');
  }
  const special = shellSpecialChar(path);
  if (special !== undefined) throw bad(`has ${JSON.stringify(special)} in the path inside the module`, `Use only ${SAFE_REMOTE_CHARS} in the path (the daemon expands wildcards).`);
  const target: DaemonTarget = { kind: 'daemon', spec, host: bareHost(host), module, path };
  if (user !== undefined) target.user = user;
  if (passwordFile !== undefined) target.passwordFile = checkPasswordFile(passwordFile, `target "${spec}"`);
  return target;
}

/** How rsync names the module's directory: always the URL form, which alone can carry a port. */
export function daemonUrl(target: DaemonTarget): string {
  const login = target.user === undefined ? '' : `${target.user}@`;
  const port = target.port === undefined ? '' : `:${target.port}`;
  return `rsync://${login}${bracketedHost(target.host)}${port}/${target.module}/${target.path === '' ? '' : `${target.path}/`}`;
}

/**
 * What an rsync to a daemon target adds (nothing for other targets): its password file, and a connect
 * timeout (a host that does not answer would otherwise hold rsync for the kernel's minutes of SYN retries),
 * unless the user's own rsync options set one.
 */
export function daemonOptions(target: Target, timeoutSec: number, userOptions: readonly string[]): string[] {
  if (target.kind !== 'daemon') return [];
  return [
    ...(target.passwordFile === undefined ? [] : [`--password-file=${target.passwordFile}`]),
    ...(userOptions.some((o) => o.startsWith('--contimeout')) ? [] : [`--contimeout=${timeoutSec}`]),
  ];
}
