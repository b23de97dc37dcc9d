// rsync daemon targets: one agent mirrors to a real `rsync --daemon` on loopback, whose module only users
// with a password may write, through both spellings of a daemon target (rsync://user@host:port/module/path
// with --password-file, user@host::module/path with RSYNC_PASSWORD); a wrong password and a read-only
// module are lasting failures that say what to do, while the agent and its other targets carry on.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import { startRsyncd, type RsyncDaemon } from '../helpers/rsyncd.js';
import { waitForSameTree } from '../helpers/compare.js';
import { converged, hostileNames, makeMirror, startAgent, type Agent, type Mirror } from './harness.js';

test('inosync sync mirrors every kind of change to an rsync daemon module, through both spellings of the target', async (t) => {
  // Port 873: the host::module spelling has no port of its own.
  const daemon = await startRsyncd(t, { port: 873 });
  const mirror = await makeMirror(t, { local: 0, ssh: 0 });
  const { src, outside } = mirror;
  // Two users of the module, each password reaching rsync one way only: `backup` by its file (which wins over
  // RSYNC_PASSWORD, here another user's), `web` by RSYNC_PASSWORD.
  const byUrl = daemon.url('by-url');
  mirror.targetArgs.push('--target', byUrl, '--password-file', `${byUrl}=${daemon.passwordFile}`, '--target', daemon.moduleSpec('by-module', daemon.otherUser));
  mirror.dirs.push(join(daemon.dir, 'by-url'), join(daemon.dir, 'by-module'));
  writeFileSync(join(src, 'before.txt'), 'there before the agent started\n');
  // --remote-moves: a daemon has no shell to rename with, so renames fall back to a normal send.
  await startAgent(t, mirror, ['--remote-moves'], { env: { ...process.env, RSYNC_PASSWORD: daemon.otherPassword } });
  await converged(mirror);

  await t.test('create, modify, symlinks and hard links', async () => {
    writeFileSync(join(src, 'a.txt'), 'one\n');
    await converged(mirror);
    writeFileSync(join(src, 'a.txt'), 'two, longer\n');
    symlinkSync('a.txt', join(src, 'link'));
    symlinkSync('/nowhere/at/all', join(src, 'dangling'));
    symlinkSync('../../out/of/the/module', join(src, 'upward'));
    writeFileSync(join(src, 'h1'), 'linked');
    linkSync(join(src, 'h1'), join(src, 'h2'));
    mkdirSync(join(src, 'p/q/r'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(src, 'p/q/r', `f${i}`), `${i}`);
    await converged(mirror);
  });

  await t.test('rename of a file and of a populated directory, moves in and out of the tree', async () => {
    renameSync(join(src, 'a.txt'), join(src, 'b.txt'));
    renameSync(join(src, 'p'), join(src, 'p2'));
    await converged(mirror);
    mkdirSync(join(outside, 'incoming/deep'), { recursive: true });
    writeFileSync(join(outside, 'incoming/deep/file'), 'from outside');
    renameSync(join(outside, 'incoming'), join(src, 'incoming'));
    renameSync(join(src, 'p2'), join(outside, 'gone'));
    await converged(mirror);
  });

  await t.test('deletes: a file, rm -rf of a populated directory, a create-then-delete race', async () => {
    mkdirSync(join(src, 'doomed/a/b'), { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(join(src, 'doomed/a/b', `f${i}`), 'x');
    await converged(mirror);
    rmSync(join(src, 'doomed'), { recursive: true });
    unlinkSync(join(src, 'before.txt'));
    writeFileSync(join(src, 'before.txt'), 'again');
    unlinkSync(join(src, 'before.txt'));
    await converged(mirror);
  });

  await t.test('odd names: spaces, newline, leading dash, *, $(...), non-UTF-8, 255 bytes', () => hostileNames(mirror));
});

/**
 * An agent mirroring to a local directory and to `daemon` (with `passwordFile`): the daemon target must fail
 * for good with a message matching `reason`, while the agent runs on and the local target keeps converging.
 */
async function lastingFailure(t: TestContext, daemon: RsyncDaemon, passwordFile: string, reason: RegExp): Promise<void> {
  const mirror: Mirror = await makeMirror(t, { local: 1, ssh: 0 });
  mirror.targetArgs.push('--target', daemon.url('www'), '--password-file', passwordFile);
  const agent: Agent = await startAgent(t, mirror, [], { env: { ...process.env, RSYNC_PASSWORD: '' } });
  const failed = await agent.waitForLog((l) => l.level >= 50 && l.msg.startsWith('rsync failed in a way retrying will not fix') && reason.test(String(l.error)), 'the lasting failure to be logged');
  assert.match(String(failed.error), /rsyncd\.conf|--password-file/, 'the message says what to change');

  const status = await runCli(['status', '--socket', agent.socket]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /last error: .*rsync daemon on/);
  assert.match(status.stdout, reason);

  writeFileSync(join(mirror.src, 'still-mirrored'), 'the other target carries on');
  await waitForSameTree(mirror.src, mirror.dirs[0]!, { timeoutMs: 15_000 });
  assert.equal(agent.cli.child.exitCode, null, 'the agent keeps running');
  assert.deepEqual(readdirSync(daemon.dir), [], 'nothing reached the module');
}

test('a wrong password is a lasting failure that names the module and the fix; the agent runs on', async (t) => {
  const daemon = await startRsyncd(t);
  const wrong = join(mkdirTemp(daemon), 'wrong');
  writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
  await lastingFailure(t, daemon, wrong, /auth failed/);
});

test('a read-only module is a lasting failure that says so; the agent runs on', async (t) => {
  const daemon = await startRsyncd(t, { readOnly: true });
  await lastingFailure(t, daemon, daemon.passwordFile, /read only/);
});

/** A directory beside the daemon's module (removed with the daemon). */
function mkdirTemp(daemon: RsyncDaemon): string {
  const dir = join(daemon.dir, '..', 'client');
  mkdirSync(dir);
  return dir;
}
