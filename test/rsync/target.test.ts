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
  ['ftp://host/module', /URL other than rsync/],
  ['rsync://host/', /no module/],
  ['rsync://host', /no module/],
  ['host::', /no module/],
  ['rsync://-oProxy@host/m', /user name/],
  ['rsync://user@-host/m', /invalid host/],
  ['rsync://h$t/m', /invalid host/],
  ['rsync://host:0/m', /invalid port/],
  ['rsync://host:99999/m', /invalid port/],
  ['rsync://host:x/m', /invalid port/],
  ['::module', /empty host/],
  ['host::mod ule', /module name/],
  ['host::mod*', /module name/],
  ['host::www/../other', /"\.\."/],
  ['rsync://host/www/..', /"\.\."/],
  ['host::www/a*', /path inside the module/],
  ['rsync://host/www/$(x)', /path inside the module/],
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

test('rsync://[user@]host[:port]/module[/path] is an rsync daemon target, always handed to rsync as a URL', () => {
  const t = parseTarget('rsync://backup@10.0.0.7:8873/www/site/');
  assert.deepEqual(t, { kind: 'daemon', spec: 'rsync://backup@10.0.0.7:8873/www/site/', user: 'backup', host: '10.0.0.7', port: 8873, module: 'www', path: 'site' });
  assert.equal(rsyncDestination(t), 'rsync://backup@10.0.0.7:8873/www/site/');
  assert.equal(rsyncDestination(parseTarget('RSYNC://[::1]/www')), 'rsync://[::1]/www/');
});

test('[user@]host::module[/path] is the same daemon target, without a port', () => {
  const t = parseTarget('backup@mirror1::www_2.x-y/a/b', { port: 2222, sshOptions: ['-o', 'X=y'] });
  assert.deepEqual(t, { kind: 'daemon', spec: 'backup@mirror1::www_2.x-y/a/b', user: 'backup', host: 'mirror1', module: 'www_2.x-y', path: 'a/b' });
  assert.equal(rsyncDestination(t), 'rsync://backup@mirror1/www_2.x-y/a/b/');
  assert.equal(rsyncDestination(parseTarget('mirror1::www')), 'rsync://mirror1/www/');
});

test('refuses an ssh port outside 1..65535', () => {
  assert.throws(() => parseTarget('h:/x', { port: 70000 }), /port/);
});
