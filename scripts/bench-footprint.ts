// What the agent costs around the hot path, beside lsyncd on the same two loopback ssh hosts in the same run:
// - idle: RSS and process count of the whole process tree (agent, rsync and ssh children, detached ssh
//   masters) after IDLE_S seconds with nothing to do, and the CPU it used meanwhile; the same for a second
//   inosync run with the systemd unit's Environment= lines (scripts/inosync.service), as it runs in service;
//   and where each tree's RSS is (by process, file-backed pages apart from anonymous ones);
// - churn: CHURN_OPS random operations (bench-workload.ts) spread over CHURN_S seconds: CPU of the tree from
//   the first operation until every host holds the source, and how long after the last operation that was.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareTrees } from '../test/helpers/compare.js';
import { startSshd, type SshHost } from '../test/helpers/sshd.js';
import { unitEnvironment } from '../test/helpers/unit-env.js';
import { benchEnv, type TreeUsage } from './bench-proc.js';
import { startInosync, startLsyncd, type Agent, type Setup } from './bench-sync.js';
import { ratio, type Row } from './bench-table.js';
import { paced, Workload } from './bench-workload.js';

const IDLE_S = 30;
/**
 * The idle window opens once each agent is down to its own process: inosync ends an unused standby rsync after
 * 10 s and its ssh master closes 15 s later, and ending them is work, not idling. Waited for this long at most.
 */
const SETTLE_CAP_S = 60;
const CHURN_OPS = 2000;
const CHURN_S = 24;
/** An agent that has not converged this long after the last operation is stopped there (a bound, not a figure). */
const CONVERGE_CAP_S = 30;

/** A source and one empty directory per host, under work/name. */
export function emptySetup(work: string, name: string, hosts: readonly SshHost[]): Setup {
  const src = join(work, name, 'src');
  mkdirSync(src, { recursive: true });
  return {
    src,
    targets: hosts.map((host, i) => {
      const dir = join(work, name, `host${i}`);
      mkdirSync(dir);
      return { host, dir };
    }),
  };
}

/** Whether every host's tree equals the source (types, contents, modes, names as bytes). */
export async function converged(setup: Setup): Promise<boolean> {
  for (const { dir } of setup.targets) {
    const diffs = await compareTrees(setup.src, dir).catch(() => ['listed while it changed']);
    if (diffs.length > 0) return false;
  }
  return true;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Idle { end: TreeUsage; cpuPercent: number }

/** Both agents idle side by side for IDLE_S seconds, from the moment both are down to their own process. */
async function idle(agents: Agent[]): Promise<Idle[]> {
  const settleBy = performance.now() + SETTLE_CAP_S * 1000;
  while (agents.some((a) => a.usage().processes > 1) && performance.now() < settleBy) await pause(500);
  const before = agents.map((a) => a.usage());
  await pause(IDLE_S * 1000);
  return agents.map((a, i) => {
    const end = a.usage();
    return { end, cpuPercent: ((end.cpu - (before[i]?.cpu ?? 0)) / IDLE_S) * 100 };
  });
}

interface Churn { cpu: number; afterLastS: number; converged: boolean }

async function churn(agent: Agent, setup: Setup): Promise<Churn> {
  const cpu0 = agent.usage().cpu;
  await paced(new Workload(setup.src, 13), CHURN_OPS, CHURN_S);
  const t0 = performance.now();
  for (;;) {
    // Timed from the start of the comparison that found the trees equal: they were equal by then.
    const checked = performance.now();
    if (await converged(setup)) return { cpu: agent.usage().cpu - cpu0, afterLastS: (checked - t0) / 1000, converged: true };
    if (checked - t0 > CONVERGE_CAP_S * 1000) return { cpu: agent.usage().cpu - cpu0, afterLastS: CONVERGE_CAP_S, converged: false };
    await pause(50);
  }
}

export async function footprintBenchmarks(work: string, log: (line: string) => void): Promise<Row[]> {
  const cleanups: Array<() => unknown> = [];
  try {
    const hosts = await Promise.all([0, 1].map(() => startSshd({ after: (fn) => { cleanups.push(fn); } })));
    const setups = { inosync: emptySetup(work, 'inosync', hosts), lsyncd: emptySetup(work, 'lsyncd', hosts) };
    const ours = await startInosync(work, setups.inosync);
    cleanups.push(() => ours.stop());
    const theirs = await startLsyncd(work, setups.lsyncd);
    cleanups.push(() => theirs.stop());
    // Its own directory, for a status socket of its own (named after the bench's pid).
    mkdirSync(join(work, 'service'));
    const service = await startInosync(join(work, 'service'), emptySetup(work, 'service', hosts), [], { ...benchEnv, ...unitEnvironment() });
    cleanups.push(() => service.stop());
    log(`footprint: the agents up on ${hosts.map((h) => `${h.address}:${h.port}`).join(', ')}, idle ${IDLE_S} s once each is down to its own process (${SETTLE_CAP_S} s at most)`);
    const [ourIdle, theirIdle, serviceIdle] = await idle([ours, theirs, service]);
    if (!ourIdle || !theirIdle || !serviceIdle) throw new Error('idle: no figures');
    const show = (x: Idle): string => `${x.end.rssMiB.toFixed(1)} MiB in ${x.end.processes} processes, ${x.cpuPercent.toFixed(3)} % CPU`;
    log(`footprint: idle, inosync ${show(ourIdle)}; under the unit's environment ${show(serviceIdle)}; lsyncd ${show(theirIdle)}`);
    log(`footprint: idle RSS (MiB) by process, inosync ${ours.breakdown()}; under the unit's environment ${service.breakdown()}; lsyncd ${theirs.breakdown()}`);
    await service.stop();
    const ourChurn = await churn(ours, setups.inosync);
    const theirChurn = await churn(theirs, setups.lsyncd);
    const shown = (x: Churn): string => `${x.cpu.toFixed(2)} CPU s, ${x.converged ? `converged ${x.afterLastS.toFixed(2)} s after the last op` : `not converged ${CONVERGE_CAP_S} s after the last op`}`;
    log(`footprint: ${CHURN_OPS} random ops in ${CHURN_S} s, inosync ${shown(ourChurn)}; lsyncd ${shown(theirChurn)}`);
    const lsync = 'lsyncd, delay = 0';
    const quiet = `idle ${IDLE_S} s, children ended`;
    const ops = `${CHURN_OPS.toLocaleString('en-US')} random ops in ${CHURN_S} s`;
    return [
      { metric: `${quiet}: RSS of the process tree`, unit: 'MiB', inosync: ourIdle.end.rssMiB, anchor: theirIdle.end.rssMiB, anchorName: lsync, target: { text: '<= 64 MiB', met: (row) => row.inosync <= 64 } },
      { metric: `${quiet}: RSS of the process tree, with the systemd unit's environment`, unit: 'MiB', inosync: serviceIdle.end.rssMiB, anchor: theirIdle.end.rssMiB, anchorName: lsync },
      { metric: `${quiet}: processes`, unit: 'processes', inosync: ourIdle.end.processes, anchor: theirIdle.end.processes, anchorName: lsync },
      // A tick of the clock is 10 ms: 0.034 % over 30 s is one tick, the resolution of this figure.
      { metric: `${quiet}: CPU of the tree`, unit: '%', inosync: ourIdle.cpuPercent, anchor: theirIdle.cpuPercent, anchorName: lsync, target: { text: `< 1 tick (${(1 / IDLE_S).toFixed(3)} %)`, met: (row) => row.inosync < 1 / IDLE_S } },
      { metric: `${ops}: CPU of the tree`, unit: 's', inosync: ourChurn.cpu, anchor: theirChurn.cpu, anchorName: lsync, anchorCapped: !theirChurn.converged, target: { text: '<= 1.00x', met: (row) => ratio(row) <= 1 } },
      {
        metric: `${ops}: converged after the last op`, unit: 's', inosync: ourChurn.converged ? ourChurn.afterLastS : Infinity, anchor: theirChurn.afterLastS, anchorName: `${lsync}${theirChurn.converged ? '' : ', never converged'}`,
        anchorCapped: !theirChurn.converged, target: { text: '<= 1 s', met: (row) => row.inosync <= 1 },
      },
    ];
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
