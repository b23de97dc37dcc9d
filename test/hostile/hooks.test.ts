// `--on-sync` hooks are the user's programs, run as root: a run is the program and everything it starts,
// and none of it may outlive its budget, the agent's stop, or the agent itself (even SIGKILLed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processesWithArg } from '../helpers/procs.js';
import { startLoggedCli } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** A duration for sleep(1) no other process uses: how a test finds the sleep its hook started. */
function uniqueSleep(): string {
  return `3600.${process.pid}${Math.floor(Math.random() * 1e6)}`;
}

/** A source, a target and a hook script: BEFORE, then it touches `ran`, then AFTER. */
function layout(t: CleanupContext, before: string, after = ''): { src: string; dst: string; socket: string; hook: string; ran: string } {
  const base = tempDir(t, 'inosync-hooks-');
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  writeFileSync(join(src, 'file'), 'content\n');
  const ran = join(base, 'hook-ran');
  const hook = join(base, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\n${before}\ntouch '${ran}'\n${after}\n`, { mode: 0o755 });
  return { src, dst, socket: join(base, 'inosync.sock'), hook, ran };
}

function killAll(arg: string): void {
  for (const pid of processesWithArg(arg)) process.kill(pid, 'SIGKILL');
}

test('a hook that leaves a process in the background does not hold the stop: the stop completes and the process is gone', async (t) => {
  const sleep = uniqueSleep();
  t.after(() => killAll(sleep));
  const { src, dst, socket, hook, ran } = layout(t, `sleep ${sleep} &`);
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket, '--on-sync', hook, '--drain-timeout', '1']);
  await waitFor(() => existsSync(ran), { what: 'the hook to run', timeoutMs: 20_000 });
  agent.cli.child.kill('SIGTERM');
  // drain (1 s) + hook grace (5 s), with room to spare on a loaded machine; the backgrounded sleep lasts an hour.
  const exited = await Promise.race([agent.cli.exited, new Promise<null>((resolve) => { setTimeout(() => resolve(null), 20_000).unref(); })]);
  assert.deepEqual(exited, { code: 0, signal: null }, `the stop did not complete:\n${agent.cli.stderr}`);
  await waitFor(() => processesWithArg(sleep).length === 0, { what: 'the hook\'s background sleep to be gone' });
});

test('after SIGKILL of the agent, no process of a running hook survives', async (t) => {
  const sleep = uniqueSleep();
  t.after(() => killAll(sleep));
  const { src, dst, socket, hook, ran } = layout(t, `sleep ${sleep} &`, 'wait');
  t.after(() => killAll(hook));
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket, '--on-sync', hook]);
  await waitFor(() => existsSync(ran) && processesWithArg(sleep).length > 0 && processesWithArg(hook).length > 0, { what: 'the hook and its sleep to run', timeoutMs: 20_000 });
  agent.cli.child.kill('SIGKILL');
  await agent.cli.exited;
  await waitFor(() => processesWithArg(sleep).length + processesWithArg(hook).length === 0, { what: 'every process of the hook to be gone' });
  assert.deepEqual([...processesWithArg(sleep), ...processesWithArg(hook)], []);
});
