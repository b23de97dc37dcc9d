// Issue 12: a small fuzz of the CLI's options. Seeded and bounded (INOSYNC_FUZZ_SEED replays a run; the seed
// and the case are printed on failure): `sync`, `check`, `status`, `limits` and `watch` with known flags given
// hostile values, unknown, repeated and value-less flags, and config files (YAML and JSON) with fields mutated.
// Properties: a run ends with exit 0, 1, 2 or 3, never a crash (no uncaught exception, no stack trace, no
// TypeError); a non-zero exit says what to do ("fix: "); nothing outside the test's temp directory changes.
// Most cases run in-process through the CLI's own parser with handlers that only plan (no agent, no rsync);
// a smaller sample runs as real processes, a `sync` that starts being stopped by SIGTERM once it runs.
// Every source, target, socket and file a case names lies inside the temp directory (relative ones resolve
// in a working directory three levels down in it), so that a case that is accepted writes only there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentsCamelCase } from 'yargs';
import { explicitFlags, planAgent, type AgentArgs } from '../../src/cli/agent-plan.js';
import { loadCommands, type AnyCommand } from '../../src/cli/commands.js';
import { buildParser } from '../../src/cli/parser.js';
import { syncOptionsFrom, type SyncArgs } from '../../src/cli/sync-options.js';
import { loadConfig } from '../../src/config/load.js';
import { InosyncError } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import { parseWatchCommand } from '../../src/monitor/options.js';
import { checkSyncPaths } from '../../src/safety/paths.js';
import { runCli, startLoggedCli } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const SEED = Number(process.env.INOSYNC_FUZZ_SEED ?? 0x12c0ffee);
const IN_PROCESS_CASES = 400;
const PROCESS_CASES = 24;

/** mulberry32: a small PRNG, so a seed replays the same cases on any Node. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly random: () => number, readonly base: string) {}
  int(n: number): number { return Math.floor(this.random() * n); }
  pick<T>(list: readonly T[]): T { return list[this.int(list.length)]!; }
  chance(p: number): boolean { return this.random() < p; }

  /** A value that is hostile to any flag: empty, option-like, odd bytes, numbers out of range. */
  odd(): string {
    return this.pick(['', ' ', '-x', '--', '-', '--=', '=', 'NaN', '1e309', '-1', '0', '1e3', '0x10', '99999999999999999999', '1.5', '-0',
      'Infinity', '2147483648', '30d', '600', 'ßü€ 漢字', '\u202e\u200b', 'a\tb\nc', 'x'.repeat(this.pick([255, 4097, 70_000])), '%s%n', '${HOME}',
      '$(touch pwned)', "'", '"', '\\', '{}', '[]', 'null', 'true', 'a=b', 'x=1=2', ':', '::', 'rsync://', '127.0.0.1:/', '127.0.0.1:/srv/w*']);
  }

  /** A path inside the temp dir: absolute, relative (to the cwd three levels down), with `..` that stays inside, via a symlink. */
  path(): string {
    const { base } = this;
    const name = this.pick(['src', 'dst', 'src/inner', 'dst2', 'missing/deeper', 'file', 'link-src', 'link-dst', 'loop', 'ßü', 'dst/../src', 'src/..', 'x'.repeat(200)]);
    return this.pick([join(base, name), `${base}/${name}/`, `../../${name}`, name, `./${name}`, `${base}/cwd/a/../../${name}`]);
  }

  duration(): string { return this.chance(0.5) ? this.odd() : this.pick(['1', '5s', '1500ms', '24d', '25d', '1d', '0s', '1.5h', '3 m']); }
}

interface FlagSpec { name: string; value: (g: Gen) => string | undefined }

const bool = (name: string): FlagSpec => ({ name, value: () => undefined });
const valued = (name: string, value: (g: Gen) => string): FlagSpec => ({ name, value });
const numberish = (g: Gen): string => (g.chance(0.7) ? g.odd() : String(g.pick([0, 1, 2, 10, 1000, 3600, 3601, 65536, 2 ** 31])));
const target = (g: Gen): string => (g.chance(0.75) ? g.path() : g.pick(['', '-x', '--', '-oProxyCommand=x', ':', '::', 'rsync://', '127.0.0.1:/', '127.0.0.1:/srv/w*', 'ßü€', 'a\nb']));

const TARGET_FLAGS: FlagSpec[] = [
  valued('--source', (g) => (g.chance(0.8) ? g.path() : g.odd())), valued('-s', (g) => g.path()),
  valued('--target', target), valued('-t', target), valued('--exclude', (g) => g.odd()), valued('--include', (g) => g.pick(['[', '**', '!', g.odd()])),
  valued('--exclude-from', (g) => (g.chance(0.5) ? g.path() : g.odd())), valued('--rsync-opts', (g) => g.pick(['-aHAX -z', '-an', '--del', "'-a", '-a --remove-sent-files', '-e sh', '--rsync-path=\'sudo rsync\'', g.odd()])),
  valued('--ssh-port', numberish), valued('--ssh-identity', (g) => g.path()), valued('--ssh-option', (g) => g.pick(['ProxyCommand=sh', 'a=b', g.odd()])),
  valued('--password-file', (g) => g.path()), valued('--timeout', numberish), valued('--config', (g) => g.path()), valued('-c', (g) => g.path()),
];

const COMMAND_FLAGS: Record<string, FlagSpec[]> = {
  sync: [...TARGET_FLAGS, ...['--quiet-ms', '--max-delay-ms', '--max-procs', '--max-pending', '--retry-base-ms', '--retry-max-ms', '--drain-timeout'].map((f) => valued(f, numberish)),
    bool('--remote-moves'), bool('--no-initial-sync'), bool('--allow-partial-watch'), valued('--delete', (g) => g.pick(['never', 'x', 'dst=never', '=', g.odd()])),
    valued('--log-level', (g) => g.pick(['silent', 'x', ''])), valued('--socket', (g) => (g.chance(0.7) ? join(g.base, g.pick(['s.sock', 'file', 'src', 'x'.repeat(120)])) : g.odd())),
    valued('--metrics', (g) => g.pick([':0', '127.0.0.1:99999', '[::1]:x', 'x', ':', g.odd()])), valued('--on-sync', (g) => g.pick(['true', '', '  ', "'", '"a', '/nonexistent/prog', g.odd()])),
    valued('--verify-every', (g) => g.duration())],
  check: [...TARGET_FLAGS, valued('--limit', numberish), bool('--json')],
  status: [valued('--socket', (g) => (g.chance(0.5) ? join(g.base, g.pick(['s.sock', 'file', 'src'])) : g.odd())), valued('--timeout', numberish), valued('--config', (g) => g.path()), bool('--json')],
  limits: [valued('--exclude', (g) => g.odd()), valued('--config', (g) => g.path()), valued('--watches', numberish), valued('--instances', numberish), valued('--queued-events', numberish), bool('--json'),
    // --persist only ever into the temp dir; --apply (the machine's limits) never.
    valued('--sysctl-dir', (g) => join(g.base, g.pick(['sysctl', 'file', 'missing/new']))), bool('--persist')],
  watch: [bool('-m'), bool('-r'), bool('-q'), bool('--csv'), bool('--json'), bool('-P'), bool('--stats'), valued('-e', (g) => g.pick(['modify', 'x', 'modify,,', g.odd()])),
    valued('--format', (g) => g.pick(['%w%f %e', '%T', '%', g.odd()])), valued('--timefmt', (g) => g.pick(['%s', '%', g.odd()])), valued('-t', numberish),
    valued('--exclude', (g) => g.pick(['(', '*', g.odd()])), valued('--include', (g) => g.pick(['(', g.odd()])), valued('--fromfile', (g) => g.path()),
    valued('-o', (g) => join(g.base, 'out', String(g.int(5))))],
};

/** A config file inside the temp dir: one of a few valid templates, then a few fields set to random values. */
function configFile(g: Gen, index: number): string {
  const { base } = g;
  const sync: Record<string, unknown> = { source: join(base, 'src'), targets: [join(base, 'dst'), { target: join(base, 'dst2'), delete: 'never' }] };
  const config: Record<string, unknown> = { socket: join(base, `c${index}.sock`), syncs: [sync] };
  const anyValue = (): unknown => g.pick<() => unknown>([
    () => g.odd(), () => g.path(), () => g.pick([-1, 0, 1, 1e9, 1e300, 2 ** 31, 0.5, -0]), () => g.chance(0.5), () => null, () => [g.odd(), g.path()], () => ({ [g.odd()]: g.odd() }), () => [],
  ])();
  for (let i = 1 + g.int(3); i > 0; i--) {
    const where = g.pick(['top', 'sync', 'target', 'ssh'] as const);
    const key = g.pick(['source', 'targets', 'target', 'socket', 'metrics', 'logLevel', 'drainTimeout', 'timeout', 'maxProcs', 'quietMs', 'maxDelayMs', 'maxPending', 'verifyEvery',
      'onSync', 'rsyncOptions', 'exclude', 'include', 'excludeFrom', 'delete', 'remoteMoves', 'initialSync', 'ssh', 'port', 'identity', 'options', 'passwordFile', 'syncs', g.odd()]);
    const value = anyValue();
    if (where === 'top') config[key] = value;
    else if (where === 'sync') sync[key] = value;
    else if (where === 'target' && Array.isArray(sync.targets)) sync.targets[1] = { ...(sync.targets[1] as object | undefined), [key]: value };
    else sync.ssh = { [key]: value };
  }
  // A source or target the mutation set to a string still lies inside the temp dir (or is refused as odd).
  for (const field of ['source', 'targets'] as const) {
    const value = sync[field];
    if (typeof value === 'string' && value.startsWith('/') && !value.startsWith(base)) sync[field] = join(base, 'src');
  }
  const json = g.chance(0.5);
  const file = join(base, `config${index}.${json ? 'json' : g.pick(['yaml', 'yml', 'conf'])}`);
  let text = json ? JSON.stringify(config) : toYaml(config);
  if (g.chance(0.1)) text = text.slice(0, g.int(text.length)); // cut short: a parse error
  writeFileSync(file, text);
  return file;
}

/** YAML in flow style (JSON is YAML), with now and then a YAML-only spelling of a number. */
function toYaml(value: unknown): string {
  return JSON.stringify(value).replace(/:1e\+300/g, ':1e309').replace(/:-1([,}])/g, ':.nan$1');
}

function pathsOutside(value: string, base: string): boolean {
  return value.startsWith('/') && !value.startsWith(base);
}

/** One case: the command's argv, built from its flags, with unknown, repeated and value-less flags now and then. */
function makeCase(g: Gen, index: number, command: string): string[] {
  const flags = COMMAND_FLAGS[command]!;
  const argv: string[] = [command];
  if (command === 'sync' || command === 'check') {
    if (g.chance(0.7)) argv.push('-s', join(g.base, 'src'));
    if (g.chance(0.7)) argv.push('-t', join(g.base, g.pick(['dst', 'dst2', 'missing/new'])));
    if (g.chance(0.25)) argv.push('--config', configFile(g, index));
  }
  for (let i = g.int(5); i > 0; i--) {
    const roll = g.random();
    if (roll < 0.08) argv.push(g.pick(['--sorce', '--nope', '-Z', '--no-such=1', '---x', '-', '--']));
    else if (roll < 0.16) argv.push(g.pick(flags).name); // a value flag with no value (or one taking the next flag)
    else {
      const flag = g.pick(flags);
      const value = flag.value(g);
      const count = g.chance(0.1) ? 2 : 1; // repeated
      for (let k = 0; k < count; k++) argv.push(...(value === undefined ? [flag.name] : g.chance(0.3) && flag.name.startsWith('--') ? [`${flag.name}=${value}`] : [flag.name, value]));
    }
  }
  if (command === 'limits' && g.chance(0.5)) argv.push(g.path());
  if (command === 'watch') argv.push(g.path());
  return argv;
}

/** The CLI's parser with each command's handler replaced by its plan: what a run checks before it starts anything. */
function planOnly(command: AnyCommand, argv: readonly string[]): AnyCommand {
  const name = String(command.command).split(' ')[0];
  if (name !== 'sync' && name !== 'check') return { ...command, handler: () => undefined };
  return {
    ...command,
    handler: (parsed: ArgumentsCamelCase) => {
      const args = parsed as unknown as SyncArgs & AgentArgs;
      const config = args.config === undefined ? null : loadConfig(args.config);
      const plan = planAgent(args, explicitFlags(argv), silentLogger, () => syncOptionsFrom(args, silentLogger), config);
      checkSyncPaths(plan.syncs.map((s) => s.options));
    },
  };
}

/** What an in-process run ended with: null when it planned without error, else the error. */
async function planInProcess(argv: string[]): Promise<unknown> {
  try {
    if (argv[0] === 'watch') {
      parseWatchCommand(argv.slice(1), 'inosync watch');
      return null;
    }
    const commands = (await loadCommands(argv[0])).map((c) => planOnly(c, argv.slice(1)));
    await buildParser(argv, 'inosync', commands).exitProcess(false).parseAsync();
    return null;
  } catch (error) {
    return error;
  }
}

/** Names, types, sizes, modes and times of everything under `dir` (what "untouched" is checked against). */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map((name) => {
    const s = lstatSync(join(dir, String(name)));
    return `${String(name)} ${s.mode} ${s.size} ${s.mtimeMs} ${s.ino}`;
  }).sort();
}

interface Layout { base: string; cwd: string; sentinel: string }

/** The temp dir the cases may touch, and a sentinel tree beside it that none may. */
function layout(t: CleanupContext): Layout {
  const base = tempDir(t, 'inosync-fuzz-');
  const sentinel = tempDir(t, 'inosync-fuzz-sentinel-');
  mkdirSync(join(sentinel, 'd'));
  writeFileSync(join(sentinel, 'd', 'keep'), 'sentinel');
  for (const dir of ['src/inner', 'dst', 'dst2', 'cwd/a/b', 'tmp', 'sysctl', 'out']) mkdirSync(join(base, dir), { recursive: true });
  writeFileSync(join(base, 'src', 'f'), 'data');
  writeFileSync(join(base, 'file'), 'a file, not a directory');
  symlinkSync(join(base, 'src'), join(base, 'link-src'));
  symlinkSync(join(base, 'dst'), join(base, 'link-dst'));
  symlinkSync(join(base, 'loop'), join(base, 'loop'));
  return { base, cwd: join(base, 'cwd', 'a', 'b'), sentinel };
}

const COMMANDS = ['sync', 'check', 'status', 'limits', 'watch'];

function describeCase(index: number, argv: readonly string[]): string {
  const shown = argv.map((a) => (a.length > 80 ? `${JSON.stringify(a.slice(0, 40))}...(${a.length} chars)` : JSON.stringify(a)));
  return `seed ${SEED} (INOSYNC_FUZZ_SEED=${SEED}), case ${index}: inosync ${shown.join(' ')}`;
}

test('in-process: every command line the fuzz makes is planned or refused with an InosyncError (exit 1-3) that says what to do', async (t) => {
  const { base, sentinel } = layout(t);
  const before = snapshot(sentinel);
  const g = new Gen(prng(SEED), base);
  let planned = 0;
  for (let i = 0; i < IN_PROCESS_CASES; i++) {
    const argv = makeCase(g, i, g.pick(COMMANDS));
    const error = await planInProcess(argv);
    if (error === null) {
      planned++;
      continue;
    }
    const where = describeCase(i, argv);
    assert.ok(error instanceof InosyncError, `${where}\n  crashed: ${error instanceof Error ? error.stack : String(error)}`);
    assert.ok([1, 2, 3].includes(error.exitCode), `${where}\n  exit ${error.exitCode}: ${error.message}`);
    assert.ok(error.fix.trim().length > 0, `${where}\n  no fix for: ${error.message}`);
  }
  t.diagnostic(`${planned} of ${IN_PROCESS_CASES} cases planned, the others refused`);
  assert.deepEqual(snapshot(sentinel), before, 'nothing outside the temp dir changes');
});

test('real processes: a sample of the fuzz ends with exit 0-3, no stack trace, a fix for every failure, nothing touched outside', async (t) => {
  const { base, cwd, sentinel } = layout(t);
  const before = snapshot(sentinel);
  const g = new Gen(prng(SEED ^ 0x5a5a5a5a), base);
  const env = { ...process.env, TMPDIR: join(base, 'tmp') };
  for (let i = 0; i < PROCESS_CASES; i++) {
    const command = COMMANDS[i % COMMANDS.length]!;
    const argv = makeCase(g, i, command);
    if (argv.some((a) => pathsOutside(a, base) && !a.startsWith('/nonexistent'))) continue;
    const where = describeCase(i, argv);
    let result: { code: number | null; signal: NodeJS.Signals | null; stderr: string };
    if (command === 'sync') {
      // Its own socket unless the case names one; an agent that starts is stopped by SIGTERM at once.
      const extra = argv.some((a) => a.startsWith('--socket')) ? [] : ['--socket', join(base, `p${i}.sock`)];
      const agent = startLoggedCli(t, [...argv, ...extra, '--drain-timeout=0'], { cwd, env, leftovers: true });
      await waitFor(() => agent.cli.child.exitCode !== null || agent.cli.stderr.includes('"agent running'), { what: `${where} to run or exit`, timeoutMs: 20_000 });
      if (agent.cli.child.exitCode === null) agent.cli.child.kill('SIGTERM');
      result = { ...(await agent.cli.exited), stderr: agent.cli.stderr };
    } else {
      result = await runCli(command === 'watch' ? [...argv, '-t', '1'] : argv, { cwd, env, timeoutMs: 20_000 });
    }
    assert.equal(result.signal, null, `${where}\n  ended by ${result.signal}: ${result.stderr}`);
    assert.ok([0, 1, 2, 3].includes(result.code!), `${where}\n  exit ${result.code}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /TypeError|Cannot read properties|\n\s+at .+:\d+:\d+\)?\n|Uncaught|node:internal/, where);
    // `check` exits 1 for drift (a result, on stdout); `watch` keeps inotifywait's messages.
    const failed = result.code !== 0 && command !== 'watch' && !(command === 'check' && result.code === 1);
    if (failed) assert.match(result.stderr, /fix: \S/, `${where}\n  no fix in: ${result.stderr}`);
  }
  assert.deepEqual(snapshot(sentinel), before, 'nothing outside the temp dir changes');
});

test('what the fuzz found: each is refused with exit 2 and a fix, not a raw error, a hang or a list where a value was due', async (t) => {
  const { base, cwd } = layout(t);
  const found: string[][] = [
    ['status', '--socket', ''], // net.connect took '' for a TCP port: "Port should be >= 0", exit 1, no fix
    ['status', '--socket', join(base, 'a.sock'), '--socket', join(base, 'b.sock')], // a list reached net.connect
    ['check', '-s', join(base, 'src'), '-s', join(base, 'src'), '-t', join(base, 'dst')], // "source a,b is not an existing directory"
    ['sync', '-s', join(base, 'src'), '-t', join(base, 'dst'), '--rsync-opts', '-a', '--rsync-opts', '-z', '--socket', join(base, 's.sock')], // read as "-a-z"
    ['limits', ''], // counted "/": the whole filesystem, for minutes
    ['limits', '--persist', '--sysctl-dir', ''], // raw "ENOENT: mkdir ''"
  ];
  for (const argv of found) {
    const result = await runCli(argv, { cwd, env: { ...process.env, TMPDIR: join(base, 'tmp') }, timeoutMs: 15_000 });
    assert.equal(result.code, 2, `${describeCase(0, argv)}\n${result.stderr}`);
    assert.match(result.stderr, /^inosync: .+\n {2}fix: \S/, argv.join(' '));
  }
});
