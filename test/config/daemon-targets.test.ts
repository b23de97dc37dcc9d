// rsync daemon targets given by flags or in the config file: the password file is set for all daemon targets
// or for one, and is refused where it cannot apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { buildTargets } from '../../src/cli/sync-options.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';

function secrets(t: Parameters<typeof tempDir>[0]): { dir: string; one: string; two: string } {
  const dir = tempDir(t);
  const one = join(dir, 'one.secret');
  const two = join(dir, 'two.secret');
  for (const file of [one, two]) writeFileSync(file, 'pw\n', { mode: 0o600 });
  return { dir, one, two };
}

const flags = (target: string[], passwordFile: string[]): Parameters<typeof buildTargets>[0] => ({
  target, 'ssh-port': [], 'ssh-identity': [], 'ssh-option': [], 'password-file': passwordFile,
});

test('--password-file without a prefix is every daemon target\'s; with TARGET= one target\'s, and it wins', (t) => {
  const { one, two } = secrets(t);
  const [a, b, ssh] = buildTargets(flags(['rsync://u@h1/www', 'u@h2::www', 'h3:/x'], [one, `u@h2=${two}`]));
  assert.ok(a!.kind === 'daemon' && b!.kind === 'daemon');
  assert.equal(a.passwordFile, one);
  assert.equal(b.passwordFile, two);
  assert.equal(ssh!.kind, 'ssh');
});

test('--password-file with no daemon target, or --ssh-port naming a daemon\'s host, is a usage error', () => {
  assert.throws(() => buildTargets(flags(['h3:/x'], ['/etc/x.secret'])), /no target is an rsync daemon module/);
  assert.throws(() => buildTargets({ ...flags(['rsync://h1/www'], []), 'ssh-port': ['h1=2222'] }), /no target has the host "h1"/);
});

test('a config target carries its own passwordFile; on an ssh target it is refused, as ssh settings on a daemon are', async (t) => {
  const { dir, one } = secrets(t);
  const good = join(dir, 'good.yaml');
  writeFileSync(good, `syncs:\n  - source: /srv/www\n    targets:\n      - { target: "rsync://backup@10.0.0.7/www", passwordFile: ${one} }\n`);
  assert.deepEqual(loadConfig(good).syncs[0]!.targets[0], { target: 'rsync://backup@10.0.0.7/www', passwordFile: one });

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, `syncs:\n  - source: ${dir}\n    targets:\n      - { target: "h:/x", passwordFile: ${one} }\n      - { target: "h::www", ssh: { port: 22 } }\n`);
  const result = await runCli(['sync', '--config', bad]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /syncs\[0\]\.targets\[0\]\.passwordFile: is for rsync daemon targets/);
  assert.match(result.stderr, /syncs\[0\]\.targets\[1\]\.ssh: does not apply: an rsync daemon target is reached without ssh/);
});

test('a world-readable password file in the config stops the start with the fix, before any rsync runs', async (t) => {
  const { dir, one } = secrets(t);
  chmodSync(one, 0o644);
  const config = join(dir, 'c.yaml');
  writeFileSync(config, `syncs:\n  - source: ${dir}\n    targets:\n      - { target: "rsync://backup@127.0.0.1:1/www", passwordFile: ${one} }\n`);
  const result = await runCli(['sync', '--config', config]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /password file .* can be read or written by group or others \(mode 0644\)/);
  assert.match(result.stderr, /fix: chmod 600/);
});
