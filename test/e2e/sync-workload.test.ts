// A seeded random workload (INOSYNC_SEED=N replays one) converging on two ssh hosts and a local target,
// while one host's sshd is stopped part of the way through and started again.
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { converged, makeMirror, startAgent } from './harness.js';
import { seedFromEnv, Workload } from './workload.js';

/** Lets the agent run between rounds of operations: pacing of the workload, not a wait for a result. */
const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

test('a random workload converges on every target, also on a host that was down part of the time', async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`seed ${seed} (replay with INOSYNC_SEED=${seed})`);
  try {
    const mirror = await makeMirror(t, { local: 1, ssh: 2 });
    const [, downHost] = mirror.hosts;
    const work = new Workload(mirror.src, mirror.outside, seed);
    work.run(300);
    const agent = await startAgent(t, mirror);
    // INOSYNC_E2E_LOGS=DIR keeps the agent's log of each run, for replaying a failure.
    t.after(() => { if (process.env.INOSYNC_E2E_LOGS) writeFileSync(join(process.env.INOSYNC_E2E_LOGS, `workload-${seed}.log`), agent.cli.stderr); });
    for (let round = 0; round < 10; round++) {
      work.run(150);
      await breathe();
    }
    await converged(mirror);

    await downHost!.stop();
    for (let round = 0; round < 10; round++) {
      work.run(150);
      await breathe();
    }
    // The others kept up while one host was down...
    await converged({ ...mirror, dirs: [mirror.dirs[0]!, mirror.dirs[1]!] });
    // ...and it gets everything it missed once it is back.
    await downHost!.start();
    await converged(mirror, { timeoutMs: 30_000 });
  } catch (error) {
    throw new Error(`seed ${seed}: ${(error as Error).message}`, { cause: error });
  }
});
