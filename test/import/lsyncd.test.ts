// `inosync import lsyncd`: lsyncd's own example configs and configs that compute their values, printed as
// inosync YAML that loads with the agent's loader, each setting where it belongs or commented out with why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { assertComment, fixture, importAndLoad, importFails, lsyncdExample } from './harness.js';

test('lrsync.lua (lsyncd\'s example): the relative source and target resolved from the current directory, settings commented', async (t) => {
  const cwd = tempDir(t);
  const { config, yaml } = await importAndLoad(t, 'lsyncd', lsyncdExample('lrsync.lua'), cwd);
  assert.deepEqual(config.syncs.map((s) => [s.source, s.targets]), [[join(cwd, 'src'), [join(cwd, 'trg')]]]);
  assertComment(yaml, 'settings.statusFile = "/tmp/lsyncd.stat": `inosync status` asks the running agent');
  assertComment(yaml, 'source = "src" is relative');
  assertComment(yaml, 'delay (lsyncd gathers events 15 s by default before it sends): not kept');
});

test('lrsyncssh.lua (lsyncd\'s example): host and targetdir become an ssh target, moves are replayed on it', async (t) => {
  const { config } = await importAndLoad(t, 'lsyncd', lsyncdExample('lrsyncssh.lua'));
  const [sync] = config.syncs;
  assert.deepEqual(sync!.targets, ['localhost:dst/']);
  assert.equal(sync!.remoteMoves, true);
});

test('lpostcmd.lua (lsyncd\'s example): a layer built on default.rsync is imported as one, its Lua code and postcmd commented', async (t) => {
  const { config, yaml } = await importAndLoad(t, 'lsyncd', lsyncdExample('lpostcmd.lua'));
  const [sync] = config.syncs;
  assert.deepEqual([sync!.source, sync!.targets, sync!.quietMs, sync!.maxDelayMs, sync!.maxProcs], ['/path/to/src', ['localhost:/path/to/trg'], 3000, 3000, 1]);
  assertComment(yaml, 'action, collect, prepare: Lua code of a layer built on default.rsync, which inosync does not run');
  assertComment(yaml, 'postcmd = "/usr/local/bin/dopostcmd": no equivalent in inosync');
});

test('lecho.lua and lbash.lua (lsyncd\'s examples) run commands, not a mirror: exit 2, saying why', async () => {
  for (const name of ['lecho.lua', 'lbash.lua']) {
    const result = await importFails('lsyncd', lsyncdExample(name));
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /no sync\{\} of .* mirrors a tree: sync\{\} at line \d+: a layer of its own \(onStartup, onCreate/);
    assert.equal(result.stdout, '');
  }
});

test('a config that computes: locals and .. are evaluated, a daemon module gets its password file, rsh becomes ssh settings', async (t) => {
  const { config, yaml } = await importAndLoad(t, 'lsyncd', fixture('computed.lua'));
  const [site, logs] = config.syncs;
  assert.equal(config.syncs.length, 2);
  assert.equal(site!.source, '/srv/site');
  assert.deepEqual(site!.targets, [{ target: 'backup@10.0.0.7::site/current', passwordFile: '/etc/lsyncd/site.secret' }]);
  assert.equal(site!.delete, 'startup');
  assert.deepEqual(site!.excludeFrom, ['/etc/lsyncd/site.exclude']);
  assert.deepEqual(site!.rsyncOptions, ['--links', '--times', '--protect-args', '--archive']);
  assertComment(yaml, 'rsync option "--update" in rsync = {...} of sync{} at line 15 is refused: it leaves changed files unsent');
  assert.equal(logs!.source, '/srv/logs');
  assert.equal(logs!.delete, 'running');
  assert.deepEqual([logs!.quietMs, logs!.maxDelayMs], [60_000, 60_000]);
  assert.deepEqual(logs!.ssh, { port: 2222, identity: '/root/.ssh/logs_ed25519', options: ['-o', 'StrictHostKeyChecking=yes'] });
  // source = os.getenv("HOME") is known only when lsyncd runs: that sync is left out, with the reason.
  assertComment(yaml, 'sync{} at line 33: its source is a call to os.getenv, known only when lsyncd runs');
});

test('syncs of one source become one sync; what each target does differently stays on the target', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'two.lua');
  writeFileSync(file, `
sync { default.rsync, source = "/srv/a", target = "h1:/a", delete = false, exclude = "*.log" }
sync { default.rsync, source = "/srv/a", target = "h2:/a" }
`);
  const { config } = await importAndLoad(t, 'lsyncd', file);
  assert.equal(config.syncs.length, 1);
  assert.deepEqual(config.syncs[0]!.targets, [{ target: 'h1:/a', delete: 'never', exclude: ['*.log'] }, 'h2:/a']);
});

test('a file that is not Lua: exit 2 with the line and column; one without sync{}: exit 2, not an lsyncd config', async (t) => {
  const dir = tempDir(t);
  const broken = join(dir, 'broken.lua');
  writeFileSync(broken, 'sync {\n  default.rsync,\n  source = "/a" target = "/b",\n}\n');
  const result = await importFails('lsyncd', broken);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /broken\.lua:3:\d+: not Lua that lsyncd could read: '}' expected/);
  const noSync = join(dir, 'settings.lua');
  writeFileSync(noSync, 'settings { logfile = "/var/log/lsyncd.log" }\n');
  const notLsyncd = await importFails('lsyncd', noSync);
  assert.equal(notLsyncd.code, 2);
  assert.match(notLsyncd.stderr, /has no sync\{\.\.\.\}: it is not an lsyncd config/);
  const missing = await importFails('lsyncd', join(dir, 'nope.lua'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.lua: ENOENT/);
});

test('a config that would grow without bound (a string doubled 40 times, a table holding itself) is read in bounded time and memory', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bomb.lua');
  writeFileSync(file, `local s = "xxxxxxxx"\n${'s = s .. s\n'.repeat(40)}local t = {}\nt.self = t\n`
    + 'sync { default.rsync, source = "/srv/a", target = "/mnt/a", note = s, loop = t, delay = 1 / 0 }\n');
  const { config, yaml } = await importAndLoad(t, 'lsyncd', file);
  assert.deepEqual(config.syncs.map((s) => [s.source, s.targets, s.quietMs]), [['/srv/a', ['/mnt/a'], undefined]]);
  assertComment(yaml, 'note = (a string longer than 65536 characters): no equivalent in inosync');
  assertComment(yaml, 'loop = { self = { self = { self = {...} } } }: no equivalent in inosync');
  assertComment(yaml, 'delay = (a number that is not finite): not a number of seconds');
});
