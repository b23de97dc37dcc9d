// Transfers to a real sshd on loopback: hostile names, remote moves, the rsync started ahead for the next
// batch, and the delete fallback for receivers whose rsync rejects --delete-missing-args.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RSYNC_OPTIONS, Transport, type TransportOptions } from '../../src/rsync/transport.js';
import { controlBases } from '../../src/rsync/ssh-master.js';
import { parseTarget } from '../../src/rsync/target.js';
import { compareTrees } from '../helpers/compare.js';
import { childrenNamed, isRunning } from '../helpers/procs.js';
import { startSshd, type SshHost } from '../helpers/sshd.js';
import { bytesPath, makeTree, oddNames, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let host: SshHost;
const closing: Array<() => void | Promise<void>> = [];
before(async () => { host = await startSshd({ after: (fn) => closing.push(fn) }); });
after(async () => { for (const fn of closing) await fn(); });

function setup(t: TestContext, options: Partial<TransportOptions> = {}): { src: string; dst: string; transport: Transport } {
  const src = tempDir(t);
  const dst = tempDir(t);
  const transport = new Transport({ source: src, target: parseTarget(host.spec(dst), host.defaults), timeoutSec: 5, ...options });
  t.after(() => transport.stop());
  return { src, dst, transport };
}

const hostile: Buffer[] = [
  Buffer.from('with space'),
  ...Object.values(oddNames),
  Buffer.from('-'.repeat(1) + 'e ssh evil'),
  Buffer.alloc(255, 0x61),
];

function noPwnedAnywhere(...dirs: string[]): void {
  for (const dir of [...dirs, homedir(), process.cwd(), tmpdir(), '/']) {
    assert.equal(existsSync(join(dir, 'pwned')), false, `a file named pwned appeared in ${dir}`);
  }
}

test('hostile names are created as files and directories, then deleted, byte for byte over ssh', async (t) => {
  const { src, dst, transport } = setup(t);
  assert.equal((await transport.start()).outcome, 'ok');
  for (const name of hostile) {
    writeFileSync(bytesPath(src, name), name);
    mkdirSync(bytesPath(src, Buffer.concat([Buffer.from('d-'), name.subarray(0, 250)])));
    writeFileSync(bytesPath(src, Buffer.concat([Buffer.from('d-'), name.subarray(0, 250)]), name), 'inside');
  }
  const entries = readdirSync(src, { encoding: 'buffer' });
  const files = entries.filter((e) => !e.subarray(0, 2).equals(Buffer.from('d-')));
  const dirs = entries.filter((e) => e.subarray(0, 2).equals(Buffer.from('d-')));

  const sent = await transport.transfer({ paths: files, trees: dirs });
  assert.equal(sent.outcome, 'ok', sent.message);
  assert.deepEqual(await compareTrees(src, dst), []);

  for (const entry of entries) rmSync(bytesPath(src, entry), { recursive: true });
  const deleted = await transport.transfer({ paths: entries, trees: [] });
  assert.equal(deleted.outcome, 'ok', deleted.message);
  assert.deepEqual(readdirSync(dst), []);
  noPwnedAnywhere(src, dst);
});

test('a full sync over ssh mirrors the tree and prunes the target', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'a/b/c', content: 'c' }, { path: 'l', symlinkTo: 'a/b' }]);
  makeTree(dst, ['stale/s']);
  const result = await transport.fullSync();
  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('the shared connection lives in a private directory that stop() removes, master and all', async (t) => {
  const { transport } = setup(t);
  const base = controlBases()[0]!;
  const ours = (): string[] => readdirSync(base).filter((n) => n.startsWith(`inosync-ssh-${process.pid}-`)).map((n) => join(base, n));
  assert.equal((await transport.start()).outcome, 'ok');
  const [dir] = ours();
  assert.ok(dir !== undefined);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const socket = join(dir, 'master');
  assert.equal(spawnSync('ssh', ['-O', 'check', '-o', `ControlPath=${socket}`, 'x']).status, 0);

  await transport.stop();

  assert.deepEqual(ours(), []);
  assert.notEqual(spawnSync('ssh', ['-O', 'check', '-o', `ControlPath=${socket}`, 'x']).status, 0);
  assert.equal((await transport.transfer({ paths: [Buffer.from('x')], trees: [] })).outcome, 'retry', 'a stopped transport connects no more');
});

/** The rsync started ahead for the next batch: a child of this process that appeared after `before`. */
function waitForStandby(before: readonly number[]): Promise<number> {
  return waitFor(() => childrenNamed(process.pid, 'rsync').find((pid) => !before.includes(pid) && isRunning(pid)), { what: 'an rsync started ahead' });
}

/** A transport after its first batch, with the pid of the rsync it then starts ahead. */
async function afterFirstBatch(t: TestContext): Promise<ReturnType<typeof setup> & { standby: number; earlier: number[] }> {
  const transported = setup(t);
  const earlier = childrenNamed(process.pid, 'rsync');
  writeFileSync(join(transported.src, 'first'), '1');
  assert.equal((await transported.transport.transfer({ paths: [Buffer.from('first')], trees: [] })).outcome, 'ok');
  return { ...transported, standby: await waitForStandby(earlier), earlier };
}

test('after a batch, the next batch\'s rsync is started ahead, connected, and the next change goes through it', async (t) => {
  const { src, dst, transport, standby, earlier } = await afterFirstBatch(t);
  writeFileSync(join(src, 'second'), '2');
  const second = await transport.transfer({ paths: [Buffer.from('second')], trees: [] });
  assert.equal(second.outcome, 'ok', second.message);
  assert.equal(isRunning(standby), false, 'the waiting rsync did the batch and ended');
  assert.deepEqual(await compareTrees(src, dst), []);
  await waitForStandby([...earlier, standby]);
});

test('the startup sync starts the first change\'s rsync ahead, and the first change goes through it', async (t) => {
  const { src, dst, transport } = setup(t);
  const earlier = childrenNamed(process.pid, 'rsync');
  assert.equal((await transport.fullSync()).outcome, 'ok');
  const standby = await waitForStandby(earlier);
  writeFileSync(join(src, 'first'), '1');
  const first = await transport.transfer({ paths: [Buffer.from('first')], trees: [] });
  assert.equal(first.outcome, 'ok', first.message);
  assert.equal(isRunning(standby), false, 'the rsync started ahead did the first change and ended');
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('a standby rsync that died while waiting is replaced, and the batch goes through', async (t) => {
  const { src, dst, transport, standby } = await afterFirstBatch(t);
  process.kill(-standby, 'SIGKILL'); // its own process group: its ssh goes too, as when a connection drops
  await waitFor(() => !isRunning(standby), { what: 'the standby to be gone' });
  writeFileSync(join(src, 'second'), '2');
  const second = await transport.transfer({ paths: [Buffer.from('second')], trees: [] });
  assert.equal(second.outcome, 'ok', second.message);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('a standby left unused is ended after a while, and the next change still goes through and starts another', async (t) => {
  const { src, dst, transport, standby, earlier } = await afterFirstBatch(t);
  await waitFor(() => !isRunning(standby), { what: 'the unused standby to be ended', timeoutMs: 20_000 });
  writeFileSync(join(src, 'second'), '2');
  const second = await transport.transfer({ paths: [Buffer.from('second')], trees: [] });
  assert.equal(second.outcome, 'ok', second.message);
  assert.deepEqual(await compareTrees(src, dst), []);
  await waitForStandby([...earlier, standby]);
});

test('stop() ends the rsync waiting for the next batch', async (t) => {
  const { transport, standby } = await afterFirstBatch(t);
  await transport.stop();
  await waitFor(() => !isRunning(standby), { what: 'the standby to end with the transport' });
});

test('a remote move renames a populated directory on the target with no file data sent', async (t) => {
  const { src, dst, transport } = setup(t);
  const name = Buffer.from('moved $(touch pwned)\nname');
  makeTree(src, Array.from({ length: 200 }, (_, i) => ({ path: `old/sub${i % 4}/f${i}`, content: `file ${i}` })));
  assert.equal((await transport.fullSync()).outcome, 'ok');
  renameSync(join(src, 'old'), bytesPath(src, name));

  assert.equal(await transport.remoteMove(Buffer.from('old'), name), true);
  const confirm = await transport.transfer({ paths: [Buffer.from('old')], trees: [name] });

  assert.equal(confirm.outcome, 'ok', confirm.message);
  assert.equal(confirm.sent, 0, 'no file data may travel for a moved directory');
  assert.deepEqual(await compareTrees(src, dst), []);
  noPwnedAnywhere(src, dst);
});

test('a remote move that cannot be done says so, and touches nothing', async (t) => {
  const { dst, transport } = setup(t);
  makeTree(dst, ['there/x', 'taken/y']);
  assert.equal(await transport.remoteMove(Buffer.from('missing'), Buffer.from('new')), false);
  assert.equal(await transport.remoteMove(Buffer.from('there'), Buffer.from('taken')), false, 'never clobbers');
  assert.equal(await transport.remoteMove(Buffer.from('there'), Buffer.from('no/parent')), false);
  assert.equal(await transport.remoteMove(Buffer.from('../escape'), Buffer.from('x')), false);
  assert.deepEqual(readdirSync(dst).sort(), ['taken', 'there']);
});

test('a receiver that rejects --delete-missing-args gets deletes as a filter list, and keeps that method', async (t) => {
  // A real receiving rsync that fails the way the builds of rsync issue #910 do when asked for the flag.
  const rig = tempDir(t);
  const wrapper = join(rig, 'old-rsync');
  const rejections = join(rig, 'rejections');
  writeFileSync(wrapper, [
    '#!/bin/sh',
    'for arg in "$@"; do',
    '  if [ "$arg" = --delete-missing-args ]; then',
    `    echo rejected >> '${rejections}'`,
    '    echo \'rsync: [receiver] invalid file mode 00 for "x": protocol incompatibility\' >&2',
    '    echo \'rsync error: protocol incompatibility (code 2) at flist.c(1083) [receiver=3.2.7]\' >&2',
    '    exit 2',
    '  fi',
    'done',
    'exec rsync "$@"',
    '',
  ].join('\n'));
  chmodSync(wrapper, 0o755);
  const { src, dst, transport } = setup(t, { rsyncOptions: [...DEFAULT_RSYNC_OPTIONS, `--rsync-path=${wrapper}`] });
  const star = Buffer.from('*');
  makeTree(src, [{ path: 'gone/deep/f', content: 'f' }, 'file', 'keep/k', { path: Buffer.concat([Buffer.from('keep/'), star]) }, { path: Buffer.concat([Buffer.from('keep/'), oddNames.newline]) }]);
  assert.equal((await transport.fullSync()).outcome, 'ok');
  rmSync(join(src, 'gone'), { recursive: true });
  rmSync(join(src, 'file'));
  rmSync(bytesPath(src, Buffer.from('keep/'), star));
  rmSync(bytesPath(src, Buffer.from('keep/'), oddNames.newline));
  writeFileSync(join(src, 'new'), 'n');

  const first = await transport.transfer({ paths: [Buffer.from('gone'), Buffer.from('file'), Buffer.concat([Buffer.from('keep/'), star]), Buffer.concat([Buffer.from('keep/'), oddNames.newline]), Buffer.from('new')], trees: [] });
  assert.equal(first.outcome, 'ok', first.message);
  assert.equal(transport.deleteMode, 'filter-list');
  assert.deepEqual(await compareTrees(src, dst), []);

  rmSync(join(src, 'new'));
  const second = await transport.transfer({ paths: [Buffer.from('new')], trees: [] });
  assert.equal(second.outcome, 'ok', second.message);
  assert.deepEqual(await compareTrees(src, dst), []);
  assert.equal(readFileSync(rejections, 'utf8'), 'rejected\n', 'the rejected flag is tried once, not on every batch');
});

test('a host without rsync is a fatal result that says so, not an endless retry', async (t) => {
  const { transport } = setup(t, { rsyncOptions: [...DEFAULT_RSYNC_OPTIONS, '--rsync-path=inosync-no-rsync'] });
  const result = await transport.fullSync();
  assert.equal(result.outcome, 'fatal');
  assert.match(result.message, /rsync is not installed/);
});

test('a host that is down is a retry, not an error, and the next batch after it returns goes through', async (t) => {
  const { src, dst, transport } = setup(t);
  makeTree(src, [{ path: 'f', content: 'x' }]);
  assert.equal((await transport.fullSync()).outcome, 'ok');
  writeFileSync(join(src, 'f'), 'changed while the host was down');

  await host.stop();
  const down = await transport.transfer({ paths: [Buffer.from('f')], trees: [] });
  await host.start();
  assert.equal(down.outcome, 'retry', down.message);

  const back = await transport.transfer({ paths: [Buffer.from('f')], trees: [] });
  assert.equal(back.outcome, 'ok', back.message);
  assert.deepEqual(await compareTrees(src, dst), []);
});

test('a host that hangs makes a transfer return retry within its timeouts, and it recovers', { timeout: 40_000 }, async (t) => {
  const { src, dst, transport } = setup(t, { timeoutSec: 2 });
  makeTree(src, [{ path: 'f', content: 'x' }]);
  assert.equal((await transport.fullSync()).outcome, 'ok');
  writeFileSync(join(src, 'g'), 'during the outage');

  await host.block();
  t.after(() => host.unblock());
  const hung = await transport.transfer({ paths: [Buffer.from('g')], trees: [] });
  t.diagnostic(`while hung: ${hung.message} (exit ${hung.exitCode}, ${Math.round(hung.durationMs)} ms)`);
  assert.equal(hung.outcome, 'retry', hung.message);
  const fresh = new Transport({ source: src, target: parseTarget(host.spec(dst), host.defaults), timeoutSec: 2 });
  t.after(() => fresh.stop());
  const connecting = await fresh.start();
  t.diagnostic(`connecting while hung: ${connecting.message}`);
  assert.equal(connecting.outcome, 'retry', 'a new connection to a hung host times out too');
  await host.unblock();

  // Stalled TCP resumes on its retransmission timer, or the master gives up and is started again: either
  // way a retry (what the engine does) goes through soon.
  await waitFor(async () => (await transport.transfer({ paths: [Buffer.from('g')], trees: [] })).outcome === 'ok', { timeoutMs: 20_000, what: 'a transfer to succeed after unblocking' });
  assert.deepEqual(await compareTrees(src, dst), []);
});
