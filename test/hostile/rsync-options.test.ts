// Hostile and careless rsync options and remote paths (issue 12, items 4 and 5): user rsync options are read
// with rsync's own grammar and held to an allow-list, from flags and config alike; a remote target path never
// reaches the remote shell with a character it would interpret. Real processes, real rsync, loopback sshd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InosyncError } from '../../src/errors.js';
import { checkRsyncOptions, rsyncOptionsFromFlag } from '../../src/safety/rsync-options.js';
import { waitForSameTree } from '../helpers/compare.js';
import { runCli, startCli, startLoggedCli, type LoggedCli } from '../helpers/run-cli.js';
import { startSshd } from '../helpers/sshd.js';
import { makeTree, tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

function layout(t: CleanupContext): { base: string; src: string; dst: string; socket: string } {
  const base = tempDir(t, 'inosync-rsyncopts-');
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(dst);
  makeTree(src, [{ path: 'a/file', content: 'a' }, { path: 'top', content: 'top' }]);
  return { base, src, dst, socket: join(base, 'inosync.sock') };
}

/** Every file below `dir` with its content: what "untouched" is checked against. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[join(entry.parentPath, entry.name).slice(dir.length)] = readFileSync(join(entry.parentPath, entry.name), 'utf8');
  }
  return files;
}

async function startAgent(t: CleanupContext, args: string[]): Promise<LoggedCli> {
  const agent = startLoggedCli(t, ['sync', '--retry-max-ms', '1000', ...args], { leftovers: true });
  await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  return agent;
}

async function stopAgent(agent: LoggedCli): Promise<void> {
  agent.cli.child.kill('SIGTERM');
  const { code } = await agent.cli.exited;
  assert.equal(code, 0, agent.cli.stderr);
}

const refusedBy = (option: string) => (error: unknown): boolean => {
  assert.ok(error instanceof InosyncError, String(error));
  assert.equal(error.exitCode, 2);
  assert.ok(error.message.includes(`rsync option "${option}"`), error.message);
  assert.match(error.fix, /Remove it from/);
  return true;
};

// --- the grammar and the allow-list (pure logic) ---

test('options are read as rsync reads them: bundles, values attached or in the next word, even one starting with "-"', () => {
  const accepted: string[][] = [
    ['-aHAX', '-z'],
    ['-a', '--no-perms', '--no-o', '--numeric-ids', '--fake-super'],
    ['-a', '--chmod', '-w', '--chown=www:www'],
    ['-@', '-1'], ['-a@-1'], ['--modify-window=2'],
    ['-aB1024'], ['-B', '1024'], ['--compress-level', '9', '--zc=zstd', '--cc', 'xxh128'],
    ['-a', '--rsync-path=sudo rsync', '--bwlimit=10M', '--safe-links', '--partial', '-v', '--stats'],
  ];
  for (const words of accepted) assert.deepEqual([...checkRsyncOptions(words, '--rsync-opts')], words);
});

const bypasses: Array<[string[], string]> = [
  // from the issue
  [['-a', '--remove-sent-files'], '--remove-sent-files'],
  [['-an'], '-n'],
  [['-avn'], '-n'],
  [['-aR'], '-R'],
  [['-aessh -i /root/key'], '-e'],
  [['-a0'], '-0'],
  [['-f-_f'], '-f'],
  [['--only-write-batch=/tmp/batch'], '--only-write-batch'],
  [['--del'], '--del'],
  // the rest of the classes
  [['--delete-excluded'], '--delete-excluded'],
  [['-delete'], '-d'], // popt: -d -e "lete", not --delete
  [['-aL'], '-L'], [['--copy-unsafe-links'], '--copy-unsafe-links'], [['-ak'], '-k'], [['-K'], '-K'],
  [['-au'], '-u'], [['--existing'], '--existing'], [['--ignore-existing'], '--ignore-existing'],
  [['--max-size=1k'], '--max-size'], [['--min-size', '1'], '--min-size'],
  [['-ab'], '-b'], [['--backup-dir=/tmp/b'], '--backup-dir'], [['--write-batch=/tmp/b'], '--write-batch'],
  [['--log-file=/etc/x'], '--log-file'], [['-T', '/tmp'], '-T'], [['--temp-dir=/tmp'], '--temp-dir'],
  [['--link-dest=/etc'], '--link-dest'], [['--compare-dest=/etc'], '--compare-dest'], [['--copy-dest=/etc'], '--copy-dest'],
  [['--partial-dir=/tmp/p'], '--partial-dir'], [['--daemon'], '--daemon'], [['--config=/tmp/c'], '--config'],
  [['--server'], '--server'], [['--sender'], '--sender'], [['--timeout=1'], '--timeout'], [['--rsh=ssh'], '--rsh'],
  [['--files-from=/etc/passwd'], '--files-from'], [['--filter=- *'], '--filter'], [['-F'], '-F'], [['-C'], '-C'],
  [['--dry-run'], '--dry-run'], [['--list-only'], '--list-only'], [['-M--delete'], '-M'], [['--inplace'], '--inplace'],
  [['-ar'], '-r'], [['--no-relative'], '--no-relative'], [['--out-format=%n'], '--out-format'], [['-ai'], '-i'],
  [['--write-devices'], '--write-devices'], [['--no-such-option'], '--no-such-option'], [['-aQ'], '-Q'],
  // words rsync would take as paths, and grammar errors
  [['-a', '/etc/'], '/etc/'], [['--', '/etc/'], '--'], [['-a', ''], ''], [['--chmod'], '--chmod'], [['-aB'], '-B'],
  [['--archive=yes'], '--archive'], [['--rsync-path'], '--rsync-path'],
];

for (const [words, option] of bypasses) {
  test(`${JSON.stringify(words)} is refused, naming ${option}`, () => {
    assert.throws(() => checkRsyncOptions(words, '--rsync-opts'), refusedBy(option));
  });
}

test('a flag value is split as a shell would quote it, never by a shell', () => {
  assert.deepEqual([...rsyncOptionsFromFlag(`-aHAX --rsync-path='sudo rsync' --chmod="D755,F644" -z`)], ['-aHAX', '--rsync-path=sudo rsync', '--chmod=D755,F644', '-z']);
  assert.throws(() => rsyncOptionsFromFlag('-a $(rm -rf /)'), refusedBy('$(rm'));
  assert.throws(() => rsyncOptionsFromFlag(`-a --rsync-path='sudo rsync`), /unclosed '/);
  assert.throws(() => rsyncOptionsFromFlag('  '), /--rsync-opts is empty/);
});

// --- the command line ---

test('each bypass of the issue is refused by the CLI with exit 2, and the source is untouched', async (t) => {
  const { src, dst, socket } = layout(t);
  const before = snapshot(src);
  const values = ['-a --remove-sent-files', '-an', '-avn', '-aR', '-ae.', '-a0', '-f-_f', `--only-write-batch=${join(dst, 'batch')}`, '--del'];
  for (const [i, value] of values.entries()) {
    // Both spellings, alternately: --rsync-opts=VALUE and --rsync-opts VALUE.
    const flag = i % 2 === 0 ? [`--rsync-opts=${value}`] : ['--rsync-opts', value];
    const result = await runCli(['sync', '-s', src, '-t', dst, '--socket', socket, ...flag], { timeoutMs: 8000 });
    assert.equal(result.code, 2, `${value}: ${result.stderr}`);
    assert.match(result.stderr, /rsync option "[^"]+".* in --rsync-opts is refused: it /, value);
    assert.match(result.stderr, /fix: Remove it from --rsync-opts/);
  }
  assert.deepEqual(snapshot(src), before);
  assert.deepEqual(readdirSync(dst), []);
});

test('--rsync-opts "-aHAX -z" and --rsync-opts="-a -z" are both taken, and the target converges with them', async (t) => {
  for (const flag of [['--rsync-opts', '-aHAX -z'], ['--rsync-opts=-a -z']]) {
    const { src, dst, socket } = layout(t);
    const agent = await startAgent(t, ['-s', src, '-t', dst, '--socket', socket, ...flag]);
    await waitForSameTree(src, dst);
    writeFileSync(join(src, 'a', 'new'), 'new');
    rmSync(join(src, 'top'));
    await waitForSameTree(src, dst);
    await stopAgent(agent);
  }
});

test('a flag that takes a value takes the next word even when it starts with "-": -t -oops gets the target\'s own message', async () => {
  const result = await runCli(['sync', '-s', '/nonexistent', '-t', '-oops']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /target "-oops": starts with "-" and would be read as an option/);
});

test('a config file\'s rsyncOptions are checked the same way', async (t) => {
  const { base, src, dst, socket } = layout(t);
  const before = snapshot(src);
  const config = join(base, 'inosync.json');
  writeFileSync(config, JSON.stringify({ socket, syncs: [{ source: src, targets: [dst], rsyncOptions: ['-a', '--remove-sent-files'] }] }));
  for (const command of ['sync', 'check']) {
    const result = await runCli([command, '--config', config], { timeoutMs: 8000 });
    assert.equal(result.code, 2, `${command}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`rsync option "--remove-sent-files" in rsyncOptions of the sync of ${src} is refused: it removes files from the source`));
  }
  assert.deepEqual(snapshot(src), before);
  assert.deepEqual(readdirSync(dst), []);
});

test('a SIGHUP reload whose rsyncOptions are refused keeps the running options, and the source keeps its files', async (t) => {
  const { base, src, dst, socket } = layout(t);
  const config = join(base, 'inosync.json');
  const write = (rsyncOptions: string[]): void => writeFileSync(config, JSON.stringify({ socket, syncs: [{ source: src, targets: [dst], rsyncOptions }] }));
  write(['-a']);
  const agent = await startAgent(t, ['--config', config]);
  await waitForSameTree(src, dst);
  write(['-a', '--remove-sent-files']);
  agent.cli.child.kill('SIGHUP');
  const refused = await agent.waitForLog((l) => l.msg.startsWith('SIGHUP: the new config is not used'), 'the reload to be refused');
  assert.match(String(refused.problem), /--remove-sent-files/);
  writeFileSync(join(src, 'after-reload'), 'kept');
  await waitForSameTree(src, dst);
  assert.equal(readFileSync(join(src, 'after-reload'), 'utf8'), 'kept');
  await stopAgent(agent);
});

// --- remote paths ---

test('a remote target path with "*" is refused (exit 2), and nothing is written into the sibling the glob would match', async (t) => {
  const host = await startSshd(t);
  const { base, src, socket } = layout(t);
  const prod = join(base, 'www-prod');
  makeTree(prod, [{ path: 'index.html', content: 'production' }]);
  const before = snapshot(prod);
  const ssh = ['--ssh-port', String(host.port), '--ssh-identity', host.identity, ...host.sshOptions.filter((o) => o !== '-o').flatMap((o) => ['--ssh-option', o])];
  const cli = startCli(t, ['sync', '-s', src, '-t', host.spec(join(base, 'www*')), '--socket', socket, ...ssh], { leftovers: true });
  // Until it exits or the glob's match is written to (what the remote shell's expansion did before).
  const same = (): boolean => JSON.stringify(snapshot(prod)) === JSON.stringify(before);
  await waitFor(() => cli.child.exitCode !== null || !same(), { what: 'the sync to exit or to write into www-prod', timeoutMs: 15_000 });
  assert.deepEqual(snapshot(prod), before);
  assert.equal(cli.child.exitCode, 2, cli.stderr);
  assert.match(cli.stderr, /has "\*" in the remote path: the remote shell would expand or interpret it/);
});

test('remote paths are held to characters no shell interprets; plain ones still pass', async () => {
  const { parseTarget } = await import('../../src/rsync/target.js');
  for (const path of ['/srv/www*', '/srv/a b', '/srv/$(id)', '/srv/`id`', '/srv/x;rm', '~/mirror', '/srv/[ab]', '/srv/a?', '/srv/{a,b}', "/srv/it's", '/srv/a\\b', '/srv/#x', '/srv/a|b', '/srv/a&b', '/srv/!x']) {
    assert.throws(() => parseTarget(`host:${path}`), /in the remote path: the remote shell would expand or interpret it/, path);
  }
  for (const path of ['/srv/www-prod_1.2', 'mirror/rel', '/srv/données', '/srv/a+b,c=d@e%f:g']) {
    assert.equal(parseTarget(`host:${path}`).kind, 'ssh', path);
  }
});
