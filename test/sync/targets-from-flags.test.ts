import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargets } from '../../src/cli/sync-options.js';

const flags = (over: Partial<Parameters<typeof buildTargets>[0]>): Parameters<typeof buildTargets>[0] => ({
  target: [], 'ssh-port': [], 'ssh-identity': [], 'ssh-option': [], ...over,
});

test('ssh settings without a prefix apply to every ssh target', () => {
  const [a, b] = buildTargets(flags({ target: ['h1:/x', 'u@h2:/y'], 'ssh-port': ['2222'], 'ssh-option': ['ConnectTimeout=5'] }));
  for (const t of [a, b]) {
    assert.equal(t!.kind, 'ssh');
    if (t!.kind !== 'ssh') continue;
    assert.equal(t.port, 2222);
    assert.deepEqual(t.sshOptions, ['-o', 'ConnectTimeout=5']);
  }
});

test('a prefix naming a host, user@host or the spec applies to that target only and wins', () => {
  const [a, b, c] = buildTargets(flags({
    target: ['h1:/x', 'u@h2:/y', 'h3:/z'],
    'ssh-port': ['22', 'h1=2201', 'u@h2=2202', 'h3:/z=2203'],
    'ssh-identity': ['h1=/keys/k=1'],
    'ssh-option': ['BatchMode=yes', 'h3=ServerAliveInterval=5'],
  }));
  assert.ok(a!.kind === 'ssh' && b!.kind === 'ssh' && c!.kind === 'ssh');
  assert.deepEqual([a.port, b.port, c.port], [2201, 2202, 2203]);
  assert.equal(a.identity, '/keys/k=1');
  assert.equal(b.identity, undefined);
  assert.deepEqual(c.sshOptions, ['-o', 'ServerAliveInterval=5', '-o', 'BatchMode=yes']); // ssh keeps an option's first value
  assert.deepEqual(a.sshOptions, ['-o', 'BatchMode=yes']);
});

test('a port that is not one is a usage error that names the flag', () => {
  assert.throws(() => buildTargets(flags({ target: ['h:/x'], 'ssh-port': ['h=99999'] })), /--ssh-port "99999" is not a port/);
});
