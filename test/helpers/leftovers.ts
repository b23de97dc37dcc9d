// What an agent leaves behind once it has stopped: processes it started (rsync, ssh and its detached
// ControlMaster, hooks and their children) and files in its temp directory (ssh control dirs, hook dirs,
// verify dirs, source aliases, skipped-rules files). Issue 12: a full agent run leaves neither.
//
// How a process is known to be the agent's, even once it is reparented to init or has left its session:
//   - its environment holds a tag only this agent's process tree inherits (the agent hands its own
//     environment to every child; an ssh master forked into the background keeps it too);
//   - or it was seen, while the agent ran, below the agent in /proc (pid and start time, so a reused pid is
//     not taken for it), or it shares a process group or session that such a descendant leads.
// An agent the test SIGKILLs on purpose is held to less: see the hook below.
// Files: the agent runs with TMPDIR set to a private directory (unless the test sets one itself) that must
// hold nothing new once it has stopped; /run/inosync (the default socket's directory) must gain nothing.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CleanupContext } from './tmp.js';
import { waitFor } from './wait.js';

const TAG = 'INOSYNC_TEST_LEFTOVER_TAG';
const RUN_DIR = '/run/inosync';

interface ProcInfo { pid: number; comm: string; state: string; ppid: number; pgid: number; sid: number; start: string }

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { pid, comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3]), start: rest[19]! };
  } catch {
    return undefined; // exited meanwhile
  }
}

function allProcs(): ProcInfo[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((e) => readProc(Number(e)) ?? []);
}

function hasTag(pid: number, tag: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${TAG}=${tag}`);
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    return '?';
  }
}

function entries(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

export interface LeftoverGuard {
  /** The environment to start the agent with: the caller's plus the tag and (unless given) a private TMPDIR. */
  env: NodeJS.ProcessEnv;
  /** Starts following the agent's process tree; call right after spawning it. */
  follow(child: ChildProcess): void;
}

/**
 * Guards one agent run. When the test ends the agent is stopped as an operator would (SIGTERM, and a wait
 * for it to exit), then the test fails if any of its processes is still alive or its temp directory is not
 * as it was. Register it before anything that SIGKILLs the agent in cleanup: hooks run in order.
 */
export function guardLeftovers(t: CleanupContext, baseEnv: NodeJS.ProcessEnv = process.env): LeftoverGuard {
  const tag = randomBytes(8).toString('hex');
  const ownTmp = baseEnv.TMPDIR === undefined || baseEnv.TMPDIR === process.env.TMPDIR ? mkdtempSync(join(tmpdir(), 'inosync-run-')) : undefined;
  const tmp = ownTmp ?? (baseEnv.TMPDIR as string);
  const tmpBefore = entries(tmp);
  const runBefore = entries(RUN_DIR);
  const seen = new Map<string, ProcInfo>(); // `${pid}:${start}` -> process
  let child: ChildProcess | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let runnerGroups = new Set<number>();

  const sample = (): void => {
    if (child?.pid === undefined) return;
    const procs = allProcs();
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    for (const p of procs) {
      for (let up = byPid.get(p.ppid), hops = 0; up !== undefined && hops < 64; up = byPid.get(up.ppid), hops++) {
        if (up.pid === child.pid) {
          seen.set(`${p.pid}:${p.start}`, p);
          break;
        }
      }
    }
  };

  const leftovers = (): ProcInfo[] => {
    sample();
    // Groups and sessions the agent's descendants made of their own (not the test runner's, which the agent shares).
    const groups = new Set([...seen.values()].flatMap((p) => [p.pgid, p.sid]).filter((id) => !runnerGroups.has(id)));
    return allProcs().filter((p) => p.state !== 'Z' && p.pid !== process.pid
      && (seen.has(`${p.pid}:${p.start}`) || groups.has(p.pgid) || groups.has(p.sid) || hasTag(p.pid, tag)));
  };

  t.after(async () => {
    clearInterval(sampler);
    const problems: string[] = [];
    // An agent the test SIGKILLed could clean nothing up: its temp directory is the next start's to clear,
    // and its ssh master goes by its idle timeout (ssh-master.ts). Its other processes must still be gone.
    const killed = child?.signalCode === 'SIGKILL';
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      sample();
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(resolve, 15_000, false))]);
      if (!stopped) {
        problems.push(`the agent (pid ${child.pid}) did not exit within 15 s of SIGTERM`);
        child.kill('SIGKILL');
        await exited;
      }
    }
    // A child that got its signal may take a moment to go.
    const left = await waitFor(() => leftovers().length === 0 || undefined, { what: 'the agent\'s processes to exit', timeoutMs: 5_000 })
      .then(() => [], () => leftovers());
    for (const p of left) {
      const master = killed && p.comm === 'ssh' && commandLine(p.pid).includes('ControlMaster=yes');
      if (!master) problems.push(`process left behind: pid ${p.pid} (${p.comm}, ppid ${p.ppid}): ${commandLine(p.pid)}`);
      try {
        process.kill(p.pid, 'SIGKILL'); // this run's process: do not let it spoil the next test
      } catch {
        // gone meanwhile
      }
    }
    for (const name of killed ? [] : entries(tmp)) if (!tmpBefore.has(name)) problems.push(`left in its TMPDIR ${tmp}: ${name}`);
    // Other test files run agents at the same time: only the default socket and what is named after this agent count here.
    const ours = (name: string): boolean => name === 'inosync.sock' || name.includes(`-${child?.pid}-`);
    for (const name of entries(RUN_DIR)) if (!runBefore.has(name) && ours(name)) problems.push(`left in ${RUN_DIR}: ${name}`);
    if (ownTmp !== undefined) rmSync(ownTmp, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`the agent left things behind:\n  ${problems.join('\n  ')}`);
  });

  return {
    env: { ...baseEnv, [TAG]: tag, ...(ownTmp === undefined ? {} : { TMPDIR: ownTmp }) },
    follow(started) {
      child = started;
      const self = readProc(process.pid);
      runnerGroups = new Set(self === undefined ? [] : [self.pgid, self.sid]);
      sampler = setInterval(sample, 50);
      sampler.unref();
      started.once('exit', () => clearInterval(sampler));
    },
  };
}
