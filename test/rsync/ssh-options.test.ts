// Which ssh settings a connection really gets: ssh keeps the first value of an option, so the order of the
// argv decides. Checked with `ssh -G`, which prints the effective configuration without connecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { silentLogger } from '../../src/log/logger.js';
import { SshMaster } from '../../src/rsync/ssh-master.js';
import { parseTarget, type SshTarget } from '../../src/rsync/target.js';
import { buildTargets } from '../../src/cli/sync-options.js';

function effective(target: SshTarget): Map<string, string> {
  const argv = [...new SshMaster(target, { timeoutSec: 30, logger: silentLogger }).clientOptions(), '-G', '--', target.host];
  const result = spawnSync('ssh', argv, { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return new Map(result.stdout.split('\n').map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]));
}

test('the user\'s ssh options override inosync\'s timeouts, but never its BatchMode', () => {
  const target = parseTarget('web2:/srv', { sshOptions: ['-o', 'ConnectTimeout=5', '-o', 'ServerAliveCountMax=7', '-o', 'BatchMode=no'] });
  const config = effective(target as SshTarget);
  assert.equal(config.get('connecttimeout'), '5');
  assert.equal(config.get('serveralivecountmax'), '7');
  assert.equal(config.get('batchmode'), 'yes');
});

test('without user options the agent\'s own timeouts apply; a silent connection is given up within seconds', () => {
  const config = effective(parseTarget('web2:/srv') as SshTarget);
  assert.equal(config.get('connecttimeout'), '30');
  assert.equal(config.get('serveraliveinterval'), '2');
  assert.equal(config.get('serveralivecountmax'), '3');
});

test('a target\'s own --ssh-option wins over the one given for every target', () => {
  const [target] = buildTargets({ target: ['web2:/srv'], 'ssh-port': [], 'ssh-identity': [], 'ssh-option': ['ConnectTimeout=9', 'web2=ConnectTimeout=3'] });
  assert.equal(effective(target as SshTarget).get('connecttimeout'), '3');
});
