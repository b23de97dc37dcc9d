// Signals sent to a root agent at any moment: from its first instant, through its startup, during its drain.
// None may end it uncleanly or open Node's inspector (a debugger on 127.0.0.1:9229 that runs any code it is
// sent, as root). Real processes through the installed command (test/helpers/run-cli.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { catchesSignal } from '../helpers/procs.js';
import { startLoggedCli, type LoggedCli } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const SIGUSR1 = 10;

/** A source with enough directories that arming its watches takes a while, an empty target, a socket path. */
function layout(t: CleanupContext, directories = 0): { base: string; src: string; dst: string; socket: string } {
  const base = tempDir(t, 'inosync-signals-');
  const src = join(base, 'src');
  for (let i = 0; i < directories; i++) mkdirSync(join(src, `d${i % 50}`, `e${i}`), { recursive: true });
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'file'), 'content\n');
  const dst = join(base, 'dst');
  mkdirSync(dst);
  return { base, src, dst, socket: join(base, 'inosync.sock') };
}

/** Sends `signal` to the process every few milliseconds until stopped or it exits. */
function keepSignalling(agent: LoggedCli, signal: NodeJS.Signals): { stop(): void } {
  const timer = setInterval(() => {
    if (agent.cli.child.exitCode === null && agent.cli.child.signalCode === null) agent.cli.child.kill(signal);
  }, 2);
  return { stop: () => clearInterval(timer) };
}

/** True when something accepts a connection on 127.0.0.1:PORT. */
function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** What the agent wrote to stderr from its first log line on (Node's own lines before it are its start). */
function stderrOfAgent(agent: LoggedCli): string {
  return agent.cli.stderr.slice(Math.max(0, agent.cli.stderr.indexOf('{')));
}

async function stopsCleanly(agent: LoggedCli): Promise<void> {
  agent.cli.child.kill('SIGTERM');
  const { code, signal } = await agent.cli.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, agent.cli.stderr);
}

test('SIGUSR1 sent again and again from the start of the agent never leaves the inspector open; the agent runs, then stops cleanly', async (t) => {
  const { src, dst, socket } = layout(t, 2000);
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket]);
  const pid = agent.cli.child.pid as number;
  // Until Node has installed its own handler, SIGUSR1's default action would end any process, Node or not.
  await waitFor(() => catchesSignal(pid, SIGUSR1) || agent.cli.child.exitCode !== null, { what: 'node to handle SIGUSR1', intervalMs: 1 });
  const usr1 = keepSignalling(agent, 'SIGUSR1');
  try {
    await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run', 30_000);
    // The signals that came while it started are acted on once it runs: one full resync.
    await agent.waitForLog((l) => l.msg === 'full resync of every target' && l.reason === 'SIGUSR1', 'the resync SIGUSR1 asks for');
  } finally {
    usr1.stop();
  }
  assert.equal(await listens(9229), false, `an inspector listens on 127.0.0.1:9229:\n${agent.cli.stderr}`);
  assert.doesNotMatch(stderrOfAgent(agent), /Debugger listening/);
  await stopsCleanly(agent);
});

test('SIGHUP during startup (what `systemctl reload` sends) does not end the agent: the reload is done once it runs', async (t) => {
  const { src, dst, socket } = layout(t, 3000);
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket]);
  // The status socket is the first thing the agent's start opens; its watches are armed after it.
  await waitFor(() => existsSync(socket) || agent.cli.child.exitCode !== null, { what: 'the agent to start starting', intervalMs: 1, timeoutMs: 30_000 });
  const hup = keepSignalling(agent, 'SIGHUP');
  try {
    await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run', 30_000);
  } finally {
    hup.stop();
  }
  await agent.waitForLog((l) => l.msg === 'SIGHUP: config reloaded', 'the reload SIGHUP asked for');
  await stopsCleanly(agent);
});

test('SIGUSR1 during the drain does not end the agent: it is logged as ignored and the drain completes', async (t) => {
  const { base, src, dst, socket } = layout(t);
  const ran = join(base, 'hook-ran');
  const hook = join(base, 'hook.sh');
  // A hook still running when the agent is told to stop: the stop waits for it (within its grace).
  writeFileSync(hook, `#!/bin/sh\ntouch '${ran}'\nsleep 2\n`, { mode: 0o755 });
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket, '--on-sync', hook]);
  await waitFor(() => existsSync(ran), { what: 'the hook to run', timeoutMs: 20_000 });
  agent.cli.child.kill('SIGTERM');
  await agent.waitForLog((l) => l.msg.startsWith('stopping'), 'the drain to begin');
  const usr1 = keepSignalling(agent, 'SIGUSR1');
  const { code, signal } = await agent.cli.exited;
  usr1.stop();
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, agent.cli.stderr);
  assert.ok(agent.logs().some((l) => l.msg === 'SIGUSR1 ignored: stopping'), agent.cli.stderr);
  assert.doesNotMatch(agent.cli.stderr, /Debugger listening/);
});
