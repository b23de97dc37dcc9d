// parseTarget: which specs are local directories, which are ssh targets, and which are refused (with a fix).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { InosyncError } from '../../src/errors.js';
import { parseTarget, rsyncDestination } from '../../src/rsync/target.js';

test('a path without a colon before its first slash is a local directory, made absolute', () => {
  assert.deepEqual(parseTarget('/srv/mirror'), { kind: 'local', spec: '/srv/mirror', path: '/srv/mirror' });
  assert.equal(parseTarget('rel/dir').path, resolve('rel/dir'));
  assert.equal(parseTarget('./host:x').kind, 'local');
  assert.equal(parseTarget('dir/with:colon').kind, 'local');
});

test('[user@]host:path is an ssh target, with per-target defaults applied', () => {
  const t = parseTarget('backup@mirror-1.example:/srv/a_b-1', { port: 2222, identity: '/keys/id', sshOptions: ['-o', 'Compression=no'] });
  assert.deepEqual(t, {
    kind: 'ssh', spec: 'backup@mirror-1.example:/srv/a_b-1', user: 'backup', host: 'mirror-1.example', port: 2222,
    path: '/srv/a_b-1', identity: '/keys/id', sshOptions: ['-o', 'Compression=no'],
  });
  assert.deepEqual(parseTarget('127.0.0.5:srv'), { kind: 'ssh', spec: '127.0.0.5:srv', host: '127.0.0.5', path: 'srv', sshOptions: [] });
});

test('IPv6 hosts are written in brackets and handed to rsync in brackets', () => {
  const t = parseTarget('root@[::1]:/srv');
  assert.equal(t.kind, 'ssh');
  assert.equal(t.kind === 'ssh' && t.host, '::1');
  assert.equal(rsyncDestination(t), 'root@[::1]:/srv/');
  assert.equal(rsyncDestination(parseTarget('[fe80::2]:/x/')), '[fe80::2]:/x/');
});

const refused: Array<[string, RegExp]> = [
  ['', /empty/],
  ['-oProxyCommand=touch x:/srv', /option/],
  ['-e', /option/],
  ['host:', /no path/],
  [':/srv', /empty host/],
  ['user@:/srv', /empty host/],
  ['bad user@host:/srv', /user name/],
  ['-user@host:/srv', /option/],
  ['user@-host:/srv', /invalid host/],
  ['ho$t:/srv', /invalid host/],
  ['host:-rf', /starting with "-"/],
  ['host::module', /daemon/],
  ['rsync://host/module', /URL/],
  ['host:/a\nb', /remote shell/],
];

for (const [spec, why] of refused) {
  test(`refuses ${JSON.stringify(spec)} and says how to fix it`, () => {
    assert.throws(() => parseTarget(spec), (error: unknown) => {
      assert.ok(error instanceof InosyncError);
      assert.match(error.message, why);
      assert.ok(error.fix.length > 0);
      return true;
    });
  });
}

test('refuses an ssh port outside 1..65535', () => {
  assert.throws(() => parseTarget('h:/x', { port: 70000 }), /port/);
});
