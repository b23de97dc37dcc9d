// Sync benchmarks, inosync beside lsyncd (Debian's, set for its lowest delay) and the physical floors, on
// two loopback ssh hosts in the same run:
// - change -> all-hosts latency, p50/p95 over LATENCY_CHANGES small files written one at a time; floor: one
//   rsync of one small file over an already open (multiplexed) ssh connection;
// - convergence after a storm of STORM_FILES new files (median of STORM_ROUNDS for inosync and the
//   floor); floor: the time to write them plus one plain `rsync -a` of the result to every host in parallel;
// - the agent's CPU seconds over the storm (its rsync and ssh children counted, and inosync's ssh masters,
//   which run detached), and the peak RSS of that same process tree during the storms.
// On a tmpfs everything is measured; on the disk (SyncPlan) the storms only, in fewer rounds: the latency of
// one small file does not depend on the medium, a storm's metadata work does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliPath } from '../test/helpers/run-cli.js';
import { startSshd, type SshHost } from '../test/helpers/sshd.js';
import { cpuSeconds, cpuSecondsOfMarked, peakRssMiB, pollUntil, sampleMax, spawnReady, stop, stopGroup, treeBreakdown, treePssMiB, treeRssMiB, treeUsage, type TreeUsage } from './bench-proc.js';
import { ratio, type Row } from './bench-table.js';

const LATENCY_CHANGES = 20;
/** Pause after each change has arrived everywhere, so that changes do not overlap. */
const LATENCY_GAP_MS = 50;
const STORM_FILES = 10_000;
const STORM_DIRS = 100;
/** inosync and the floor weather this many storms at most (medians reported; see SyncPlan); lsyncd one. */
const STORM_ROUNDS = 5;
/** lsyncd may take minutes on the storm: it is stopped here and its figures become bounds. */
const STORM_CAP_S = 30;
const writer = fileURLToPath(new URL('./bench-writer.js', import.meta.url));
const stormDir = (round: number): string => `storm${round}`;

export interface Target { host: SshHost; dir: string }

export interface Agent {
  child: ChildProcess;
  stop(): Promise<void>;
  /** CPU seconds so far: the agent, its reaped children, and helpers it left running. */
  cpu(): number;
  /** RSS, processes and CPU of the agent's whole process tree now (its detached ssh masters too). */
  usage(): TreeUsage;
  /** RSS (MiB) now of the same processes: the agent, its children, its helpers. */
  rss(): number;
  /** Their proportional set size (MiB) now: shared pages counted once in all (treePssMiB). */
  pss(): number;
  /** The same processes' RSS by process name, file-backed and anonymous apart (treeBreakdown). */
  breakdown(): string;
}

export interface Setup { src: string; targets: Target[] }

/** A source with the latency directory and each storm's empty directories, and an empty directory per host. */
function makeSetup(work: string, name: string, hosts: readonly SshHost[]): Setup {
  const src = join(work, name, 'src');
  mkdirSync(join(src, 'lat'), { recursive: true });
  for (let r = 0; r < STORM_ROUNDS; r++) {
    for (let i = 0; i < STORM_DIRS; i++) mkdirSync(join(src, stormDir(r), `s${i}`), { recursive: true });
  }
  const targets = hosts.map((host, i) => {
    const dir = join(work, name, `host${i}`);
    mkdirSync(dir);
    return { host, dir };
  });
  return { src, targets };
}

/** ssh client options for a host (its port, key and throw-away host key checking). */
function sshOptions(host: SshHost): string[] {
  return ['-p', String(host.port), '-i', host.identity, ...host.sshOptions, '-o', 'BatchMode=yes'];
}

/** `env`: the agent's environment (benchEnv by default), e.g. with a systemd unit's Environment= lines. */
export async function startInosync(work: string, setup: Setup, extraArgs: readonly string[] = [], env?: NodeJS.ProcessEnv): Promise<Agent> {
  const args = ['sync', '--source', setup.src, '--socket', join(work, `inosync-${process.pid}.sock`), ...extraArgs];
  // Kept for a look at where the time goes (bench-recovery.ts): every rsync and ssh master it starts.
  if (process.env.INOSYNC_BENCH_LOG) args.push('--log-level', 'debug');
  for (const { host, dir } of setup.targets) {
    args.push('--target', host.spec(dir), '--ssh-port', `${host.address}=${host.port}`, '--ssh-identity', `${host.address}=${host.identity}`);
    for (let k = 1; k < host.sshOptions.length; k += 2) args.push('--ssh-option', `${host.address}=${host.sshOptions[k] ?? ''}`);
  }
  // Ready once every host has had its startup full sync (one JSON log line each).
  const fullSyncDone = (line: string): boolean => {
    try {
      const record = JSON.parse(line) as { msg?: unknown; kind?: unknown };
      return record.msg === 'synced' && record.kind === 'full';
    } catch {
      return false; // a partial line, or not JSON
    }
  };
  const { child } = await spawnReady([process.execPath, cliPath, ...args], { stream: 'stderr', ready: fullSyncDone, count: setup.targets.length, timeoutMs: 60_000, env });
  const pid = child.pid ?? 0;
  return {
    child,
    stop: () => stop(child),
    cpu: () => {
      const { own, children } = cpuSeconds(pid);
      return own + children + cpuSecondsOfMarked(`inosync-ssh-${pid}-`);
    },
    usage: () => treeUsage(pid, `inosync-ssh-${pid}-`),
    rss: () => treeRssMiB(pid, `inosync-ssh-${pid}-`),
    pss: () => treePssMiB(pid, `inosync-ssh-${pid}-`),
    breakdown: () => treeBreakdown(pid, `inosync-ssh-${pid}-`),
  };
}

/** lsyncd with default.rsync over ssh, one sync per host, `delay = 0` (its lowest). */
export async function startLsyncd(work: string, setup: Setup): Promise<Agent> {
  const config = join(work, 'lsyncd.lua');
  const syncs = setup.targets.map(({ host, dir }) => `sync {
  default.rsync,
  source = ${JSON.stringify(setup.src)},
  target = ${JSON.stringify(host.spec(dir))},
  delay = 0,
  rsync = { archive = true, rsh = ${JSON.stringify(['/usr/bin/ssh', ...sshOptions(host)].join(' '))} },
}`);
  writeFileSync(config, `settings { nodaemon = true }\n${syncs.join('\n')}\n`);
  const { child } = await spawnReady(['lsyncd', '-log', 'Normal', config], {
    stream: 'stdout', ready: /Startup of .* finished/, count: setup.targets.length, timeoutMs: 60_000, detached: true,
  });
  const pid = child.pid ?? 0;
  return {
    child,
    stop: () => stopGroup(child),
    cpu: () => { const { own, children } = cpuSeconds(pid); return own + children; },
    usage: () => treeUsage(pid),
    rss: () => treeRssMiB(pid),
    pss: () => treePssMiB(pid),
    breakdown: () => treeBreakdown(pid),
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One change of the source, timed until it has reached every host (milliseconds). */
type Probe = (i: number) => Promise<number>;

/** A small new file in the source of a running agent, timed until it exists on every host. */
function agentProbe(setup: Setup): Probe {
  return async (i) => {
    const rel = join('lat', `c${i}`);
    const t0 = performance.now();
    writeFileSync(join(setup.src, rel), `change ${i}\n`);
    const t1 = await pollUntil(() => setup.targets.every(({ dir }) => existsSync(join(dir, rel))), `${rel} on every host`, 30_000);
    return t1 - t0;
  };
}

/** Runs argv to completion; rejects unless it exits 0. */
function run(argv: readonly string[], input?: string): Promise<void> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command ?? '', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdin.end(input ?? '');
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr.trim()}`))));
  });
}

interface Floor {
  /** One rsync of one small file to the first host, over its open ssh master: the floor of the targets. */
  one: Probe;
  /** The same to both hosts at once: what "every host" costs this machine, for reference. */
  all: Probe;
  close(): void;
}

/** Opens an ssh master per host of the setup, for the latency floor. */
async function openFloor(work: string, setup: Setup): Promise<Floor> {
  const links = setup.targets.map(({ host, dir }, i) => {
    const control = join(work, `floor-master-${i}.sock`);
    const dest = `${host.user}@${host.address}`;
    const rsh = ['ssh', ...sshOptions(host), '-o', `ControlPath=${control}`, '-o', 'ControlMaster=no'].join(' ');
    return {
      dir,
      open: () => run(['ssh', ...sshOptions(host), '-M', '-N', '-f', '-o', `ControlPath=${control}`, '-o', 'ControlPersist=60', dest]),
      close: () => spawnSync('ssh', ['-o', `ControlPath=${control}`, '-O', 'exit', dest], { stdio: 'ignore' }),
      rsync: (rel: string) => run(['rsync', '-a', '--files-from=-', '--from0', '-e', rsh, `${setup.src}/`, `${host.spec(dir)}/`], `${rel}\0`),
    };
  });
  await Promise.all(links.map((link) => link.open()));
  const probe = (tag: string, to: typeof links): Probe => async (i) => {
    const rel = `lat/${tag}${i}`;
    const t0 = performance.now();
    writeFileSync(join(setup.src, rel), `change ${i}\n`);
    // Timed like the agents: until the file exists everywhere, not until rsync has also closed its session.
    const sent = Promise.all(to.map((link) => link.rsync(rel)));
    const t1 = await pollUntil(() => to.every((link) => existsSync(join(link.dir, rel))), `${rel} on the floor's hosts`, 30_000);
    await sent;
    return t1 - t0;
  };
  return { one: probe('one', links.slice(0, 1)), all: probe('all', links), close: () => links.forEach((link) => link.close()) };
}

/** LATENCY_CHANGES rounds, each probe once per round, so that a change in the machine's load hits them all alike. */
async function interleaved<K extends string>(probes: Record<K, Probe>): Promise<Record<K, number[]>> {
  const names = Object.keys(probes) as K[];
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < LATENCY_CHANGES; i++) {
    for (const name of names) {
      times[name].push(await probes[name](i));
      await pause(LATENCY_GAP_MS);
    }
  }
  return times;
}

/** A storm's size: files spread over the directories s0..s{dirs-1}. */
export interface StormSize { files: number; dirs: number }
const STORM: StormSize = { files: STORM_FILES, dirs: STORM_DIRS };

/**
 * Writes the storm into root's s0.. (a process of its own, so that the bench's samplers keep running);
 * `part` [from, to) writes only those of its files (END with the last part).
 */
export function writeStorm(root: string, size = STORM, part: [number, number] = [0, size.files]): Promise<void> {
  return run([process.execPath, writer, root, String(size.files), String(size.dirs), ...part.map(String)]);
}

/**
 * Whether a host holds the whole storm (the writer's files and its END directory, made last), asked again and
 * again while it arrives: each directory is read until it holds all its files (the storm only adds), then
 * never again. Reading all of them every 20 ms once END had arrived
 * (sent ahead of the directories) took a share of the 2 cores the agent's rsyncs run on, which the floor,
 * timed by its rsync's exit, never paid.
 */
export function stormArrival(dir: string, size = STORM): () => boolean {
  let complete = 0;
  return () => {
    if (!existsSync(join(dir, 'END'))) return false;
    for (; complete < size.dirs; complete++) {
      // The writer puts file i in s{i % dirs}.
      const expected = Math.floor(size.files / size.dirs) + (complete < size.files % size.dirs ? 1 : 0);
      if (readdirSync(join(dir, `s${complete}`)).length !== expected) return false;
    }
    return true;
  };
}

interface Storm {
  seconds: number;
  cpu: number;
  capped: boolean;
  rss: number;
  pss: number;
  /** Where the tree's RSS was at its peak, by process name (treeBreakdown), for the log. */
  atPeak: string;
}

async function stormWith(agent: Agent, setup: Setup, round: number): Promise<Storm> {
  const cpu0 = agent.cpu();
  let top = 0;
  let atPeak = '';
  const rss = sampleMax(() => {
    const now = agent.rss();
    if (now > top) [top, atPeak] = [now, agent.breakdown()];
    return now;
  }, 50);
  const pss = sampleMax(() => agent.pss(), 100);
  const t0 = performance.now();
  await writeStorm(join(setup.src, stormDir(round)));
  const deadline = t0 + STORM_CAP_S * 1000;
  const polls = setup.targets.map(({ dir }) => stormArrival(join(dir, stormDir(round))));
  const arrived = (): boolean => polls.every((holds) => holds());
  const t1 = await pollUntil(() => arrived() || performance.now() > deadline, 'every host to hold the storm', STORM_CAP_S * 2000, 20);
  return { seconds: (Math.min(t1, deadline) - t0) / 1000, cpu: agent.cpu() - cpu0, capped: t1 > deadline, rss: rss.stop(), pss: pss.stop(), atPeak };
}

/** Writing the storm, then one plain `rsync -a` (own ssh connection) to every host at once. */
async function stormFloor(setup: Setup, round: number): Promise<number> {
  const root = join(setup.src, stormDir(round));
  const t0 = performance.now();
  await writeStorm(root);
  await Promise.all(setup.targets.map(({ host, dir }) => run(['rsync', '-a', '-e', ['ssh', ...sshOptions(host)].join(' '), `${root}/`, `${host.spec(join(dir, stormDir(round)))}/`])));
  return (performance.now() - t0) / 1000;
}

/** Where the trees live, and how much is measured there. */
export interface SyncPlan {
  /** Named in the storm rows: "tmpfs" or "disk". */
  medium: string;
  /** The latency rows too (they do not depend on the medium). */
  latency: boolean;
  /** Storms weathered by inosync and by the floor (medians reported); at most STORM_ROUNDS. */
  rounds: number;
  /** The storm's converged / floor target, as a ratio. */
  stormTarget: number;
}

/** The tree's peak RSS in the disk storm of issue 13: lsyncd's was 58 MiB, inosync's 144 MiB. */
const STORM_RSS_TARGET_MIB = 80;

interface Measured { lat: number[]; storm: Storm; rss: number }

function latencyRows(ours: Measured, lsyncd: Measured, floorLat: { one: number[]; all: number[] }): Row[] {
  const p50 = (xs: number[]): number => percentile(xs, 50);
  const p95 = (xs: number[]): number => percentile(xs, 95);
  const floor = 'floor: 1 rsync, open ssh';
  const lat = 'latency, change -> 2 hosts';
  return [
    { metric: `${lat} p50`, unit: 'ms', inosync: p50(ours.lat), anchor: p50(floorLat.one), anchorName: floor, target: atMost(1.5) },
    { metric: `${lat} p95`, unit: 'ms', inosync: p95(ours.lat), anchor: p95(floorLat.one), anchorName: floor },
    { metric: `${lat} p50`, unit: 'ms', inosync: p50(ours.lat), anchor: p50(floorLat.all), anchorName: `${floor}, 2 hosts at once` },
    { metric: `${lat} p50`, unit: 'ms', inosync: p50(ours.lat), anchor: p50(lsyncd.lat), anchorName: LSYNCD },
    { metric: `${lat} p95`, unit: 'ms', inosync: p95(ours.lat), anchor: p95(lsyncd.lat), anchorName: LSYNCD },
  ];
}

function stormRows(ours: Measured, lsyncd: Measured, floorStorm: number, plan: SyncPlan): Row[] {
  const storm = `storm ${STORM_FILES.toLocaleString('en-US')} files -> 2 hosts, ${plan.medium}`;
  return [
    { metric: `${storm}: converged`, unit: 's', inosync: ours.storm.seconds, anchor: floorStorm, anchorName: 'floor: write + rsync -a per host', target: atMost(plan.stormTarget) },
    { metric: `${storm}: converged`, unit: 's', inosync: ours.storm.seconds, anchor: lsyncd.storm.seconds, anchorName: LSYNCD, anchorCapped: lsyncd.storm.capped, target: atMost(0.5) },
    { metric: `${storm}: agent CPU, children too`, unit: 's', inosync: ours.storm.cpu, anchor: lsyncd.storm.cpu, anchorName: LSYNCD, anchorCapped: lsyncd.storm.capped, target: { text: '< 1.00x', met: (row) => ratio(row) < 1 } },
    {
      metric: `${storm}: peak RSS of the tree`, unit: 'MiB', inosync: ours.storm.rss, anchor: lsyncd.storm.rss, anchorName: LSYNCD,
      target: { text: `<= ${STORM_RSS_TARGET_MIB} MiB`, met: (row) => row.inosync <= STORM_RSS_TARGET_MIB },
    },
    // Beside the RSS row: the sum of RSS counts the node, rsync and ssh program text and libraries once per
    // process that maps them (a mux client's 7.6 MiB is 6.6 of them), PSS counts them once.
    { metric: `${storm}: peak PSS of the tree`, unit: 'MiB', inosync: ours.storm.pss, anchor: lsyncd.storm.pss, anchorName: LSYNCD },
    { metric: 'agent peak RSS (node process alone, since its start)', unit: 'MiB', inosync: ours.rss, anchor: lsyncd.rss, anchorName: LSYNCD },
  ];
}

const LSYNCD = 'lsyncd, delay = 0';
const atMost = (limit: number): Row['target'] => ({ text: `<= ${limit.toFixed(2)}x`, met: (row) => ratio(row) <= limit });
const milliseconds = (xs: readonly number[]): string => xs.map((x) => x.toFixed(0)).join(' ');

export async function syncBenchmarks(work: string, log: (line: string) => void, plan: SyncPlan): Promise<Row[]> {
  const cleanups: Array<() => unknown> = [];
  const say = (line: string): void => log(`sync, ${plan.medium}: ${line}`);
  try {
    const hosts = await Promise.all([0, 1].map(() => startSshd({ after: (fn) => { cleanups.push(fn); } })));
    say(`two sshd on ${hosts.map((h) => `${h.address}:${h.port}`).join(', ')}`);
    const setups = { inosync: makeSetup(work, 'inosync', hosts), lsyncd: makeSetup(work, 'lsyncd', hosts), floor: makeSetup(work, 'floor', hosts) };
    const ours = await startInosync(work, setups.inosync);
    cleanups.push(() => ours.stop());
    const theirs = await startLsyncd(work, setups.lsyncd);
    cleanups.push(() => theirs.stop());
    say('inosync and lsyncd have done their startup syncs');

    const rows: Row[] = [];
    const lat = { inosync: [] as number[], lsyncd: [] as number[], one: [] as number[], all: [] as number[] };
    if (plan.latency) {
      const floor = await openFloor(work, setups.floor);
      cleanups.push(() => floor.close());
      Object.assign(lat, await interleaved({ inosync: agentProbe(setups.inosync), lsyncd: agentProbe(setups.lsyncd), one: floor.one, all: floor.all }));
      say(`latency ms, inosync ${milliseconds(lat.inosync)}; lsyncd ${milliseconds(lat.lsyncd)}; floor ${milliseconds(lat.one)}; floor, 2 hosts ${milliseconds(lat.all)}`);
    }
    const floorStorms: number[] = [];
    const ourStorms: Storm[] = [];
    for (let round = 0; round < Math.min(plan.rounds, STORM_ROUNDS); round++) {
      floorStorms.push(await stormFloor(setups.floor, round));
      ourStorms.push(await stormWith(ours, setups.inosync, round));
      say(`storm ${round}: inosync's tree at its RSS peak: ${ourStorms[round]?.atPeak ?? ''}`);
    }
    const theirStorm = await stormWith(theirs, setups.lsyncd, 0);
    const seconds = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
    say(`storms, inosync ${seconds(ourStorms.map((x) => x.seconds))} s using ${seconds(ourStorms.map((x) => x.cpu))} CPU s, tree peak ${milliseconds(ourStorms.map((x) => x.rss))} MiB RSS, ${milliseconds(ourStorms.map((x) => x.pss))} MiB PSS; floor ${seconds(floorStorms)} s`);
    say(`lsyncd storm ${theirStorm.capped ? 'not converged, stopped after ' : ''}${theirStorm.seconds.toFixed(2)} s, ${theirStorm.cpu.toFixed(2)} CPU s, tree peak ${theirStorm.rss.toFixed(0)} MiB RSS, ${theirStorm.pss.toFixed(0)} MiB PSS`);
    const median = (pick: (x: Storm) => number): number => percentile(ourStorms.map(pick), 50);
    const ourStorm = { seconds: median((x) => x.seconds), cpu: median((x) => x.cpu), rss: median((x) => x.rss), pss: median((x) => x.pss), capped: false, atPeak: '' };
    const ourFigures = { lat: lat.inosync, storm: ourStorm, rss: peakRssMiB(ours.child.pid ?? 0) };
    const theirFigures = { lat: lat.lsyncd, storm: theirStorm, rss: peakRssMiB(theirs.child.pid ?? 0) };
    if (plan.latency) rows.push(...latencyRows(ourFigures, theirFigures, lat));
    rows.push(...stormRows(ourFigures, theirFigures, percentile(floorStorms, 50), plan));
    return rows;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
