// ACLs and xattrs: a full sync leaves out -A/-X only when the scan before it found none on the source
// (src/state/recorder.ts, src/rsync/transport.ts); what gets one later is sent by a batch that keeps them.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/wait.js';
import { aclOf, addAcl, noXattrTools, setXattr, xattrsOf } from '../helpers/xattrs.js';
import { converged, makeMirror, startAgent, type LogLine } from './harness.js';
import { synced } from './restart.js';

const KEPT = 'the source may hold ACLs or xattrs: this full sync keeps -A/-X';
const LEFT_OUT = 'the scan before this full sync found no ACL or xattr on the source: it runs with --no-A --no-X';
const said = (logs: LogLine[]): string[] => logs.map((l) => l.msg).filter((msg) => msg === KEPT || msg === LEFT_OUT);

function seed(src: string): void {
  mkdirSync(join(src, 'a', 'b', 'c'), { recursive: true });
  for (const file of ['a/b/c/deep', 'a/b/acl', 'top']) writeFileSync(join(src, file), `${file}\n`);
}

test('a source with an xattr and an ACL deep in the tree: the first full sync keeps -A/-X and the target gets both', { skip: noXattrTools }, async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  seed(mirror.src);
  setXattr(join(mirror.src, 'a', 'b', 'c', 'deep'), 'user.mark', 'deep');
  addAcl(join(mirror.src, 'a', 'b', 'acl'), 'u:nobody:r');
  const agent = await startAgent(t, mirror);
  await agent.waitForLog(synced('full'), 'the first full sync', 20_000);
  await converged(mirror);
  assert.deepEqual(said(agent.logs()), [KEPT]);
  const dst = mirror.dirs[0]!;
  assert.match(xattrsOf(join(dst, 'a', 'b', 'c', 'deep')), /user\.mark="deep"/);
  assert.equal(aclOf(join(dst, 'a', 'b', 'acl')), aclOf(join(mirror.src, 'a', 'b', 'acl')));
  assert.match(aclOf(join(dst, 'a', 'b', 'acl')), /user:nobody:r--/);
});

test('a source with none: the full sync runs without -A/-X (a hand-set target xattr stays); one set later still arrives', { skip: noXattrTools }, async (t) => {
  const mirror = await makeMirror(t, { local: 1, ssh: 0 });
  seed(mirror.src);
  const dst = mirror.dirs[0]!;
  execFileSync('cp', ['-p', join(mirror.src, 'top'), join(dst, 'top')]); // the same file: rsync leaves it in place
  setXattr(join(dst, 'top'), 'user.by-hand', 'stays');
  const agent = await startAgent(t, mirror);
  await agent.waitForLog(synced('full'), 'the first full sync', 20_000);
  await converged(mirror);
  assert.deepEqual(said(agent.logs()), [LEFT_OUT]);
  assert.match(xattrsOf(join(dst, 'top')), /user\.by-hand="stays"/, 'the trade: not pruned by a full sync that leaves out -X');

  // Given after the scan: each is an attribute change, sent by a batch with -A/-X.
  setXattr(join(mirror.src, 'a', 'b', 'c', 'deep'), 'user.mark', 'later');
  addAcl(join(mirror.src, 'a', 'b', 'acl'), 'u:nobody:rw');
  await waitFor(() => /user\.mark="later"/.test(xattrsOf(join(dst, 'a', 'b', 'c', 'deep'))), { what: 'the xattr set after startup on the target', timeoutMs: 15_000 });
  await waitFor(() => /user:nobody:rw-/.test(aclOf(join(dst, 'a', 'b', 'acl'))), { what: 'the ACL set after startup on the target', timeoutMs: 15_000 });

  // The next full sync's scan sees them: it keeps -A/-X.
  agent.cli.child.kill('SIGUSR1');
  await waitFor(() => said(agent.logs()).length === 2, { what: 'the second full sync to say what it does', timeoutMs: 15_000 });
  assert.deepEqual(said(agent.logs()), [LEFT_OUT, KEPT]);
  await agent.waitForLog((l) => synced('full')(l) && agent.logs().filter(synced('full')).length === 2, 'the second full sync', 20_000);
  await converged(mirror);
});
