// `inosync import sersync`: a confxml.xml of the documented shape, printed as inosync YAML that loads with
// the agent's loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { assertComment, fixture, importAndLoad, importFails } from './harness.js';

test('confxml.xml: remotes become daemon targets with the auth user and password file; params, filter, crontab, timeout mapped', async (t) => {
  const { config, yaml } = await importAndLoad(t, 'sersync', fixture('confxml.xml'));
  assert.equal(config.timeout, 100);
  const [sync] = config.syncs;
  assert.equal(config.syncs.length, 1);
  assert.equal(sync!.source, '/srv/www');
  assert.deepEqual(sync!.targets, [
    { target: 'backup@10.0.0.7::www', passwordFile: '/etc/rsync.pas' },
    { target: 'backup@10.0.0.8::www', passwordFile: '/etc/rsync.pas' },
  ]);
  assert.deepEqual(sync!.exclude, ['*.svn', '*.gz', '/cache/']);
  assert.deepEqual(sync!.rsyncOptions, ['-atz']);
  assert.equal(sync!.verifyEvery, '10h');
  assert.equal(sync!.delete, undefined);
  assertComment(yaml, 'rsync option "-u" in sersync\'s <commonParams> is refused: it leaves changed files unsent');
  assertComment(yaml, '<exclude expression="(.*)/tmp[0-9]+/(.*)">: a regular expression with no exact rsync pattern');
  assertComment(yaml, '<attrib start="false">: sersync left changes of permissions, owners and times to the next full sync');
  assertComment(yaml, '<failLog path="/tmp/rsync_fail_log.sh">: inosync keeps what a target failed to get');
});

test('sersync over ssh, or with its own daemon port, and with deletes off', async (t) => {
  const dir = tempDir(t);
  const base = readFileSync(fixture('confxml.xml'), 'utf8').replace('<delete start="true"/>', '<delete start="false"/>');
  const overSsh = join(dir, 'ssh.xml');
  writeFileSync(overSsh, base.replace('<ssh start="false"/>', '<ssh start="true"/>').replace(/name="www"/g, 'name="/srv/www"'));
  const ssh = await importAndLoad(t, 'sersync', overSsh);
  assert.deepEqual(ssh.config.syncs[0]!.targets, ['10.0.0.7:/srv/www', '10.0.0.8:/srv/www']);
  assert.equal(ssh.config.syncs[0]!.delete, 'never');
  const port = join(dir, 'port.xml');
  writeFileSync(port, base.replace('<userDefinedPort start="false"', '<userDefinedPort start="true"'));
  const daemon = await importAndLoad(t, 'sersync', port);
  assert.deepEqual(daemon.config.syncs[0]!.targets.map((x) => (typeof x === 'string' ? x : x.target)), ['rsync://backup@10.0.0.7:874/www', 'rsync://backup@10.0.0.8:874/www']);
});

test('broken XML: exit 2 with the line; XML that is not sersync\'s, or an entity it does not define: exit 2', async (t) => {
  const dir = tempDir(t);
  const broken = join(dir, 'broken.xml');
  writeFileSync(broken, '<head>\n  <sersync>\n  </head>\n');
  const result = await importFails('sersync', broken);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /broken\.xml:3:\d+: not valid XML: Unexpected close tag/);
  const other = join(dir, 'pom.xml');
  writeFileSync(other, '<project><sersync/></project>');
  const notSersync = await importFails('sersync', other);
  assert.equal(notSersync.code, 2);
  assert.match(notSersync.stderr, /is not a sersync config .*: its root is <project>/);
  // An external entity is never fetched: a name it does not define is an error, not a file read.
  const entity = join(dir, 'xxe.xml');
  writeFileSync(entity, '<?xml version="1.0"?><!DOCTYPE head [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<head><sersync><localpath watch="&x;"><remote ip="h" name="m"/></localpath></sersync></head>');
  const xxe = await importFails('sersync', entity);
  assert.equal(xxe.code, 2);
  assert.doesNotMatch(xxe.stdout + xxe.stderr, /root:/);
});
