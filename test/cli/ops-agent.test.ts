// The agent as an operator runs it: watch budget, live control by signals, status and metrics under load,
// post-sync hooks, periodic verification. Real processes, real rsync, local and loopback-ssh targets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForSameTree } from '../helpers/compare.js';
import { runCli, startLoggedCli, type LoggedCli } from '../helpers/run-cli.js';
import { startSshd } from '../helpers/sshd.js';
import { bytesPath, makeTree, oddNames, tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Starts `inosync sync ARGS` and resolves once the agent reports it is running. */
async function startAgent(t: CleanupContext, args: string[]): Promise<LoggedCli> {
  const agent = startLoggedCli(t, ['sync', '--retry-max-ms', '1000', ...args]);
  await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  return agent;
}

function layout(t: CleanupContext, targets: number): { base: string; src: string; dsts: string[]; socket: string } {
  const base = tempDir(t, 'inosync-ops-');
  const src = join(base, 'src');
  mkdirSync(src);
  const dsts = Array.from({ length: targets }, (_, i) => join(base, `dst${i}`));
  for (const dst of dsts) mkdirSync(dst);
  return { base, src, dsts, socket: join(base, 'run', 'inosync.sock') };
}

/** Writes a file every few milliseconds until stopped: changes keep flowing during the test's action. */
function keepWriting(dir: string): { stop(): Promise<number> } {
  let n = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      // Same-size rewrites within one second: rsync's quick check must not skip them.
      writeFileSync(join(dir, `flow-${n % 50}`), `write ${String(n).padStart(6, '0')}\n`);
      appendFileSync(join(dir, 'log'), `line ${n}\n`);
      n += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return { stop: async () => { running = false; await loop; return n; } };
}

async function stopAgent(agent: LoggedCli): Promise<void> {
  agent.cli.child.kill('SIGTERM');
  const { code } = await agent.cli.exited;
  assert.equal(code, 0, agent.cli.stderr);
}

test('the sync refuses to start, with the advice of `inosync limits`, when the watch budget is too small', async (t) => {
  const { src, dsts, socket } = layout(t, 1);
  makeTree(src, Array.from({ length: 40 }, (_, i) => `d${i}/file`));
  const result = await runCli(['sync', '--source', src, '--target', dsts[0] as string, '--socket', socket], {
    // A user namespace of its own, whose watch limit (20) only this agent sees.
    prefix: ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 20 > /proc/sys/user/max_inotify_watches && exec "$@"', 'sh'],
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /the source trees need 41 inotify watches \(one per directory\) but only [\d,]+ are left for this user \(user\.max_inotify_watches=20,/);
  assert.match(result.stderr, /fix: Raise the limit: sudo inosync limits --apply --persist \S+; or by hand: sudo sysctl -w user\.max_inotify_watches=\d+/);
  assert.match(result.stderr, /Or start with --allow-partial-watch/);
  assert.deepEqual(readdirSync(dsts[0] as string), [], 'nothing was synced');
});

test('--allow-partial-watch leaves the largest subtree unwatched, says so, and covers it by periodic full syncs', async (t) => {
  const { src, dsts, socket } = layout(t, 1);
  const dst = dsts[0] as string;
  makeTree(src, ['small/a/', ...Array.from({ length: 30 }, (_, i) => `big/d${i}/`)]);
  // 34 directories under a namespace limit of 25: leaving big/ (31) out is the smallest cut that fits.
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket, '--allow-partial-watch', '--verify-every', '1s'], {
    prefix: ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 25 > /proc/sys/user/max_inotify_watches && exec "$@"', 'sh'],
  });
  const warning = await agent.waitForLog((l) => l.msg.startsWith('watch limit too low: 1 subtree(s) are not watched'), 'the warning');
  assert.deepEqual([warning.subtrees, warning.unwatchedDirectories], [['big'], 31]);
  await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  const status = JSON.parse((await runCli(['status', '--json', '--socket', socket])).stdout) as { syncs: Array<{ watches: number }> };
  assert.equal(status.syncs[0]?.watches, 3);

  writeFileSync(join(src, 'small', 'a', 'watched'), 'seen by inotify');
  writeFileSync(join(src, 'big', 'd7', 'unwatched'), 'seen by the periodic full sync');
  await waitForSameTree(src, dst, { timeoutMs: 10_000 });
  await stopAgent(agent);
});

test('SIGHUP adds a target from the edited config; it converges while changes keep flowing', async (t) => {
  const { base, src, dsts, socket } = layout(t, 2);
  makeTree(src, ['a/b/c', { path: 'top', content: 'top' }]);
  const config = join(base, 'inosync.yaml');
  const write = (targets: string[]): void => writeFileSync(config, `socket: ${socket}\nsyncs:\n  - source: ${src}\n    targets: [${targets.join(', ')}]\n    quietMs: 10\n`);
  write([dsts[0] as string]);
  const agent = await startAgent(t, ['--config', config]);
  const writer = keepWriting(src);
  await agent.waitForLog((l) => l.msg === 'synced' && l.kind === 'batch', 'a first batch');

  write([dsts[0] as string, dsts[1] as string]);
  agent.cli.child.kill('SIGHUP');
  await agent.waitForLog((l) => l.msg === 'SIGHUP: config reloaded', 'the reload');
  await agent.waitForLog((l) => l.msg === 'synced' && l.host === dsts[1] && l.kind === 'batch', 'a batch to the new target after its full sync');
  const writes = await writer.stop();

  await waitForSameTree(src, dsts[0] as string, { timeoutMs: 10_000 });
  await waitForSameTree(src, dsts[1] as string, { timeoutMs: 10_000 });
  assert.ok(writes > 20);
  await stopAgent(agent);
});

test('SIGHUP with a config that has mistakes keeps the running one; a good one removes a target, restarts a changed sync and adds a sync', async (t) => {
  const { base, src, dsts, socket } = layout(t, 3);
  const src2 = join(base, 'src2');
  makeTree(src, [{ path: 'one', content: '1' }]);
  makeTree(src2, [{ path: 'other', content: 'o' }]);
  const config = join(base, 'inosync.yaml');
  writeFileSync(config, `socket: ${socket}\nsyncs:\n  - { source: ${src}, targets: [${dsts[0]}, ${dsts[1]}] }\n`);
  const agent = await startAgent(t, ['--config', config]);
  for (const dst of [dsts[0], dsts[1]]) await waitForSameTree(src, dst as string);

  writeFileSync(config, `socket: ${socket}\nsyncs:\n  - { source: ${src}, targets: [], quietMs: 5 }\n`);
  agent.cli.child.kill('SIGHUP');
  const refused = await agent.waitForLog((l) => l.msg.startsWith('SIGHUP: the new config is not used'), 'the bad config to be refused');
  assert.match(String(refused.problem), /syncs\[0\]\.targets: must list at least one target/);
  writeFileSync(join(src, 'while-refused'), 'still syncing');
  await waitForSameTree(src, dsts[1] as string);

  writeFileSync(config, `socket: ${socket}\nsyncs:\n  - { source: ${src}, targets: [${dsts[0]}], quietMs: 10 }\n  - { source: ${src2}, targets: [${dsts[2]}] }\n`);
  agent.cli.child.kill('SIGHUP');
  await agent.waitForLog((l) => l.msg === 'SIGHUP: config reloaded', 'the reload');
  writeFileSync(join(src, 'after'), 'after the reload');
  await waitForSameTree(src, dsts[0] as string);
  await waitForSameTree(src2, dsts[2] as string);
  assert.ok(agent.logs().some((l) => l.msg.startsWith('sync restarted with its new options')));
  const status = JSON.parse((await runCli(['status', '--json', '--socket', socket])).stdout) as { syncs: Array<{ source: string; hosts: Array<{ target: string }> }> };
  assert.deepEqual(status.syncs.map((s) => [s.source, s.hosts.map((h) => h.target)]), [[src, [dsts[0]]], [src2, [dsts[2]]]]);
  assert.deepEqual(readdirSync(dsts[1] as string).sort(), ['one', 'while-refused'], 'the removed target gets nothing more');
  await stopAgent(agent);
});

test('SIGUSR1 repairs a target changed behind the agent\'s back', async (t) => {
  const { src, dsts, socket } = layout(t, 1);
  const dst = dsts[0] as string;
  makeTree(src, ['keep/one', { path: 'keep/two', content: 'two' }, { path: 'three', content: 'three' }]);
  const agent = await startAgent(t, ['--source', src, '--target', dst, '--socket', socket]);
  await waitForSameTree(src, dst);

  rmSync(join(dst, 'keep'), { recursive: true });
  writeFileSync(join(dst, 'three'), 'tampered, longer');
  writeFileSync(join(dst, 'intruder'), 'x');
  agent.cli.child.kill('SIGUSR1');

  await waitForSameTree(src, dst, { timeoutMs: 10_000 });
  await agent.waitForLog((l) => l.msg === 'full resync of every target' && l.reason === 'SIGUSR1', 'the resync log line');
  await stopAgent(agent);
});

test('--verify-every repairs a tampered target on its own and logs what it repaired', async (t) => {
  const { src, dsts, socket } = layout(t, 1);
  const dst = dsts[0] as string;
  makeTree(src, [{ path: 'a', content: 'a' }]);
  const agent = await startAgent(t, ['--source', src, '--target', dst, '--socket', socket, '--verify-every', '1s']);
  await waitForSameTree(src, dst);
  writeFileSync(join(dst, 'intruder'), 'x');
  const line = await agent.waitForLog((l) => /^verification repaired/.test(l.msg), 'a verification that repairs');
  assert.equal(line.deleted, 1);
  await waitForSameTree(src, dst);
  await stopAgent(agent);
});

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function metric(body: string, name: string, labels: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('status and /metrics answer while a storm of changes runs', async (t) => {
  const { src, dsts, socket } = layout(t, 2);
  const agent = await startAgent(t, ['--source', src, '--target', dsts[0] as string, '--target', dsts[1] as string, '--socket', socket, '--metrics', '127.0.0.1:0']);
  const running = agent.logs().find((l) => l.msg.startsWith('agent running'));
  const metricsUrl = `http://${String(running?.metrics)}/metrics`;

  let done = false;
  const storm = (async () => {
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(src, `d${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `${d}/${f}\n`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    done = true;
  })();
  let answers = 0;
  while (!done || answers < 2) {
    const [status, metrics] = await Promise.all([runCli(['status', '--json', '--socket', socket]), httpGet(metricsUrl)]);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { syncs: Array<{ source: string; hosts: Array<{ target: string; state: string }> }> };
    assert.deepEqual(report.syncs[0]?.hosts.map((h) => h.target), dsts);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^# TYPE inosync_pending_paths gauge$/m);
    assert.notEqual(metric(metrics.body, 'inosync_watches', `source="${src}"`), undefined);
    answers += 1;
  }
  await storm;
  for (const dst of dsts) await waitForSameTree(src, dst, { timeoutMs: 20_000 });

  const after = await httpGet(metricsUrl);
  assert.ok((metric(after.body, 'inosync_events_total', `source="${src}"`) ?? 0) >= 2000);
  assert.equal(metric(after.body, 'inosync_watches', `source="${src}"`), 21);
  for (const dst of dsts) {
    assert.ok((metric(after.body, 'inosync_batches_total', `target="${dst}"`) ?? 0) >= 1);
    assert.ok((metric(after.body, 'inosync_files_sent_total', `target="${dst}"`) ?? 0) >= 2000);
  }
  const text = await runCli(['status', '--socket', socket]);
  assert.match(text.stdout, new RegExp(`^ {4}idle +pending 0 +in flight none +last success \\S+ ago +lag - +failures 0$`, 'm'));
  await stopAgent(agent);
});

test('--on-sync runs after each successful batch with the host and the exact paths, without a shell', async (t) => {
  const { base, src, socket } = layout(t, 0);
  const host = await startSshd(t);
  const remote = join(base, 'remote');
  mkdirSync(remote);
  const seen = join(base, 'seen');
  mkdirSync(seen);
  const hook = join(base, 'hook.mjs');
  writeFileSync(hook, `
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
const e = process.env;
const paths = readFileSync(e.INOSYNC_PATHS_FILE).toString('base64');
const out = process.argv[2] + '/' + String(Math.random()).slice(2); // not the pid: each run is pid 1 of its own namespace
writeFileSync(out + '.tmp', JSON.stringify({ host: e.INOSYNC_HOST, target: e.INOSYNC_TARGET, count: e.INOSYNC_COUNT, full: e.INOSYNC_FULL, paths }));
renameSync(out + '.tmp', out + '.json');
`);
  const agent = await startAgent(t, [
    '--source', src, '--target', host.spec(remote), '--socket', socket,
    '--ssh-port', String(host.port), '--ssh-identity', host.identity, ...host.sshOptions.filter((o) => o !== '-o').flatMap((o) => ['--ssh-option', o]),
    '--on-sync', `${process.execPath} ${hook} '${seen}'`,
  ]);
  await agent.waitForLog((l) => l.msg === 'synced' && l.kind === 'full', 'the startup full sync');

  const names = [Buffer.from('plain'), oddNames.newline, oddNames.shell, oddNames.nonUtf8];
  for (const name of names) writeFileSync(bytesPath(src, name), 'x');

  const reported = await waitFor(() => {
    const runs = readdirSync(seen).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(seen, f), 'utf8')) as { host: string; target: string; count: string; full: string; paths: string });
    const paths = runs.filter((r) => r.full === '0').flatMap((r) => Buffer.from(r.paths, 'base64').toString('latin1').split('\0').filter(Boolean));
    return names.every((n) => paths.includes(n.toString('latin1'))) ? runs : undefined;
  }, { what: 'the hook to see every path', timeoutMs: 10_000 });
  for (const run of reported) {
    assert.equal(run.host, host.address);
    assert.equal(run.target, host.spec(remote));
    assert.equal(Number(run.count), Buffer.from(run.paths, 'base64').toString('latin1').split('\0').filter(Boolean).length);
  }
  assert.ok(reported.some((r) => r.full === '1'), 'the startup full sync ran the hook too');
  assert.deepEqual(readdirSync(base).filter((f) => f.includes('pwned')), []);
  await stopAgent(agent);
});
