// scripts/build-deb.sh makes a Debian package that installs inosync like any system tool: the command, its
// systemd unit (disabled), an example config, a man page and bash completion. Checked from the .deb itself
// (dpkg-deb); installing it system-wide is left to a machine of its own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot, packageVersion, packPackage, runOrThrow } from '../helpers/pack.js';

const work = mkdtempSync(join(tmpdir(), 'inosync-deb-'));
const deb = join(work, `inosync_${packageVersion}_amd64.deb`);
/** The package's files, unpacked as dpkg would lay them out under / . */
const tree = join(work, 'tree');

before(() => {
  runOrThrow('bash', [join(packageRoot, 'scripts', 'build-deb.sh'), packPackage(work), work], { cwd: work });
  runOrThrow('dpkg-deb', ['-x', deb, tree], { cwd: work });
}, { timeout: 180_000 });

after(() => rmSync(work, { recursive: true, force: true }));

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

test('the control file names the package, amd64, and what it needs at run time', () => {
  const field = (name: string): string => runOrThrow('dpkg-deb', ['--field', deb, name], { cwd: work }).trim();
  assert.deepEqual([field('Package'), field('Version'), field('Architecture')], ['inosync', packageVersion, 'amd64']);
  const depends = field('Depends').split(', ');
  for (const wanted of ['nodejs (>= 20)', 'rsync', 'openssh-client']) assert.ok(depends.includes(wanted), depends.join(', '));
});

test('it holds the command, the unit, the example config, the man pages, SECURITY.md and bash completion', () => {
  const listing = runOrThrow('dpkg-deb', ['--contents', deb], { cwd: work });
  for (const path of [
    './usr/bin/inosync -> ../lib/inosync/dist/src/cli/launcher.cjs',
    './usr/lib/inosync/prebuilds/linux-x64/inotify.node',
    './lib/systemd/system/inosync.service',
    './etc/inosync/inosync.example.yaml',
    './usr/share/man/man1/inosync.1.gz',
    './usr/share/man/man1/inosync-watch.1.gz',
    './usr/share/bash-completion/completions/inosync',
    './usr/share/doc/inosync/copyright',
    './usr/share/doc/inosync/SECURITY.md',
  ]) assert.ok(listing.includes(path), `${path} is missing from:\n${listing}`);
  assert.doesNotMatch(listing, /\.\/usr\/lib\/inosync\/node_modules\/(node-gyp|typescript|esbuild)\//);
});

test('the example config is a conffile, and nothing enables the unit', () => {
  const control = join(work, 'control');
  runOrThrow('dpkg-deb', ['--control', deb, control], { cwd: work });
  assert.equal(readFileSync(join(control, 'conffiles'), 'utf8'), '/etc/inosync/inosync.example.yaml\n');
  const listing = runOrThrow('dpkg-deb', ['--contents', deb], { cwd: work });
  assert.doesNotMatch(listing, /\/etc\/systemd\/system\//);
  assert.doesNotMatch(readFileSync(join(control, 'postinst'), 'utf8'), /enable|start/);
});

test('the unit runs the packaged command on /etc/inosync/inosync.yaml', () => {
  const unit = readFileSync(join(tree, 'lib', 'systemd', 'system', 'inosync.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/inosync sync --config \/etc\/inosync\/inosync\.yaml$/m);
  assert.doesNotMatch(unit, /\/usr\/local\//);
});

test('the packaged command runs from its unpacked tree, on its own node_modules', () => {
  assert.equal(readlinkSync(join(tree, 'usr', 'bin', 'inosync')), '../lib/inosync/dist/src/cli/launcher.cjs');
  assert.equal(runOrThrow(join(tree, 'usr', 'bin', 'inosync'), ['--version'], { cwd: work }).trim(), packageVersion);
});

for (const [page, sections] of [
  ['inosync.1', ['NAME', 'SYNOPSIS', 'OPTIONS', 'INOSYNC SYNC', 'INOSYNC CHECK', 'INOSYNC LIMITS', 'INOSYNC STATUS', 'INOSYNC IMPORT', 'SIGNALS', 'EXIT STATUS', 'FILES', 'SECURITY', 'SEE ALSO']],
  ['inosync-watch.1', ['NAME', 'SYNOPSIS', 'OPTIONS', 'EVENTS', 'FORMAT', 'COUNTING EVENTS', 'EXIT STATUS', 'DIFFERENCES FROM INOTIFYWAIT', 'SEE ALSO']],
] as const) {
  test(`the man page ${page} renders without warnings`, (t) => {
    if (!hasCommand('man')) return t.skip('man (man-db) is not installed');
    const file = join(tree, 'usr', 'share', 'man', 'man1', `${page}.gz`);
    const rendered = spawnSync('man', ['--warnings', '-l', file], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '80' } });
    assert.equal(rendered.status, 0, rendered.stderr);
    assert.equal(rendered.stderr, '');
    for (const section of sections) assert.match(rendered.stdout, new RegExp(`^${section}$`, 'm'));
  });
}

/** What the packaged completion offers for each command line (the last word being completed), one line each. */
function complete(lines: ReadonlyArray<readonly string[]>, cwd: string): string[] {
  const script = [
    `source ${join(tree, 'usr', 'share', 'bash-completion', 'completions', 'inosync')}`,
    ...lines.map((words) => `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _inosync; echo "\${COMPREPLY[*]}"`),
  ].join('\n');
  const env = { ...process.env, PATH: `${join(tree, 'usr', 'bin')}:${process.env.PATH ?? ''}` };
  return runOrThrow('bash', ['-c', script], { cwd, env }).split('\n').slice(0, -1);
}

test('bash completion offers the commands, then each command\'s options, with the --no- forms of its booleans', (t) => {
  if (!hasCommand('bash')) return t.skip('bash is not installed');
  assert.deepEqual(complete([
    ['inosync', 's'],
    ['inosync', 'i'],
    ['inosync', 'sync', '--so'],
    ['inosync', 'sync', '--no-'],
    ['inosync', 'sync', '--del'],
    ['inosync', 'sync', '--st'],
    ['inosync', 'check', '--pass'],
    ['inosync', 'status', '--c'],
    ['inosync', 'watch', '--no-'],
  ], work), [
    'status sync',
    'import',
    '--socket --source',
    '--no-initial-sync --no-trust-state',
    '--delete',
    '--state-dir',
    '--password-file',
    '--config',
    '--no-dereference --no-newline',
  ]);
});

test('bash completion offers only options a command lists, not those its help mentions in passing', (t) => {
  if (!hasCommand('bash')) return t.skip('bash is not installed');
  // sync --help explains that root gets rsync's --numeric-ids: not an option of inosync sync.
  assert.deepEqual(complete([['inosync', 'sync', '--num']], work), ['']);
});

test('bash completion offers the tools of `inosync import`, then file names', (t) => {
  if (!hasCommand('bash')) return t.skip('bash is not installed');
  const dir = join(work, 'completion');
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'lsyncd.conf.lua'), '');
  writeFileSync(join(dir, 'etc', 'confxml.xml'), '');
  assert.deepEqual(complete([
    ['inosync', 'import', ''],
    ['inosync', 'import', 's'],
    ['inosync', 'import', 'lsyncd', 'etc/ls'],
    ['inosync', 'import', 'sersync', 'etc/c'],
  ], dir), ['lsyncd sersync', 'sersync', 'etc/lsyncd.conf.lua', 'etc/confxml.xml']);
});

test('lintian reports no errors', { timeout: 240_000 }, (t) => {
  if (!hasCommand('lintian')) return t.skip('lintian is not installed');
  const result = spawnSync('lintian', [deb], { encoding: 'utf8', timeout: 240_000 });
  assert.deepEqual(result.stdout.split('\n').filter((line) => line.startsWith('E: ')), []);
});
