// What every remote target spec is checked for, whichever way it reaches the far side (ssh or an rsync
// daemon): the user and host end up on a command line (ssh's or rsync's), so each is held to an allow-list,
// and a host can never start with '-' (it would be read as an option).
import { InosyncError } from '../errors.js';

export type SpecError = (what: string, fix: string) => InosyncError;

/** The error maker for one spec: `target "SPEC": WHAT`, exit 2. */
export function specError(spec: string): SpecError {
  return (what, fix) => new InosyncError(`target "${spec}": ${what}`, fix, { exitCode: 2 });
}

const HOST = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]*$/;

/** Checks `[user@]host` as split from a spec; `example` shows where the host goes in this kind of spec. */
export function checkLogin(user: string | undefined, host: string, bad: SpecError, example: string): void {
  if (user !== undefined && !USER.test(user)) throw bad(`has an invalid user name "${user}"`, 'Use letters, digits, ".", "_" or "-" (not first) in the user name, or leave "user@" out.');
  if (host.length === 0) throw bad('has an empty host', `Write the host: ${example}.`);
  if (!HOST.test(host)) throw bad(`has an invalid host "${host}"`, 'Use a host name or address (IPv6 in brackets: [::1]:/path); it cannot start with "-".');
}

/** A host as the user wrote it, without the brackets of an IPv6 address. */
export const bareHost = (host: string): string => (host.startsWith('[') ? host.slice(1, -1) : host);

/** A host as rsync takes it: IPv6 in brackets. */
export const bracketedHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);
