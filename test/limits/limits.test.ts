// `inosync limits`: the real limits from /proc, what is held, what trees need, --apply and --persist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, openInotify } from '../../src/inotify/binding.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTree, tempDir } from '../helpers/tmp.js';

const procValue = (name: string): number => Number(readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim());

interface LimitsJson {
  limits: { maxUserWatches: { value: number }; maxUserInstances: { value: number }; maxQueuedEvents: { value: number } };
  usage: { watches: number; instances: number; holders: Array<{ pid: number; watches: number; instances: number }> };
  trees: Array<{ path: string; directories: number }>;
  advice: Record<'watches' | 'instances' | 'queuedEvents', { sysctl: string; recommended: number; sufficient: boolean; reason: string }>;
  applied: Array<{ sysctl: string; from: number; to: number }> | null;
  persisted: string | null;
}

async function limitsJson(args: string[]): Promise<LimitsJson> {
  const result = await runCli(['limits', '--json', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as LimitsJson;
}

/** Sets a limit back to what it was, whatever the test did to it. */
function restoring(t: { after(fn: () => void): void }, name: string): number {
  const original = procValue(name);
  t.after(() => writeFileSync(`/proc/sys/fs/inotify/${name}`, `${original}\n`));
  return original;
}

test('reports the limits read from /proc, the watches this process holds, and the directories a tree needs', async (t) => {
  const root = tempDir(t);
  makeTree(root, ['a/b/c/', 'a/d/', 'e/', 'file', { path: 'link-to-a', symlinkTo: 'a' }, 'skip/x/']);
  const inotify = openInotify(() => {});
  t.after(() => inotify.close());
  for (const dir of ['', 'a', 'a/b', 'a/b/c']) inotify.addWatch(join(root, dir), constants.IN_CREATE);

  const report = await limitsJson([root]);

  assert.equal(report.limits.maxUserWatches.value, procValue('max_user_watches'));
  assert.equal(report.limits.maxUserInstances.value, procValue('max_user_instances'));
  assert.equal(report.limits.maxQueuedEvents.value, procValue('max_queued_events'));
  const me = report.usage.holders.find((h) => h.pid === process.pid);
  assert.deepEqual(me && { watches: me.watches, instances: me.instances }, { watches: 4, instances: 1 });
  // root, a, a/b, a/b/c, a/d, e, skip, skip/x; the symlink to a directory is not followed
  assert.deepEqual(report.trees, [{ path: root, directories: 8 }]);
  assert.ok(report.advice.watches.sufficient, report.advice.watches.reason);
});

test('--exclude and the excludes of --config leave directories out of the count', async (t) => {
  const root = tempDir(t);
  makeTree(root, ['keep/a/', 'cache/x/y/', 'build/z/']);
  const config = join(tempDir(t), 'inosync.yaml');
  writeFileSync(config, `syncs:\n  - { source: ${root}, targets: [/mirror], exclude: [cache/] }\n`);
  const report = await limitsJson([root, '--exclude', 'cache/', '--exclude', 'build/', '--config', config]);
  assert.deepEqual(report.trees, [{ path: root, directories: 3 }, { path: root, directories: 5 }]);
});

test('the text report names each sysctl, its value and the reasoning', async (t) => {
  const root = tempDir(t);
  const result = await runCli(['limits', root]);
  assert.equal(result.code, 0, result.stderr);
  for (const sysctl of ['fs.inotify.max_user_watches', 'fs.inotify.max_user_instances', 'fs.inotify.max_queued_events']) {
    assert.match(result.stdout, new RegExp(`${sysctl.replace(/\./g, '\\.')} = `));
  }
  assert.match(result.stdout, /one watch per directory: 1 for the given trees/);
});

test('--apply raises a limit at run time and never lowers one', async (t) => {
  const instances = restoring(t, 'max_user_instances');
  const watches = restoring(t, 'max_user_watches');

  const report = await limitsJson(['--apply', '--instances', String(instances + 1), '--watches', String(watches - 1)]);

  assert.equal(procValue('max_user_instances'), instances + 1);
  assert.equal(procValue('max_user_watches'), watches);
  assert.deepEqual(report.applied, [{ sysctl: 'fs.inotify.max_user_instances', from: instances, to: instances + 1 }]);
});

test('--apply without root stops with the commands to run instead', async (t) => {
  const instances = restoring(t, 'max_user_instances');
  const result = await runCli(['limits', '--apply', '--instances', String(instances + 1)], { uid: 65534, gid: 65534 });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /raising inotify limits needs root/);
  assert.match(result.stderr, new RegExp(`fix: .*sysctl -w .*fs\\.inotify\\.max_user_instances=${instances + 1}`));
  assert.equal(procValue('max_user_instances'), instances);
});

test('--persist writes 60-inosync.conf into the sysctl directory given', async (t) => {
  const dir = join(tempDir(t), 'sysctl.d');
  const report = await limitsJson(['--persist', '--sysctl-dir', dir, '--watches', '524288']);
  const path = join(dir, '60-inosync.conf');
  assert.equal(report.persisted, path);
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line && !line.startsWith('#'));
  assert.deepEqual(lines, [
    'fs.inotify.max_user_watches = 524288',
    `fs.inotify.max_user_instances = ${report.advice.instances.recommended}`,
    `fs.inotify.max_queued_events = ${report.advice.queuedEvents.recommended}`,
  ]);
});

test('in a user namespace with a lower watch limit, that limit is the one reported and advised', async (t) => {
  const root = tempDir(t);
  makeTree(root, Array.from({ length: 60 }, (_, i) => `d${i}/`));
  const result = await runCli(['limits', '--json', root], {
    prefix: ['unshare', '--user', '--map-root-user', 'sh', '-c', 'echo 50 > /proc/sys/user/max_inotify_watches && exec "$@"', 'sh'],
  });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as LimitsJson;
  assert.equal(report.advice.watches.sysctl, 'user.max_inotify_watches');
  assert.equal(report.advice.watches.sufficient, false);
  assert.ok(report.advice.watches.recommended >= 2 * 61, String(report.advice.watches.recommended));
});
