// Hostile clients of the agent's two servers (the status socket, --metrics) and a machine out of
// descriptors: whatever a client sends, however many connect and stay silent, the agent keeps running,
// keeps answering, and keeps syncing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { waitForSameTree } from '../helpers/compare.js';
import { runCli, startLoggedCli, type LoggedCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

interface Running {
  agent: LoggedCli;
  src: string;
  dst: string;
  socket: string;
  metrics: { host: string; port: number };
}

/** An agent mirroring a fresh source to a local target, with a status socket and metrics on loopback. */
async function startAgent(t: TestContext, prefix: string[] = []): Promise<Running> {
  const base = tempDir(t, 'inosync-hostile-');
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  const socket = join(base, 'status.sock');
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket, '--metrics', '127.0.0.1:0'], { prefix });
  const running = await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  const [host, port] = String(running.metrics).split(':') as [string, string];
  return { agent, src, dst, socket, metrics: { host, port: Number(port) } };
}

/** Sends raw bytes on the status socket and reads until the agent closes: its whole answer. */
async function rawStatus(socket: string, bytes: string | Buffer, endAfter = false): Promise<string> {
  const client = connect(socket);
  let answer = '';
  client.setEncoding('utf8');
  client.on('data', (chunk: string) => { answer += chunk; });
  client.on('error', () => undefined);
  await once(client, 'connect');
  client.write(bytes);
  if (endAfter) client.end();
  await once(client, 'close');
  return answer;
}

async function assertStillServing(running: Running): Promise<void> {
  assert.equal(running.agent.cli.child.exitCode, null, `the agent exited:\n${running.agent.cli.stderr}`);
  // While every client slot is held, a new client is turned away: silent ones are dropped within seconds.
  await waitFor(async () => (await runCli(['status', '--json', '--socket', running.socket])).code === 0, { what: 'the status socket to answer', timeoutMs: 30_000 });
  const url = `http://${running.metrics.host}:${running.metrics.port}/metrics`;
  await waitFor(async () => (await fetch(url).catch(() => undefined))?.status === 200, { what: 'the metrics to answer', timeoutMs: 30_000 });
  assert.equal(running.agent.cli.child.exitCode, null, `the agent exited:\n${running.agent.cli.stderr}`);
  const name = `after-${process.hrtime.bigint()}`;
  writeFileSync(join(running.src, name), name);
  await waitForSameTree(running.src, running.dst, { timeoutMs: 15_000 });
}

/** Opens `count` connections that never send anything; resolves once each has connected or been refused. */
async function idleClients(t: TestContext, count: number, open: () => Socket): Promise<void> {
  const clients: Socket[] = [];
  t.after(() => { for (const client of clients) client.destroy(); });
  await Promise.all(Array.from({ length: count }, async () => {
    const client = open();
    clients.push(client);
    client.on('error', () => undefined);
    await Promise.race([once(client, 'connect'), once(client, 'close')]).catch(() => undefined);
  }));
}

test('a status request of null, or any other JSON that is not a request, gets an error answer and the agent runs on', { timeout: 60_000 }, async (t) => {
  const running = await startAgent(t);
  for (const line of ['null', '42', '"status"', '[]', '{"type":null}', '{"type":{"toString":1}}', '{}']) {
    const answer = JSON.parse(await rawStatus(running.socket, `${line}\n`)) as { ok: boolean; error?: string };
    assert.equal(answer.ok, false, line);
    assert.match(answer.error ?? '', /request/, line);
  }
  await assertStillServing(running);
});

test('a fuzz of the status protocol (random bytes, malformed JSON, oversized lines, half lines then close) leaves the agent answering', { timeout: 60_000 }, async (t) => {
  const running = await startAgent(t);
  const shapes: Array<() => [string | Buffer, boolean]> = [
    () => [Buffer.concat([randomBytes(1 + Math.floor(Math.random() * 200)), Buffer.from('\n')]), false],
    () => [`${JSON.stringify({ type: 'status' }).slice(0, Math.floor(Math.random() * 17))}\n`, false],
    () => [`{"type":"status"${'x'.repeat(Math.floor(Math.random() * 50))}\n`, false],
    () => [`${['null', 'true', '0', '"status"', '[null]', '{"type":[]}'][Math.floor(Math.random() * 6)]!}\n`, false],
    () => ['x'.repeat(5000 + Math.floor(Math.random() * 5000)), false],
    () => [`${'['.repeat(3000)}\n`, false],
    () => ['{"type":"sta', true],
    () => [randomBytes(64), true],
  ];
  for (let i = 0; i < 240; i++) {
    const [bytes, endAfter] = shapes[i % shapes.length]!();
    await rawStatus(running.socket, bytes, endAfter);
  }
  await assertStillServing(running);
});

test('thousands of idle connections to the status socket and to --metrics, with the agent at 256 descriptors, do not stop it syncing', { timeout: 90_000 }, async (t) => {
  const running = await startAgent(t, ['prlimit', '--nofile=256:256', '--']);
  await idleClients(t, 2000, () => connect(running.socket));
  await idleClients(t, 2000, () => connect(running.metrics.port, running.metrics.host));
  await assertStillServing(running);
});

test('a client silent on the status socket is dropped within seconds', { timeout: 60_000 }, async (t) => {
  const running = await startAgent(t);
  const client = connect(running.socket);
  client.on('error', () => undefined);
  await once(client, 'connect');
  await waitFor(() => client.destroyed || client.readableEnded, { what: 'the agent to drop the silent client', timeoutMs: 15_000 });
  await assertStillServing(running);
});

test('metrics answers GET /metrics only: other methods, long URLs and garbage get an error, and the agent runs on', { timeout: 60_000 }, async (t) => {
  const running = await startAgent(t);
  const url = `http://${running.metrics.host}:${running.metrics.port}`;
  assert.equal((await fetch(`${url}/metrics`, { method: 'POST', body: 'x' })).status, 405);
  assert.equal((await fetch(`${url}/${'a'.repeat(5000)}`)).status, 404);
  for (let i = 0; i < 50; i++) {
    const client = connect(running.metrics.port, running.metrics.host);
    client.on('error', () => undefined);
    await once(client, 'connect');
    client.resume();
    client.end(randomBytes(1 + Math.floor(Math.random() * 500)));
    await once(client, 'close');
  }
  await assertStillServing(running);
});

test('out of descriptors, starting rsync is a retry result, not a crash', { timeout: 60_000 }, () => {
  const child = new URL('../../src/rsync/child.js', import.meta.url).href;
  const codes = new URL('../../src/rsync/exit-codes.js', import.meta.url).href;
  const script = `
    import { openSync } from 'node:fs';
    import { runChild } from ${JSON.stringify(child)};
    import { classifySpawnError } from ${JSON.stringify(codes)};
    try { for (;;) openSync('/dev/null', 'r'); } catch {}
    const result = await runChild({ command: 'true', args: [] });
    console.log(JSON.stringify({ code: result.spawnError?.code, outcome: classifySpawnError(result.spawnError).outcome }));
  `;
  const run = spawnSync('prlimit', ['--nofile=64:64', '--', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { code: 'EMFILE', outcome: 'retry' });
});
