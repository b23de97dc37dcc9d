// The watchdog around every rsync/ssh child: stdin in, lines out, and the whole process group killed on
// abort, on a deadline, or when the child stops reading anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { prepareChild, runChild } from '../../src/rsync/child.js';
import { childrenNamed, isRunning } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

test('stdin is delivered and stdout comes back line by line, bytes intact', async () => {
  const lines: Buffer[] = [];
  const result = await runChild({ command: 'cat', args: [], stdin: Buffer.from('a\nb\xff\nlast', 'latin1'), onStdoutLine: (l) => lines.push(l) });
  assert.equal(result.exitCode, 0);
  assert.deepEqual(lines.map((l) => l.toString('latin1')), ['a', 'b\xff', 'last']);
});

test('a child that reads nothing for the stall limit is killed, and says so', async () => {
  const result = await runChild({ command: 'sleep', args: ['60'], stallMs: 1500 });
  assert.equal(result.killed, 'stalled');
  assert.equal(result.exitCode, null);
});

test('a child past its deadline is killed', async () => {
  const result = await runChild({ command: 'sleep', args: ['60'], deadlineMs: 200 });
  assert.equal(result.killed, 'deadline');
});

test('abort kills the child and everything it started', async () => {
  const controller = new AbortController();
  let grandchild = 0;
  const running = runChild({
    command: 'sh', args: ['-c', 'sleep 60 & echo $!; wait'], signal: controller.signal,
    onStdoutLine: (line) => { grandchild = Number(line.toString()); controller.abort(); },
  });
  const result = await running;
  assert.equal(result.killed, 'aborted');
  assert.ok(grandchild > 0);
  await waitFor(() => !existsSync(`/proc/${grandchild}`) || /\) Z /.test(readStat(grandchild)), { what: 'the grandchild to die' });
});

test('a program that does not exist is a result, not a throw', async () => {
  const result = await runChild({ command: 'inosync-no-such-program', args: [] });
  assert.ok(result.spawnError);
});

test('a child dies with the agent that started it, even one killed outright', async (t) => {
  const childModule = new URL('../../src/rsync/child.js', import.meta.url).href;
  const agent = spawn(process.execPath, ['--input-type=module', '-e', `
    import { prepareChild } from ${JSON.stringify(childModule)};
    prepareChild({ command: 'sleep', args: ['60'] });
    setInterval(() => undefined, 1000);
  `], { stdio: 'ignore' });
  t.after(() => { agent.kill('SIGKILL'); });
  let sleeper = 0;
  await waitFor(() => (sleeper = childrenNamed(agent.pid ?? 0, 'sleep')[0] ?? 0) > 0, { what: 'the agent to start its child' });
  agent.kill('SIGKILL');
  await once(agent, 'exit');
  await waitFor(() => !isRunning(sleeper), { what: 'the child to die with its agent' });
});

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return ') Z ';
  }
}

test('a child discarded before it was fed is killed outright; one aborted while it runs is asked to stop first', async (t) => {
  const dir = tempDir(t);
  // Leaves a file when asked to stop (SIGTERM), none when killed (SIGKILL); says "ready" once it listens.
  const spec = (mark: string, ready: () => void): Parameters<typeof prepareChild>[0] => ({
    command: process.execPath,
    args: ['-e', `process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(mark)}, ''); process.exit(1); }); process.stdin.resume(); setInterval(() => {}, 1000); console.log('ready');`],
    onStdoutLine: (line) => { if (line.toString() === 'ready') ready(); },
  });
  let unfedReady = false;
  const unfed = prepareChild(spec(join(dir, 'unfed'), () => { unfedReady = true; }));
  await waitFor(() => unfedReady, { what: 'the unfed child to listen' });
  await unfed.discard();
  assert.equal(unfed.waiting, false);
  assert.equal(existsSync(join(dir, 'unfed')), false);

  let fedReady = false;
  const fed = prepareChild(spec(join(dir, 'fed'), () => { fedReady = true; }));
  const aborting = new AbortController();
  const running = fed.run(Buffer.from('list'), aborting.signal);
  await waitFor(() => fedReady, { what: 'the fed child to listen' });
  aborting.abort();
  assert.equal((await running).killed, 'aborted');
  assert.equal(existsSync(join(dir, 'fed')), true);
});
