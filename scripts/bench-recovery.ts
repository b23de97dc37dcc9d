// Recovery benchmarks (issue 13): one of two loopback ssh hosts is taken away in the middle of a storm of
// STORM.files new files and given back later; timed from its return until both hosts hold the whole storm.
// - stopped: its sshd stopped for STOP_MS (new connections refused, open ones closed), then started again
//   (the return is the moment it accepts connections);
// - black-holed: its packets dropped for BLOCK_MS (nftables: no reset, connections hang), then let through.
// The storm is written in two halves: the outage begins once the first host holds the first half's first
// file (a transfer to it is under way), and the second half is written while the host is away.
// inosync and lsyncd (Debian's, delay = 0, as in bench-sync.ts) each get two hosts of their own, so that one
// agent's outage never touches the other, and take turns, ROUNDS runs of each outage each; medians reported.
// INOSYNC_BENCH_LOG=FILE keeps inosync's JSON log of these runs, with the bench's own marks in it.
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd, type SshHost } from '../test/helpers/sshd.js';
import { pollUntil } from './bench-proc.js';
import { percentile, startInosync, startLsyncd, stormArrival, writeStorm, type Agent, type Setup, type StormSize } from './bench-sync.js';
import type { Row } from './bench-table.js';

/** Runs of each outage per agent. */
const ROUNDS = 3;
const STOP_MS = 10_000;
const BLOCK_MS = 20_000;
/** An agent not converged this long after the return is stopped being waited for: its figure becomes a bound. */
const CAP_MS = 60_000;
/** Smaller than bench-sync.ts's storm: lsyncd takes that one alone longer than CAP_MS. */
const STORM: StormSize = { files: 2000, dirs: 20 };

interface Outage {
  name: 'stopped' | 'blocked';
  ms: number;
  take(host: SshHost): Promise<void>;
  give(host: SshHost): Promise<void>;
}

const OUTAGES: readonly Outage[] = [
  { name: 'stopped', ms: STOP_MS, take: (host) => host.stop(), give: (host) => host.start() },
  { name: 'blocked', ms: BLOCK_MS, take: (host) => host.block(), give: (host) => host.unblock() },
];

const runDir = (outage: Outage, round: number): string => `${outage.name}${round}`;

/** A source with every run's empty storm directories, and an empty directory per host. */
function makeSetup(work: string, name: string, hosts: readonly SshHost[]): Setup {
  const src = join(work, name, 'src');
  for (const outage of OUTAGES) {
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < STORM.dirs; i++) mkdirSync(join(src, runDir(outage, r), `s${i}`), { recursive: true });
    }
  }
  const targets = hosts.map((host, i) => {
    const dir = join(work, name, `host${i}`);
    mkdirSync(dir);
    return { host, dir };
  });
  return { src, targets };
}

interface Recovery { seconds: number; capped: boolean }

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** One run: the storm, the first host taken away mid-storm and given back; seconds from its return to convergence. */
async function recover(setup: Setup, outage: Outage, round: number, mark: (what: string) => void): Promise<Recovery> {
  const dir = runDir(outage, round);
  const first = setup.targets[0]!;
  const half = STORM.files / 2;
  const writing = writeStorm(join(setup.src, dir), STORM, [0, half]);
  await pollUntil(() => existsSync(join(first.dir, dir, 's0', 'f0')), 'the storm to reach the first host', CAP_MS, 5);
  const down = performance.now();
  await outage.take(first.host);
  mark(`${outage.name}: host down`);
  try {
    await writing;
    await writeStorm(join(setup.src, dir), STORM, [half, STORM.files]);
    await pause(down + outage.ms - performance.now());
  } finally {
    await outage.give(first.host);
  }
  const back = performance.now();
  mark(`${outage.name}: host back`);
  const polls = setup.targets.map((target) => stormArrival(join(target.dir, dir), STORM));
  const arrived = (): boolean => polls.every((holds) => holds());
  const t = await pollUntil(() => arrived() || performance.now() - back > CAP_MS, 'every host to hold the storm', CAP_MS * 2, 10);
  mark(`${outage.name}: converged`);
  return { seconds: (Math.min(t - back, CAP_MS)) / 1000, capped: t - back > CAP_MS };
}

/**
 * `count` sshd on as many addresses: each picks a random 127.0.0.N, and inosync's ssh options are given per
 * address, so two hosts on one address would be one host to it (an outage of the other would go unseen).
 */
async function distinctHosts(count: number, after: (fn: () => unknown) => void): Promise<SshHost[]> {
  const hosts: SshHost[] = [];
  while (hosts.length < count) {
    const host = await startSshd({ after });
    if (hosts.some((h) => h.address === host.address)) await host.close();
    else hosts.push(host);
  }
  return hosts;
}

export async function recoveryBenchmarks(work: string, log: (line: string) => void): Promise<Row[]> {
  const cleanups: Array<() => unknown> = [];
  const keepLog = process.env.INOSYNC_BENCH_LOG;
  const mark = (what: string): void => { if (keepLog) appendFileSync(keepLog, `${JSON.stringify({ time: Date.now(), bench: what })}\n`); };
  try {
    const hosts = await distinctHosts(4, (fn) => { cleanups.push(fn); });
    log(`recovery: four sshd (two per agent) on ${hosts.map((h) => `${h.address}:${h.port}`).join(', ')}`);
    const setups = { inosync: makeSetup(work, 'inosync', hosts.slice(0, 2)), lsyncd: makeSetup(work, 'lsyncd', hosts.slice(2)) };
    const ours = await startInosync(work, setups.inosync);
    cleanups.push(() => ours.stop());
    if (keepLog) ours.child.stderr?.on('data', (chunk: Buffer) => appendFileSync(keepLog, chunk));
    const theirs = await startLsyncd(work, setups.lsyncd);
    cleanups.push(() => theirs.stop());
    log('recovery: inosync and lsyncd have done their startup syncs');

    const agents: Array<[string, Agent, Setup]> = [['inosync', ours, setups.inosync], ['lsyncd', theirs, setups.lsyncd]];
    const times = new Map<string, Recovery[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const outage of OUTAGES) {
        for (const [name, , setup] of agents) {
          const run = await recover(setup, outage, round, (what) => mark(`${name} ${what}`));
          log(`recovery: ${name}, host ${outage.name} ${outage.ms / 1000} s, run ${round + 1}/${ROUNDS}: converged ${run.capped ? 'not within ' : ''}${run.seconds.toFixed(2)} s after its return`);
          times.set(`${name} ${outage.name}`, [...times.get(`${name} ${outage.name}`) ?? [], run]);
        }
      }
    }
    const median = (key: string): Recovery => {
      const runs = times.get(key) ?? [];
      return { seconds: percentile(runs.map((r) => r.seconds), 50), capped: runs.some((r) => r.capped) };
    };
    const row = (outage: Outage, what: string, limitS: number): Row => {
      const [ourRun, theirRun] = [median(`inosync ${outage.name}`), median(`lsyncd ${outage.name}`)];
      return {
        metric: `host ${what} ${outage.ms / 1000} s mid-storm of ${STORM.files.toLocaleString('en-US')} files: converged after its return, median of ${ROUNDS}`,
        unit: 's', inosync: ourRun.seconds, anchor: theirRun.seconds, anchorName: 'lsyncd, delay = 0', anchorCapped: theirRun.capped,
        target: { text: `<= ${limitS} s`, met: (r) => r.inosync <= limitS && !ourRun.capped },
      };
    };
    return [row(OUTAGES[0]!, 'stopped', 1), row(OUTAGES[1]!, 'black-holed (packets dropped, no RST)', 2)];
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
