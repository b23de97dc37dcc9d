// Paths the agent writes to, binds or removes are not trusted for their names: a file, directory or symlink
// someone put there is refused and left alone, never deleted or written through.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlBases } from '../../src/rsync/ssh-master.js';
import { converged, makeMirror, startAgent } from '../e2e/harness.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';

/** `inosync sync` with its status socket at `socket`: it must refuse before it syncs anything. */
async function syncWithSocket(t: TestContext, socket: string): Promise<{ code: number | null; stderr: string; dst: string }> {
  const base = tempDir(t, 'inosync-written-');
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  writeFileSync(join(src, 'f'), 'f');
  const result = await runCli(['sync', '--source', src, '--target', dst, '--socket', socket], { timeoutMs: 15_000 });
  return { ...result, dst };
}

test('--socket naming a regular file is refused with exit 2 and the file is left as it was', async (t) => {
  const file = join(tempDir(t), 'precious');
  writeFileSync(file, 'keep me');
  const result = await syncWithSocket(t, file);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /socket path .*precious is a regular file: it is left alone/);
  assert.match(result.stderr, /fix: Give another path with --socket PATH/);
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
  assert.deepEqual(readdirSync(result.dst), [], 'nothing was synced');
});

test('--socket naming a directory or a symlink is refused with exit 2 and left as it was', async (t) => {
  const dir = join(tempDir(t), 'a-dir');
  mkdirSync(dir);
  writeFileSync(join(dir, 'inside'), 'x');
  const asDir = await syncWithSocket(t, dir);
  assert.equal(asDir.code, 2, asDir.stderr);
  assert.match(asDir.stderr, /is a directory: it is left alone/);
  assert.deepEqual(readdirSync(dir), ['inside']);

  const link = join(tempDir(t), 'a-link');
  symlinkSync(join(dir, 'inside'), link);
  const asLink = await syncWithSocket(t, link);
  assert.equal(asLink.code, 2, asLink.stderr);
  assert.match(asLink.stderr, /is a symlink: it is left alone/);
  assert.equal(readlinkSync(link), join(dir, 'inside'));
  assert.equal(readFileSync(join(dir, 'inside'), 'utf8'), 'x');
});

test('a --socket path over 107 bytes is refused with exit 2 before anything is created', async (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 's'.repeat(120 - dir.length - 1));
  assert.equal(Buffer.byteLength(socket), 120);
  const result = await syncWithSocket(t, socket);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /is 120 bytes long; a unix socket path holds at most 107/);
  assert.deepEqual(readdirSync(dir), []);
});

test('limits --persist never writes through a symlink planted at a temporary name, nor through one at the file itself', async (t) => {
  const dir = tempDir(t);
  const victim = join(tempDir(t), 'victim');
  writeFileSync(victim, 'untouched');
  // In a pid namespace of its own the command is pid 1: its temporary names cannot hide behind an unknown pid.
  for (let pid = 1; pid <= 20; pid++) symlinkSync(victim, join(dir, `60-inosync.conf.${pid}.tmp`));
  const persisted = await runCli(['limits', '--persist', '--sysctl-dir', dir, '--watches', '524288'], { prefix: ['unshare', '--pid', '--fork', '--'] });
  assert.equal(persisted.code, 0, persisted.stderr);
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  const written = join(dir, '60-inosync.conf');
  assert.ok(lstatSync(written).isFile(), 'the file is a file of its own, not a planted symlink renamed into place');
  assert.equal(lstatSync(written).mode & 0o777, 0o644);
  assert.match(readFileSync(written, 'utf8'), /^fs\.inotify\.max_user_watches = 524288$/m);

  rmSync(written);
  symlinkSync(victim, written);
  const refused = await runCli(['limits', '--persist', '--sysctl-dir', dir, '--watches', '524288']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /60-inosync\.conf is a symlink: it is not written through or replaced/);
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(readlinkSync(written), victim);
});

test('with a TMPDIR too long for an ssh control socket, an ssh target is still mirrored; look-alike control directories are left alone', { timeout: 60_000 }, async (t) => {
  const mirror = await makeMirror(t, { local: 0, ssh: 1 });
  const longTmp = join(tempDir(t), 't'.repeat(60), 'u'.repeat(30));
  mkdirSync(longTmp, { recursive: true });
  // Named like the control directory of a dead agent, but not ours to remove: not private, or not a directory.
  const deadPid = 4_000_000;
  const planted = [longTmp, controlBases()[0]!].flatMap((base) => {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    const open = join(base, `inosync-ssh-${deadPid}-aaaaaa`);
    const link = join(base, `inosync-ssh-${deadPid}-bbbbbb`);
    mkdirSync(open, { mode: 0o755 });
    writeFileSync(join(open, 'keep'), 'x');
    symlinkSync(open, link);
    t.after(() => { rmSync(open, { recursive: true, force: true }); rmSync(link, { force: true }); });
    return [open, link];
  });
  const agent = await startAgent(t, mirror, [], { env: { ...process.env, TMPDIR: longTmp } });
  writeFileSync(join(mirror.src, 'through-ssh'), 'x');
  await converged(mirror);
  for (const path of planted) assert.ok(existsSync(path), `${path} was left alone`);
  assert.equal(agent.cli.child.exitCode, null);
});
