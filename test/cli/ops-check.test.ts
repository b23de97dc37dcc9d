// `inosync check`: compares without changing anything; exit 0 identical, 1 drift, 2 when it cannot compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { compareTrees } from '../helpers/compare.js';
import { runCli } from '../helpers/run-cli.js';
import { startSshd } from '../helpers/sshd.js';
import { bytesPath, makeTree, oddNames, tempDir } from '../helpers/tmp.js';

function mirrorPair(t: Parameters<typeof tempDir>[0]): { src: string; dst: string; base: string } {
  const base = tempDir(t);
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  makeTree(src, ['a/b/', { path: 'a/one', content: '1' }, { path: 'two', content: '2' }, { path: 'link', symlinkTo: 'two' }]);
  writeFileSync(bytesPath(src, oddNames.newline), 'odd');
  writeFileSync(bytesPath(src, oddNames.nonUtf8), 'odd');
  return { src, dst, base };
}

async function copyTree(src: string, dst: string): Promise<void> {
  const result = await runCli(['check', '--source', src, '--target', dst]); // dry run: creates nothing
  assert.equal(result.code, 1);
  const { spawnSync } = await import('node:child_process');
  // Times to the nanosecond, as inosync syncs them and `check` compares them.
  assert.equal(spawnSync('rsync', ['-aHAX', '--modify-window=-1', '--delete', `${src}/`, `${dst}/`]).status, 0);
}

test('identical source and target: exit 0, "identical"', async (t) => {
  const { src, dst } = mirrorPair(t);
  await copyTree(src, dst);
  const result = await runCli(['check', '--source', src, '--target', dst]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${src} -> ${dst}: identical\n`);
});

test('drift is listed per host, exactly, without changing the target: exit 1', async (t) => {
  const { src, dst } = mirrorPair(t);
  await copyTree(src, dst);
  writeFileSync(join(dst, 'two'), 'changed behind our back');
  writeFileSync(join(dst, 'extra'), 'x');
  rmSync(bytesPath(dst, oddNames.nonUtf8));
  const before = await compareTrees(src, dst);

  const text = await runCli(['check', '--source', src, '--target', dst]);
  assert.equal(text.code, 1, text.stderr);
  assert.ok(text.stdout, `no output; stderr: ${text.stderr}`);
  // 4: the three changes, and the target root's mtime that they moved
  assert.match(text.stdout, /: 4 differences\n/);
  assert.match(text.stdout, /^ {2}\*deleting +only on the target +extra$/m);
  assert.match(text.stdout, /^ {2}>f\.s\S* +content differs +two$/m);
  assert.match(text.stdout, /^ {2}>f\+{9} +missing on the target +f\\xffo$/m);

  const json = await runCli(['check', '--json', '--source', src, '--target', dst]);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as { syncs: Array<{ targets: Array<{ identical: boolean; items: Array<{ pathBase64: string }> }> }> };
  const paths = report.syncs[0]?.targets[0]?.items.map((i) => Buffer.from(i.pathBase64, 'base64')) ?? [];
  assert.ok(paths.some((p) => p.equals(oddNames.nonUtf8)), 'the non-UTF-8 name comes back exact');
  assert.deepEqual(await compareTrees(src, dst), before, 'check changed nothing');
});

test('over ssh with --config: every target of every sync, a drifted host gives exit 1', async (t) => {
  const { src, dst, base } = mirrorPair(t);
  await copyTree(src, dst);
  const host = await startSshd(t);
  const remote = join(base, 'remote');
  mkdirSync(remote);
  const config = join(base, 'inosync.yaml');
  writeFileSync(config, [
    'syncs:',
    `  - source: ${src}`,
    `    targets: [${dst}, "${host.spec(remote)}"]`,
    `    ssh: { port: ${host.port}, identity: ${host.identity}, options: ${JSON.stringify(host.sshOptions)} }`,
  ].join('\n'));
  const result = await runCli(['check', '--config', config]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, new RegExp(`^${src} -> ${dst}: identical$`, 'm'));
  assert.match(result.stdout, new RegExp(`^${src} -> ${host.spec(remote).replace(/\./g, '\\.')}: \\d+ differences$`, 'm'));
  assert.deepEqual(readdirSync(remote), []);
});

test('a target that cannot be reached: exit 2 and why', async (t) => {
  const { src } = mirrorPair(t);
  // A port nobody listens on: bound, then closed.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const result = await runCli(['check', '--source', src, '--target', `nobody@127.0.0.1:${tempDir(t)}`, '--ssh-port', String(port), '--timeout', '5']);
  assert.equal(result.code, 2, result.stdout + result.stderr);
  assert.match(result.stdout, /cannot compare: .*(refused|Connection)/i);
});
