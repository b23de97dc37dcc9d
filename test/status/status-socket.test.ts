// The status socket and `inosync status`: what a client sees, with and without an agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/logger.js';
import { startStatusServer } from '../../src/status/server.js';
import type { AgentStatus } from '../../src/status/types.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';

const snapshot = (): AgentStatus => ({
  pid: 4242,
  version: '0.1.0',
  startedAt: new Date(Date.now() - 65_000).toISOString(),
  syncs: [{
    source: '/srv/www',
    watches: 12,
    counters: { events: 99, overflows: 0, rescans: 1 },
    hosts: [
      { target: '/backup/www', state: 'idle', pending: 0, inFlight: null, lastSuccess: new Date().toISOString(), lagMs: null, failures: 0, lastError: null, cause: null, counters: { batches: 3, files: 7, bytes: 700, failures: 0 } },
      { target: 'mirror@127.0.0.9:/srv/www', state: 'retrying', pending: 5, inFlight: { paths: 2, full: false, startedAt: new Date().toISOString() }, lastSuccess: null, lagMs: 4000, failures: 3, lastError: 'ssh: connect to host 127.0.0.9 port 22: Connection refused', cause: null, counters: { batches: 0, files: 0, bytes: 0, failures: 3 } },
      { target: 'mirror@127.0.0.8:/srv/ro', state: 'retrying', pending: 1, inFlight: null, lastSuccess: null, lagMs: 9000, failures: 2, lastError: '0 changed; partial transfer: rsync: [receiver] mkstemp "/srv/ro/.a.Xy" failed: Read-only file system (30)', cause: { kind: 'read-only', summary: 'the target filesystem is read-only', fix: 'remount it read-write' }, counters: { batches: 0, files: 0, bytes: 0, failures: 2 } },
    ],
  }],
});

test('status prints per sync and per host what the agent reports, and --json the same data', async (t) => {
  const socket = join(tempDir(t), 'run', 'inosync.sock');
  const server = await startStatusServer(socket, snapshot, silentLogger);
  t.after(() => server.close());
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  assert.equal(statSync(join(socket, '..')).mode & 0o777, 0o700);

  const text = await runCli(['status', '--socket', socket]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^\/srv\/www {2}\(12 watches, 99 events, 0 overflows, 1 rescans\)$/m);
  assert.match(text.stdout, /^ {2}mirror@127\.0\.0\.9:\/srv\/www\n {4}retrying +pending 5 +in flight 2 paths for \S+ +last success never +lag 4s +failures 3\n {4}last error: ssh: connect/m);
  assert.match(text.stdout, /^ {4}idle +pending 0 +in flight none +last success \S+ ago +lag - +failures 0$/m);
  assert.match(text.stdout, /^ {2}mirror@127\.0\.0\.8:\/srv\/ro\n.*\n {4}cause: the target filesystem is read-only \[read-only\]\n {4}fix: remount it read-write\n {4}last error: .*Read-only file system \(30\)$/m);

  const json = await runCli(['status', '--json', '--socket', socket]);
  assert.equal(json.code, 0, json.stderr);
  const status = JSON.parse(json.stdout) as AgentStatus;
  assert.equal(status.syncs[0]?.hosts[1]?.state, 'retrying');
  assert.equal(status.pid, 4242);
});

test('status says no agent is running, with exit code 3, when nothing answers', async (t) => {
  const socket = join(tempDir(t), 'inosync.sock');
  const result = await runCli(['status', '--socket', socket]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /no inosync agent is running \(nothing answers on .*inosync\.sock\)/);
  assert.match(result.stderr, /fix: Start one/);
});

test('a second agent on the same socket is refused; a stale socket is taken over', async (t) => {
  const socket = join(tempDir(t), 'inosync.sock');
  const first = await startStatusServer(socket, snapshot, silentLogger);
  await assert.rejects(startStatusServer(socket, snapshot, silentLogger), /another inosync agent is already running/);
  await first.close();
  // A socket file left by an agent that was SIGKILLed: the file stays, nobody listens on it.
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => holder.stdout.once('data', resolve));
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('close', resolve));
  assert.ok(existsSync(socket));
  const second = await startStatusServer(socket, snapshot, silentLogger);
  t.after(() => second.close());
  assert.equal((await runCli(['status', '--socket', socket])).code, 0);
});
