// The README's "Coming from lsyncd / sersync / an inotifywait script": the lsyncd config it shows is written
// to a file and imported with the command it shows, and the YAML printed loads and holds what it says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';
import { importAndLoad } from './harness.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const section = readme.slice(readme.indexOf('## Coming from lsyncd / sersync / an inotifywait script'), readme.indexOf('## Benchmarks'));

/** The section's fenced blocks whose info string names a file: ```lua file=NAME. */
function files(): Map<string, string> {
  return new Map([...section.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

test('the README\'s lsyncd config, imported with the command it shows, loads with every mirror in it', async (t) => {
  const shown = files();
  assert.ok(shown.has('lsyncd.conf.lua'), 'the section shows an lsyncd config marked ```lua file=lsyncd.conf.lua');
  const command = /^inosync import lsyncd (\S+) > inosync\.yaml$/m.exec(section);
  assert.ok(command, 'the section shows the import command');
  const dir = tempDir(t);
  const file = join(dir, 'lsyncd.conf.lua');
  writeFileSync(file, shown.get('lsyncd.conf.lua')!);
  const { config } = await importAndLoad(t, 'lsyncd', file);
  assert.equal(config.maxProcs, 4);
  const [www, data] = config.syncs;
  assert.equal(www!.source, '/srv/www');
  assert.deepEqual(www!.targets, [
    { target: 'mirror1:/srv/www', exclude: ['*.tmp', 'cache/'] },
    { target: 'backup@mirror2:/srv/www', delete: 'never', ssh: { port: 2222, identity: '/root/.ssh/mirror_ed25519' } },
  ]);
  assert.deepEqual([www!.quietMs, www!.maxDelayMs], [5000, 5000]);
  assert.deepEqual(www!.rsyncOptions, ['--links', '--times', '--protect-args', '--archive', '--compress', '--bwlimit=20000']);
  assert.equal(data!.source, '/srv/data');
  assert.deepEqual(data!.targets, [{ target: 'rsync://backup@10.0.0.7/data', passwordFile: '/etc/lsyncd/data.secret' }]);
  assert.equal(data!.initialSync, false);
});

test('the YAML the README shows for it is what the import prints, comments aside', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'lsyncd.conf.lua');
  writeFileSync(file, files().get('lsyncd.conf.lua')!);
  const shownYaml = /^becomes \(comments shortened here\):\n\n```yaml\n([\s\S]*?)^```$/m.exec(section);
  assert.ok(shownYaml, 'the section shows the YAML it becomes');
  const { config } = await importAndLoad(t, 'lsyncd', file);
  const shownFile = join(dir, 'shown.yaml');
  writeFileSync(shownFile, shownYaml[1]!);
  const { loadConfig } = await import('../../src/config/load.js');
  assert.deepEqual(loadConfig(shownFile), config);
});
