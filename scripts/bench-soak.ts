// `npm run bench -- soak [--minutes N]`: the agent under a random workload (bench-workload.ts, hostile names
// included) for N minutes (default 30) against two loopback ssh hosts, one of them stopped for RESTART_S
// seconds halfway. Prints every minute the RSS of the whole process tree (and of the agent alone) and its
// CPU; at the end whether every host converged to the source (tree comparison) and whether RSS plateaued.
//
// Plateau: the agent's own RSS is sampled every SAMPLE_S seconds; over the last two thirds of the run the
// mean of the last third may exceed the mean of the middle third by at most max(PLATEAU_MIB, PLATEAU_SHARE
// of it). The tree's RSS is printed too but not judged: it moves with the rsync children alive at the sample.
import { compareTrees, describe } from '../test/helpers/compare.js';
import { startSshd } from '../test/helpers/sshd.js';
import { emptySetup, converged } from './bench-footprint.js';
import { treeUsage } from './bench-proc.js';
import { startInosync } from './bench-sync.js';
import { paced, Workload } from './bench-workload.js';

const OPS_PER_S = 20;
const SAMPLE_S = 10;
const RESTART_S = 10;
const PLATEAU_MIB = 4;
const PLATEAU_SHARE = 0.05;
const CONVERGE_CAP_S = 60;

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Plateau { middleMiB: number; lastMiB: number; allowedMiB: number; flat: boolean }

/** The plateau verdict on RSS samples taken at a steady pace over the whole run. */
export function plateau(samples: readonly number[]): Plateau {
  const third = Math.floor(samples.length / 3);
  const middleMiB = mean(samples.slice(third, 2 * third));
  const lastMiB = mean(samples.slice(2 * third));
  const allowedMiB = Math.max(PLATEAU_MIB, PLATEAU_SHARE * middleMiB);
  return { middleMiB, lastMiB, allowedMiB, flat: lastMiB - middleMiB <= allowedMiB };
}

/** Runs the soak; resolves with true when every host converged and RSS plateaued. */
export async function soak(work: string, minutes: number, log: (line: string) => void): Promise<boolean> {
  const cleanups: Array<() => unknown> = [];
  try {
    const hosts = await Promise.all([0, 1].map(() => startSshd({ after: (fn) => { cleanups.push(fn); } })));
    const setup = emptySetup(work, 'soak', hosts);
    const agent = await startInosync(work, setup);
    cleanups.push(() => agent.stop());
    const pid = agent.child.pid ?? 0;
    log(`soak: ${minutes} min, ${OPS_PER_S} random ops/s, hosts ${hosts.map((h) => `${h.address}:${h.port}`).join(', ')}; ${hosts[1]?.address} stopped for ${RESTART_S} s halfway`);
    const workload = new Workload(setup.src, 29);
    const samples: number[] = [];
    const totalS = minutes * 60;
    let minuteStart = agent.usage();
    let restarted = false;
    const t0 = performance.now();
    for (let s = 0; s < totalS; s += SAMPLE_S) {
      if (!restarted && s >= totalS / 2) {
        restarted = true;
        await hosts[1]?.stop();
        log(`soak: ${hosts[1]?.address} stopped`);
        await paced(workload, OPS_PER_S * RESTART_S, RESTART_S);
        await hosts[1]?.start();
        log(`soak: ${hosts[1]?.address} started again`);
      }
      await paced(workload, OPS_PER_S * SAMPLE_S, SAMPLE_S);
      samples.push(treeUsage(pid, undefined, false).rssMiB);
      const elapsed = (performance.now() - t0) / 1000;
      if (samples.length % (60 / SAMPLE_S) === 0) {
        const now = agent.usage();
        const cpu = now.cpu - minuteStart.cpu;
        log(`soak: minute ${Math.round(elapsed / 60)}: tree ${now.rssMiB.toFixed(1)} MiB in ${now.processes} processes, agent ${samples.at(-1)?.toFixed(1)} MiB; CPU ${cpu.toFixed(2)} s this minute (${(cpu / 60 * 100).toFixed(1)} % of a core)`);
        minuteStart = now;
      }
    }
    const done = Object.values(workload.done).reduce((a, b) => a + b, 0);
    log(`soak: ${done} operations done (${Object.entries(workload.done).map(([op, n]) => `${op} ${n}`).join(', ')}); waiting up to ${CONVERGE_CAP_S} s for the hosts`);
    const last = performance.now();
    while (!(await converged(setup)) && performance.now() - last < CONVERGE_CAP_S * 1000) await pause(200);
    let allConverged = true;
    for (const { host, dir } of setup.targets) {
      const diffs = await compareTrees(setup.src, dir);
      allConverged &&= diffs.length === 0;
      log(`soak: ${host.address}: ${diffs.length === 0 ? `converged ${((performance.now() - last) / 1000).toFixed(1)} s after the last op or earlier` : `NOT converged: ${describe(diffs, 10)}`}`);
    }
    const verdict = plateau(samples);
    log(`soak: agent RSS plateau (mean of the last third within max(${PLATEAU_MIB} MiB, ${PLATEAU_SHARE * 100} %) of the middle third's): middle ${verdict.middleMiB.toFixed(1)} MiB, last ${verdict.lastMiB.toFixed(1)} MiB, allowed +${verdict.allowedMiB.toFixed(1)} MiB: ${verdict.flat ? 'plateaued' : 'GREW'}`);
    log(`soak: ${allConverged && verdict.flat ? 'PASS' : 'FAIL'}`);
    return allConverged && verdict.flat;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
