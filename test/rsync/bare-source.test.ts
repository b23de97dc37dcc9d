// Which sources a full sync may send without -A and -X (src/rsync/bare-source.ts): only those whose every
// filesystem cannot hold an ACL or an xattr, as /proc/self/mountinfo says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { bareSource, parseMountinfo, treeFilesystems } from '../../src/rsync/bare-source.js';
import { Transport } from '../../src/rsync/transport.js';
import { parseTarget } from '../../src/rsync/target.js';
import { compareTrees } from '../helpers/compare.js';
import { makeTree, tempDir } from '../helpers/tmp.js';

const line = (id: number, point: string, type: string, options = 'rw'): string => `${id} 1 0:${id} / ${point} ${options} shared:${id} - ${type} none rw`;
const MOUNTS = [
  line(1, '/', 'ext4'),
  line(2, '/srv', 'ramfs'),
  line(3, '/srv/data', 'tmpfs'),
  line(4, '/media/usb\\040stick', 'vfat'),
  line(5, '/media/usb\\040stick/inner', 'exfat'),
  line(6, '/over', 'ramfs'),
  line(7, '/over', 'xfs'),
].join('\n');

test('mountinfo: mount points unescaped, types read after the separator whatever optional fields come before', () => {
  const mounts = parseMountinfo(`${MOUNTS}\n8 1 0:8 / /opt rw master:1 shared:9 - nfs4 host:/x rw\n\n`);
  assert.deepEqual(mounts.map((m) => `${m.point}=${m.type}`), ['/=ext4', '/srv=ramfs', '/srv/data=tmpfs', '/media/usb stick=vfat', '/media/usb stick/inner=exfat', '/over=ramfs', '/over=xfs', '/opt=nfs4']);
});

test('a tree lies on the mount that holds it (the latest on its point) and on every mount below it', () => {
  const mounts = parseMountinfo(MOUNTS);
  assert.deepEqual(treeFilesystems('/srv/www', mounts), ['ramfs']);
  assert.deepEqual(treeFilesystems('/srv', mounts), ['ramfs', 'tmpfs']);
  assert.deepEqual(treeFilesystems('/srv/dat', mounts), ['ramfs'], 'a sibling that only starts like a mount point is not in it');
  assert.deepEqual(treeFilesystems('/media/usb stick', mounts), ['vfat', 'exfat']);
  assert.deepEqual(treeFilesystems('/over/x', mounts), ['xfs'], 'mounted over: the one on top');
  assert.deepEqual(treeFilesystems('/home', mounts), ['ext4']);
});

test('bare only when every filesystem of the tree has no xattr handlers; unsure is not bare', (t) => {
  const dir = tempDir(t);
  const at = (type: string, below?: string): string => [line(1, '/', 'ext4'), line(2, dir, type), ...(below ? [line(3, `${dir}/inner`, below)] : [])].join('\n');
  assert.equal(bareSource(dir, () => at('ramfs')).bare, true);
  assert.equal(bareSource(dir, () => at('vfat', 'exfat')).bare, true);
  assert.equal(bareSource(dir, () => at('ramfs', 'tmpfs')).bare, false, 'a filesystem below that can hold them');
  assert.equal(bareSource(dir, () => at('tmpfs')).bare, false);
  assert.equal(bareSource(join(dir, 'missing'), () => at('ramfs')).bare, false, 'a source that cannot be resolved');
  assert.equal(bareSource(dir, () => { throw new Error('no /proc'); }).bare, false);
});

test('a full sync of a source on ramfs leaves out -A and -X, says so, and converges', { skip: process.getuid?.() !== 0 && 'needs root (mount)' }, async (t) => {
  const src = mkdtempSync(join(tmpdir(), 'inosync-ramfs-'));
  execFileSync('mount', ['-t', 'ramfs', 'inosync-test', src]);
  t.after(() => {
    execFileSync('umount', ['-l', src]);
    rmSync(src, { recursive: true, force: true });
  });
  const dst = tempDir(t);
  makeTree(src, [{ path: 'a/f', content: 'x' }, { path: 'b/g', content: 'y' }]);
  writeFileSync(join(dst, 'stale'), 'old');
  const lines: Array<{ msg?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (text: string) => { lines.push(JSON.parse(text) as { msg?: string }); } });
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, logger });
  t.after(() => transport.stop());

  for (let i = 0; i < 2; i++) {
    const result = await transport.fullSync();
    assert.equal(result.outcome, 'ok', result.message);
  }

  assert.deepEqual(await compareTrees(src, dst), []);
  assert.deepEqual(lines.map((l) => l.msg).filter((msg) => msg?.includes('hold no ACLs')), Array(2).fill('the source\'s filesystems hold no ACLs or xattrs: this full sync runs with --no-A --no-X'), 'said by each full sync');
});
