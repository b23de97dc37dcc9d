// `inosync import lsyncd FILE`: an lsyncd config (Lua) read as lsyncd 2.2 reads it, as an inosync draft.
//
// lsyncd's config is `settings{...}` (or `settings = {...}`) and one `sync{ LAYER, ... }` per source and target.
// The layers that mirror are default.rsync (rsync to a directory, an ssh host or a daemon module),
// default.rsyncssh (rsync over ssh, moves done on the host) and default.direct (cp/mv to a local directory);
// a sync of a layer of its own (onCreate = "command" ...) runs commands, not a mirror, and is left out with a
// comment. What lsyncd would compute at run time is commented out too (see lua-values.ts).
import { isAbsolute, resolve } from 'node:path';
import type { SshConfig } from '../config/schema.js';
import { InosyncError } from '../errors.js';
import { parseTarget } from '../rsync/target.js';
import { BOUNDS } from '../safety/bounds.js';
import { shellWords } from '../safety/shell-words.js';
import type { DeleteMode } from '../sync/delete-mode.js';
import { syncDefaults } from '../sync/engine.js';
import { clamp, field, type DraftConfig, type DraftSync, type DraftTarget, type Field } from './emit.js';
import { isTable, isUnknown, readLua, showLua, type LuaTable, type LuaValue } from './lua-values.js';
import { sortRsyncOptions } from './rsync-words.js';

const MIRRORS = new Set(['rsync', 'rsyncssh', 'direct']);

/** lsyncd's own rsync options for default.rsync and default.rsyncssh (default-rsync.lua, lsyncd 2.2). */
const LSYNCD_RSYNC_DEFAULTS: ReadonlyArray<[string, LuaValue]> = [['links', true], ['times', true], ['protect_args', true]];
const LSYNCD_DEFAULT_DELAY_S = 15;

const SETTINGS_NOTES: Record<string, string> = {
  logfile: 'inosync logs to stderr (JSON lines when not on a terminal; under systemd, to the journal): it has no log file of its own.',
  logfacility: 'inosync does not write to syslog itself: under systemd its log goes to the journal.',
  logident: 'inosync does not write to syslog itself: under systemd its log goes to the journal.',
  pidfile: 'inosync neither daemonizes nor writes a pid file: run it under systemd (scripts/inosync.service).',
  nodaemon: 'inosync always runs in the foreground: run it under systemd (scripts/inosync.service) as a service.',
  statusFile: '`inosync status` asks the running agent over its socket (the socket field), and metrics serves Prometheus metrics: there is no status file.',
  statusInterval: '`inosync status` answers at once from the running agent: there is no status file to refresh.',
  statusIntervall: '`inosync status` answers at once from the running agent: there is no status file to refresh.',
  insist: 'inosync always insists: a target down at startup is probed and gets what it owes when it returns.',
  inotifyMode: 'inosync watches every event a mirror needs (writes closed, moves, deletes, attributes): there is nothing to choose.',
  maxDelays: 'lsyncd sends once this many events wait; inosync bounds the wait in time (maxDelayMs) and turns a long backlog into one full sync (maxPending).',
};

const CUSTOM_ACTIONS = ['onStartup', 'onCreate', 'onModify', 'onDelete', 'onMove', 'onAttrib', 'action', 'collect', 'prepare'];

/** Keys of a sync{} handled below; any other key gets a "no equivalent" comment. */
const SYNC_KEYS = new Set(['source', 'target', 'host', 'targetdir', 'delay', 'exclude', 'excludeFrom', 'delete', 'init',
  'rsync', 'ssh', 'maxProcesses', 'checkgauge', ...CUSTOM_ACTIONS]);

export function importLsyncd(text: string, file: string, cwd: string): DraftConfig {
  const program = readLua(text, file);
  const syncCalls = program.calls.filter((c) => c.name === 'sync');
  if (syncCalls.length === 0) {
    throw new InosyncError(`${file} has no sync{...}: it is not an lsyncd config`, 'Give the Lua file lsyncd is started with (lsyncd FILE), with one sync{ default.rsync, source = ..., target = ... } per mirror.', { exitCode: 2 });
  }
  const header = [`Imported from the lsyncd config ${file} by \`inosync import lsyncd\`. Comments name what has no equivalent in inosync, and why.`];
  const top: Field[] = [];
  const settingsCall = program.calls.find((c) => c.name === 'settings');
  const settings = settingsCall?.argument ?? program.globals.get('settings');
  if (isTable(settings)) importSettings(settings, top, header);
  for (const call of program.calls) {
    if (call.name !== 'sync' && call.name !== 'settings') header.push(`line ${call.line}: ${call.name}(...) is not read by the importer.`);
  }
  header.push(...program.skipped);

  const syncs: DraftSync[] = [];
  const leftOut: string[] = [];
  for (const call of syncCalls) {
    const origin = `sync{} at line ${call.line}`;
    const draft = isTable(call.argument) ? new SyncReader(origin, cwd, top).read(call.argument) : `its argument is ${showLua(call.argument)}, not a table`;
    if (typeof draft === 'string') leftOut.push(`${origin}: ${draft}; left out.`);
    else syncs.push(draft);
  }
  header.push(...leftOut);
  if (syncs.length === 0) {
    throw new InosyncError(`no sync{} of ${file} mirrors a tree: ${leftOut.join(' ')}`,
      'inosync imports syncs of default.rsync, default.rsyncssh and default.direct (and layers built on them); write the mirror as one of these.', { exitCode: 2 });
  }
  return { header, fields: top, syncs };
}

function importSettings(settings: LuaTable, top: Field[], header: string[]): void {
  for (const [key, value] of settings.named) {
    if (key === 'maxProcesses' && typeof value === 'number') {
      top.push(field('maxProcs', clamp(value, BOUNDS['max-procs']), `settings.maxProcesses = ${value}: rsync processes at once, per sync here.`));
    } else {
      header.push(`settings.${key} = ${showLua(value)}: ${SETTINGS_NOTES[key] ?? 'no equivalent in inosync; left out.'}`);
    }
  }
}

/** One sync{} table, with the layers it builds on folded in (its own fields win). */
interface Folded {
  layer: string | undefined;
  named: Map<string, LuaValue>;
}

function fold(table: LuaTable): Folded {
  const base = table.positional[0];
  let folded: Folded = { layer: undefined, named: new Map() };
  if (typeof base === 'object' && base !== null && base.kind === 'layer') folded.layer = base.name;
  else if (isTable(base)) folded = fold(base);
  for (const [key, value] of table.named) folded.named.set(key, value);
  return folded;
}

class SyncReader {
  private readonly fields: Field[] = [];
  private readonly notes: string[] = [];
  private readonly target: DraftTarget = { spec: '', notes: [] };

  constructor(private readonly origin: string, private readonly cwd: string, private readonly top: Field[]) {}

  /** The draft, or why this sync is not a mirror inosync makes. */
  read(table: LuaTable): DraftSync | string {
    const { layer, named } = fold(table);
    if (layer === undefined || !MIRRORS.has(layer)) {
      const actions = CUSTOM_ACTIONS.filter((a) => named.has(a));
      return `${layer === undefined ? 'a layer of its own' : `default.${layer}`}${actions.length > 0 ? ` (${actions.join(', ')})` : ''} runs commands, not a mirror inosync makes`;
    }
    const given = named.get('source');
    if (isUnknown(given)) return `its source is ${given.why}: the importer cannot know it; write this sync in the YAML`;
    const source = this.string(named, 'source');
    if (source === undefined) return 'it has no source';
    const spec = this.targetSpec(layer, named);
    if (spec.startsWith('!')) return spec.slice(1);
    this.target.spec = spec;
    const origin = `${this.origin} (default.${layer})`;

    const actions = CUSTOM_ACTIONS.filter((a) => named.has(a));
    if (actions.length > 0) this.notes.push(`${actions.join(', ')}: Lua code of a layer built on default.${layer}, which inosync does not run; the sync is imported as a plain default.${layer}.`);
    if (layer === 'rsyncssh') this.fields.push(field('remoteMoves', true, 'default.rsyncssh moves and deletes on the host over ssh; inosync does moves that way with remoteMoves.'));
    if (layer === 'direct') this.notes.push('default.direct copies with cp and moves with mv; inosync sends to a local directory with rsync as well.');
    this.delay(named.get('delay'));
    this.excludes(named);
    this.deleteMode(named.get('delete'));
    const init = named.get('init');
    if (init === false) this.fields.push(field('initialSync', false, 'init = false: no full sync at startup.'));
    const maxProcesses = named.get('maxProcesses');
    if (typeof maxProcesses === 'number') this.fields.push(field('maxProcs', clamp(maxProcesses, BOUNDS['max-procs']), `maxProcesses = ${maxProcesses}: rsync processes at once.`));
    this.rsync(named.get('rsync'));
    this.ssh(named.get('ssh'));
    for (const [key, value] of named) {
      if (!SYNC_KEYS.has(key)) this.notes.push(`${key} = ${showLua(value)}: no equivalent in inosync; left out.`);
    }
    const sourcePath = isAbsolute(source) ? source : resolve(this.cwd, source);
    if (sourcePath !== source) this.notes.unshift(`source = ${JSON.stringify(source)} is relative: lsyncd takes it from the directory it starts in; resolved here from the current directory. Check it.`);
    return { origin, source: sourcePath, target: this.target, fields: this.fields, notes: this.notes };
  }

  /** The target spec, or "!why" when there is none inosync can take. */
  private targetSpec(layer: string, named: Map<string, LuaValue>): string {
    const host = this.string(named, 'host');
    const targetdir = this.string(named, 'targetdir');
    let spec = layer === 'rsyncssh' ? undefined : this.string(named, 'target');
    // default.rsyncssh is host + targetdir; a layer built on default.rsync may build its target from them too.
    if (spec === undefined && host !== undefined && targetdir !== undefined) spec = `${host}:${targetdir}`;
    if (spec === undefined) return `!it has no ${layer === 'rsyncssh' ? 'host and targetdir' : 'target'} that the importer can read`;
    let target;
    try {
      target = parseTarget(spec);
    } catch (error) {
      if (error instanceof InosyncError) return `!${error.message}`;
      throw error;
    }
    if (layer === 'direct' && target.kind !== 'local') return `!default.direct needs a local target, not ${JSON.stringify(spec)}`;
    if (target.kind === 'local' && target.path !== spec) {
      this.target.notes.push(`target = ${JSON.stringify(spec)} is relative: lsyncd takes it from the directory it starts in; resolved here from the current directory. Check it.`);
      return target.path;
    }
    return spec;
  }

  private delay(value: LuaValue | undefined): void {
    const fast = `inosync sends within milliseconds by default (quietMs ${syncDefaults.quietMs}, maxDelayMs ${syncDefaults.maxDelayMs})`;
    if (value === undefined || value === null) {
      this.notes.push(`delay (lsyncd gathers events ${LSYNCD_DEFAULT_DELAY_S} s by default before it sends): not kept, ${fast}.`);
      return;
    }
    if (typeof value !== 'number' || value < 0) {
      this.notes.push(`delay = ${showLua(value)}: not a number of seconds; left out (${fast}).`);
      return;
    }
    const ms = Math.round(value * 1000);
    const maxDelayMs = clamp(Math.max(ms, 1), BOUNDS['max-delay-ms']);
    this.fields.push(
      field('quietMs', clamp(ms, BOUNDS['quiet-ms']), `delay = ${value}: lsyncd gathers events for ${value} s, then sends them; kept as quietMs and maxDelayMs. ${fast}: remove both lines for that.`),
      field('maxDelayMs', maxDelayMs),
    );
  }

  private excludes(named: Map<string, LuaValue>): void {
    const exclude = this.strings(named, 'exclude');
    if (exclude.length > 0) this.target.exclude = exclude;
    const from = this.strings(named, 'excludeFrom');
    if (from.length > 0) this.fields.push(field('excludeFrom', from.map((f) => resolve(this.cwd, f))));
    for (const key of ['filter', 'filterFrom']) {
      if (named.has(key)) this.notes.push(`${key} = ${showLua(named.get(key) as LuaValue)}: rsync filter rules in order have no exact equivalent; write them as exclude and include lists (includes win, as in rsync). Left out.`);
    }
  }

  private deleteMode(value: LuaValue | undefined): void {
    const modes: Record<string, DeleteMode> = { true: 'always', false: 'never', startup: 'startup', running: 'running' };
    if (value === undefined || value === null) return;
    const mode = typeof value === 'boolean' || typeof value === 'string' ? modes[String(value)] : undefined;
    if (mode === undefined) this.notes.push(`delete = ${showLua(value)}: not one of true, false, 'startup', 'running'; left out (deletes always reach the target).`);
    else if (mode !== 'always') this.target.delete = mode;
  }

  private rsync(value: LuaValue | undefined): void {
    if (!isTable(value)) {
      this.notes.push('rsync (lsyncd sends only -l -t -s by default: links, times, protected names): inosync\'s default -aHAX, plus --numeric-ids as root, keeps also permissions, owners, hard links, ACLs and xattrs. For lsyncd\'s exact attributes: rsyncOptions: ["--links", "--times", "--protect-args"].');
      return;
    }
    const words: string[] = [];
    const options = new Map<string, LuaValue>([...LSYNCD_RSYNC_DEFAULTS, ...value.named]);
    for (const [key, v] of options) {
      if (key === '_extra') words.push(...this.listOf(v, 'rsync._extra'));
      else if (key === 'binary') this.notes.push(`rsync.binary = ${showLua(v)}: inosync runs the rsync on its PATH.`);
      else if (key === 'password_file') this.passwordFile(v);
      else if (key === 'rsh') this.rsh(v);
      else if (key === 'timeout' && typeof v === 'number') this.timeout(v);
      else if (v === true) words.push(`--${key.replace(/_/g, '-')}`);
      else if (typeof v === 'string' || typeof v === 'number') words.push(`--${key.replace(/_/g, '-')}=${v}`);
      else if (v !== false && v !== null) this.notes.push(`rsync.${key} = ${showLua(v)}: not a value the importer can read; left out.`);
    }
    const sorted = sortRsyncOptions(words, `rsync = {...} of ${this.origin}`);
    if (sorted.kept.length === 0) {
      this.notes.push('rsync = {...}: no option that inosync takes; inosync\'s default -aHAX is used.', ...sorted.refused);
      return;
    }
    this.fields.push(field('rsyncOptions', sorted.kept, 'rsync = {...} as lsyncd passes it (with its own -l -t -s); inosync\'s default is -aHAX, plus --numeric-ids as root.', ...sorted.refused));
  }

  private passwordFile(value: LuaValue): void {
    if (typeof value === 'string' && parseTarget(this.target.spec).kind === 'daemon' && value.startsWith('/')) this.target.passwordFile = value;
    else this.notes.push(`rsync.password_file = ${showLua(value)}: inosync takes an absolute password file for an rsync daemon target only; left out.`);
  }

  /** rsh = "ssh -p 2222 -i KEY -o ...": ssh's port, identity and options, which inosync gives ssh itself. */
  private rsh(value: LuaValue): void {
    const words = typeof value === 'string' ? shellWords(value, 'rsync.rsh') : [];
    if (words.length === 0 || !/(^|\/)ssh$/.test(words[0] as string) || parseTarget(this.target.spec).kind !== 'ssh') {
      this.notes.push(`rsync.rsh = ${showLua(value)}: inosync reaches ssh targets with its own ssh command (port, identity, options of their own); left out.`);
      return;
    }
    const ssh: SshConfig = { ...this.target.ssh };
    const options: string[] = [...(ssh.options ?? [])];
    for (let i = 1; i < words.length; i++) {
      const word = words[i] as string;
      const next = words[i + 1];
      if (word === '-p' && next !== undefined && /^\d+$/.test(next)) [ssh.port, i] = [Number(next), i + 1];
      else if (word === '-i' && next !== undefined) [ssh.identity, i] = [next, i + 1];
      else options.push(word);
    }
    if (options.length > 0) ssh.options = options;
    this.target.ssh = ssh;
    this.target.notes.push(`rsync.rsh = ${showLua(value)}: its port, identity and options given to inosync's ssh.`);
  }

  private timeout(seconds: number): void {
    const existing = this.top.find((f) => f.key === 'timeout');
    const value = clamp(seconds, BOUNDS.timeout);
    if (existing === undefined) this.top.push(field('timeout', value, `rsync.timeout = ${seconds} (${this.origin}): one I/O timeout for every rsync and ssh of inosync.`));
    else if (existing.value !== value) this.notes.push(`rsync.timeout = ${seconds}: inosync has one timeout for all syncs; ${String(existing.value)} is kept.`);
  }

  private ssh(value: LuaValue | undefined): void {
    if (value === undefined || value === null) return;
    if (!isTable(value) || parseTarget(this.target.spec).kind !== 'ssh') {
      this.notes.push(`ssh = ${showLua(value)}: for an ssh target only; left out.`);
      return;
    }
    const ssh: SshConfig = { ...this.target.ssh };
    const options: string[] = [...(ssh.options ?? [])];
    for (const [key, v] of value.named) {
      if (key === 'port' && typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65_535) ssh.port = v;
      else if (key === 'identityFile' && typeof v === 'string') ssh.identity = v;
      else if (key === 'options' && isTable(v)) for (const [k, o] of v.named) options.push('-o', `${k}=${showPlain(o)}`);
      else if (key === '_extra') options.push(...this.listOf(v, 'ssh._extra'));
      else this.notes.push(`ssh.${key} = ${showLua(v)}: ${key === 'binary' ? 'inosync runs the ssh on its PATH' : 'no equivalent in inosync'}; left out.`);
    }
    if (options.length > 0) ssh.options = options;
    if (Object.keys(ssh).length > 0) this.target.ssh = ssh;
  }

  private string(named: Map<string, LuaValue>, key: string): string | undefined {
    const value = named.get(key);
    if (typeof value === 'string' && value.length > 0) return value;
    if (isUnknown(value)) this.notes.push(`${key} is ${value.why}: the importer cannot know it; write it in the YAML.`);
    return undefined;
  }

  /** A string or a table of strings (lsyncd takes both for exclude). */
  private strings(named: Map<string, LuaValue>, key: string): string[] {
    const value = named.get(key);
    if (value === undefined || value === null) return [];
    if (typeof value === 'string') return value.length > 0 ? [value] : [];
    return this.listOf(value, key);
  }

  private listOf(value: LuaValue, what: string): string[] {
    if (!isTable(value)) {
      this.notes.push(`${what} = ${showLua(value)}: not a list of strings; left out.`);
      return [];
    }
    return value.positional.flatMap((item) => {
      if (typeof item === 'string' && item.length > 0) return [item];
      this.notes.push(`${what}: the item ${showLua(item)} is not a string the importer can read; left out.`);
      return [];
    });
  }
}

function showPlain(value: LuaValue): string {
  return typeof value === 'string' ? value : showLua(value);
}
