// `inosync import sersync FILE`: sersync's confxml.xml (sersync 2.5) as an inosync draft.
//
// The shape, as sersync documents it:
//   <head version="2.5">
//     <filter start="true"><exclude expression="(.*)\.svn"/>...</filter>   regular expressions on paths
//     <inotify><delete start="true"/><closeWrite start="true"/>...</inotify>  which events are sent
//     <sersync>
//       <localpath watch="/srv/www"><remote ip="10.0.0.7" name="www"/>...</localpath>
//       <rsync><commonParams params="-artuz"/><auth start="true" users="backup" passwordfile="/etc/rsync.pas"/>
//              <userDefinedPort start="false" port="874"/><timeout start="false" time="100"/><ssh start="false"/></rsync>
//       <failLog path="/tmp/rsync_fail_log.sh" timeToExecute="60"/>
//       <crontab start="false" schedule="600"><crontabfilter start="false">...</crontabfilter></crontab>
//       <plugin start="false" name="command"/>
//     </sersync>
//   </head>
// A remote is an rsync daemon module (ip::name), or with <ssh start="true"> an ssh host and directory (ip:name).
import { isAbsolute, resolve } from 'node:path';
import { InosyncError } from '../errors.js';
import { parseTarget } from '../rsync/target.js';
import { BOUNDS, showMs } from '../safety/bounds.js';
import { shellWords } from '../safety/shell-words.js';
import { clamp, field, type DraftConfig, type DraftSync, type Field } from './emit.js';
import { sortRsyncOptions } from './rsync-words.js';
import { childNamed, childrenNamed, readXml, type XmlElement } from './xml-tree.js';

const WHAT = 'a sersync config (confxml.xml: <head> with a <sersync> section)';

/** sersync's inotify switches, and what skipping that event would cost a mirror. */
const EVENT_SWITCHES: Record<string, string> = {
  createFolder: 'new directories', createFile: 'new files (before they are closed)', closeWrite: 'files written',
  moveFrom: 'files moved away', moveTo: 'files moved in', attrib: 'changes of permissions, owners and times', modify: 'writes',
};

export function importSersync(text: string, file: string, cwd: string): DraftConfig {
  const head = readXml(text, file, WHAT);
  const sersync = childNamed(head, 'sersync');
  if (head.name !== 'head' || sersync === undefined) {
    throw new InosyncError(`${file} is not ${WHAT}: its root is <${head.name}>${sersync === undefined ? ' without <sersync>' : ''}`, `Give ${WHAT}.`, { exitCode: 2 });
  }
  const header = [`Imported from the sersync config ${file} by \`inosync import sersync\`. Comments name what has no equivalent in inosync, and why.`,
    'sersync makes a full sync at start only when run with -r; inosync makes one at every start (set initialSync: false where the targets are known to be current).'];
  const top: Field[] = [];
  const fields: Field[] = [];
  const notes: string[] = [];
  const rsync = childNamed(sersync, 'rsync');

  const hostElement = childNamed(head, 'host');
  if (hostElement) header.push(`<host hostip="${hostElement.attributes.hostip ?? ''}" port="${hostElement.attributes.port ?? ''}">: the listener of sersync's socket plugin; no equivalent.`);
  if (isOn(childNamed(head, 'debug'))) top.push(field('logLevel', 'debug', '<debug start="true">.'));
  if (childNamed(head, 'fileSystem')) header.push('<fileSystem xfs=...>: inosync reads any filesystem that inotify reports on; nothing to set.');

  const timeout = childNamed(rsync, 'timeout');
  if (isOn(timeout)) {
    const seconds = Number(timeout?.attributes.time);
    if (Number.isFinite(seconds) && seconds > 0) top.push(field('timeout', clamp(seconds, BOUNDS.timeout), `<timeout start="true" time="${seconds}">: rsync's I/O timeout, in seconds.`));
  }

  const exclude = filterPatterns(childNamed(head, 'filter'), notes);
  const inotify = childNamed(head, 'inotify');
  const deletes = childNamed(inotify, 'delete');
  for (const [name, what] of Object.entries(EVENT_SWITCHES)) {
    const element = childNamed(inotify, name);
    if (element && !isOn(element)) notes.push(`<${name} start="false">: sersync left ${what} to the next full sync; inosync sends them, as a mirror must.`);
  }

  const params = childNamed(rsync, 'commonParams')?.attributes.params;
  if (params !== undefined) {
    const sorted = sortRsyncOptions(shellWords(params, 'commonParams'), 'sersync\'s <commonParams>');
    if (sorted.kept.length > 0) fields.push(field('rsyncOptions', sorted.kept, `<commonParams params="${params}">; inosync's default is -aHAX, plus --numeric-ids as root.`, ...sorted.refused));
    else notes.push(...sorted.refused);
  }

  const crontab = childNamed(sersync, 'crontab');
  if (isOn(crontab)) {
    const minutes = Number(crontab?.attributes.schedule);
    if (Number.isFinite(minutes) && minutes > 0) {
      const ms = clamp(minutes * 60_000, BOUNDS['verify-every']);
      fields.push(field('verifyEvery', showMs(ms), `<crontab start="true" schedule="${minutes}">: a full sync every ${minutes} minutes.`));
    }
    if (isOn(childNamed(crontab, 'crontabfilter'))) notes.push('<crontabfilter>: inosync\'s full syncs leave out what the sync excludes; there is no second list.');
  }
  const failLog = childNamed(sersync, 'failLog');
  if (failLog) notes.push(`<failLog path="${failLog.attributes.path ?? ''}">: inosync keeps what a target failed to get and retries it itself (with backoff, and on the host's return); there is no script of failed commands to run.`);
  const plugin = childNamed(sersync, 'plugin');
  if (isOn(plugin)) notes.push(`<plugin name="${plugin?.attributes.name ?? ''}">: sersync's plugins have no equivalent; a command to run after each batch is onSync (it gets the batch's paths in INOSYNC_PATHS_FILE).`);

  const auth = childNamed(rsync, 'auth');
  const port = childNamed(rsync, 'userDefinedPort');
  const overSsh = isOn(childNamed(rsync, 'ssh'));
  const syncs: DraftSync[] = [];
  for (const localpath of childrenNamed(sersync, 'localpath')) {
    const watch = localpath.attributes.watch;
    if (watch === undefined || watch === '') {
      header.push(`<localpath> at line ${localpath.line} has no watch="..."; left out.`);
      continue;
    }
    const source = isAbsolute(watch) ? watch : resolve(cwd, watch);
    for (const remote of childrenNamed(localpath, 'remote')) {
      const spec = remoteSpec(remote, overSsh, auth, port);
      const origin = `<remote ip="${remote.attributes.ip ?? ''}" name="${remote.attributes.name ?? ''}"> at line ${remote.line}`;
      try {
        const kind = parseTarget(spec).kind;
        const passwordFile = kind === 'daemon' && isOn(auth) ? auth?.attributes.passwordfile : undefined;
        syncs.push({
          origin,
          source,
          target: {
            spec,
            notes: [],
            ...(exclude.length > 0 ? { exclude } : {}),
            ...(deletes && !isOn(deletes) ? { delete: 'never' as const } : {}),
            ...(passwordFile ? { passwordFile } : {}),
          },
          fields,
          notes: source === watch ? notes : [`watch="${watch}" is relative; resolved from the current directory. Check it.`, ...notes],
        });
      } catch (error) {
        if (!(error instanceof InosyncError)) throw error;
        header.push(`${origin}: ${error.message}; left out.`);
      }
    }
  }
  if (syncs.length === 0) {
    throw new InosyncError(`${file} names no <localpath watch="..."> with a <remote> that inosync can take`, `Give ${WHAT}, with <remote ip="HOST" name="MODULE"/> inside <localpath watch="/DIR">.`, { exitCode: 2 });
  }
  return { header, fields: top, syncs };
}

/** A daemon module ([user@]ip::name, or rsync://[user@]ip:port/name), or over ssh ip:name. */
function remoteSpec(remote: XmlElement, overSsh: boolean, auth: XmlElement | undefined, port: XmlElement | undefined): string {
  const ip = remote.attributes.ip ?? '';
  const name = remote.attributes.name ?? '';
  if (overSsh) return `${ip}:${name}`;
  const user = isOn(auth) && auth?.attributes.users ? `${auth.attributes.users}@` : '';
  if (isOn(port) && port?.attributes.port) return `rsync://${user}${ip.includes(':') ? `[${ip}]` : ip}:${port.attributes.port}/${name}`;
  return `${user}${ip}::${name}`;
}

/**
 * sersync's <exclude expression="..."> are regular expressions on the path; rsync patterns are globs. The two
 * common forms are turned into the pattern that means the same: "(.*)\.svn" is *.svn, "^static/*" the top
 * directory /static/. Any other expression is left out with a comment, not guessed at.
 */
function filterPatterns(filter: XmlElement | undefined, notes: string[]): string[] {
  if (!isOn(filter)) return [];
  const patterns: string[] = [];
  for (const exclude of childrenNamed(filter, 'exclude')) {
    const expression = exclude.attributes.expression ?? '';
    const suffix = /^(?:\(\.\*\)|\.\*)\\\.([\w-]+)\$?$/.exec(expression);
    const topDirectory = /^\^([\w.-]+)\/(?:\*|\.\*|\(\.\*\))?$/.exec(expression);
    if (suffix) patterns.push(`*.${suffix[1]}`);
    else if (topDirectory) patterns.push(`/${topDirectory[1]}/`);
    else notes.push(`<exclude expression="${expression}">: a regular expression with no exact rsync pattern; write it as one in exclude. Left out.`);
  }
  return patterns;
}

/** sersync's switches: start="true". */
function isOn(element: XmlElement | undefined): boolean {
  return element?.attributes.start?.toLowerCase() === 'true';
}
