// scripts/inosync.service: a unit systemd accepts, that runs the agent as root and stops it gracefully.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { unitEnvironment, unitPath } from '../helpers/unit-env.js';

const INSTALLED = '/usr/local/bin/inosync';

function directive(unit: string, name: string): string | undefined {
  return new RegExp(`^${name}=(.*)$`, 'm').exec(unit)?.[1];
}

test('the unit runs the agent as root from the config, reloads on HUP, restarts on failure, stops with SIGTERM', () => {
  const unit = readFileSync(unitPath, 'utf8');
  assert.equal(directive(unit, 'User'), 'root');
  assert.equal(directive(unit, 'ExecStart'), `${INSTALLED} sync --config /etc/inosync/inosync.yaml`);
  assert.equal(directive(unit, 'ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(directive(unit, 'Restart'), 'on-failure');
  assert.equal(directive(unit, 'KillSignal'), 'SIGTERM');
  // well beyond the default drain timeout (10 s), so a graceful stop is never cut short by SIGKILL
  assert.ok(Number(directive(unit, 'TimeoutStopSec')) > 30);
});

test('the unit keeps glibc to two malloc arenas, and gives node no V8 flag (it would refuse the code cache)', () => {
  const env = unitEnvironment();
  assert.equal(env.MALLOC_ARENA_MAX, '2');
  // Node options only: a V8 flag on the command line changes V8's flag hash, and the launcher's code cache,
  // made without it, is then rejected (src/cli/launcher.cts); the young generation is kept small there.
  assert.deepEqual(env.NODE_OPTIONS?.split(' '), ['--inspect-port=192.0.2.1:9229']);
});

test('systemd-analyze verify accepts the unit', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version']);
  if (probe.error) {
    t.skip('systemd-analyze is not installed here (apt-get install systemd provides it)');
    return;
  }
  // The installed binary does not exist in a checkout: point ExecStart at the built CLI, change nothing else.
  const unit = readFileSync(unitPath, 'utf8').replace(INSTALLED, `${process.execPath} ${cliPath}`);
  const copy = join(tempDir(t), 'inosync.service');
  writeFileSync(copy, unit);
  const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr.trim(), '', 'systemd-analyze printed warnings');
});
