// The password file of an rsync daemon target: checked before anything starts, so that rsync (which reads it
// at each connection, and as root refuses one others can read) never fails on it in the middle of a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InosyncError } from '../../src/errors.js';
import { parseTarget } from '../../src/rsync/target.js';
import { tempDir } from '../helpers/tmp.js';

const spec = 'rsync://backup@10.0.0.7/www';

function refused(file: string, why: RegExp, fix: RegExp): void {
  assert.throws(() => parseTarget(spec, { passwordFile: file }), (error: unknown) => {
    assert.ok(error instanceof InosyncError);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, why);
    assert.match(error.fix, fix);
    return true;
  });
}

test('a password file readable by its owner alone is taken, made absolute', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'secret');
  writeFileSync(file, 'pw\n', { mode: 0o600 });
  const target = parseTarget(spec, { passwordFile: file });
  assert.equal(target.kind === 'daemon' && target.passwordFile, file);
  chmodSync(file, 0o400);
  assert.equal(parseTarget('10.0.0.7::www', { passwordFile: file }).kind, 'daemon');
});

test('a password file group or others can read is refused, with the chmod that mends it', (t) => {
  const file = join(tempDir(t), 'secret');
  writeFileSync(file, 'pw\n');
  chmodSync(file, 0o644);
  refused(file, /group or others \(mode 0644\)/, /chmod 600/);
  chmodSync(file, 0o640);
  refused(file, /mode 0640/, /chmod 600/);
});

test('a missing, empty, symlinked or non-regular password file is refused', (t) => {
  const dir = tempDir(t);
  refused(join(dir, 'missing'), /cannot be read: ENOENT/, /install -m 600/);
  writeFileSync(join(dir, 'empty'), '', { mode: 0o600 });
  refused(join(dir, 'empty'), /is empty/, /password/);
  writeFileSync(join(dir, 'real'), 'pw\n', { mode: 0o600 });
  symlinkSync(join(dir, 'real'), join(dir, 'link'));
  refused(join(dir, 'link'), /is a symlink/, /file itself/);
  mkdirSync(join(dir, 'adir'), { mode: 0o700 });
  refused(join(dir, 'adir'), /not a regular file/, /regular file/);
});

test('a password file owned by another user is refused (rsync as root refuses it too)', { skip: process.getuid?.() !== 0 }, (t) => {
  const file = join(tempDir(t), 'secret');
  writeFileSync(file, 'pw\n', { mode: 0o600 });
  chownSync(file, 65534, 65534);
  refused(file, /owned by uid 65534/, /chown/);
});

test('ssh targets and local directories take no password file', () => {
  assert.equal('passwordFile' in parseTarget('host:/srv', { passwordFile: '/nonexistent' }), false);
});
