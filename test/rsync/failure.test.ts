// The failures that last until someone fixes them, named from rsync's and ssh's own words (captured here on
// rsync 3.5 and OpenSSH 9.2), each with its fix; anything else is passed on as the tools' first line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, saysNoRemoteRsync } from '../../src/rsync/failure.js';

const cases: Array<[string, string, string]> = [
  ['unknown-host-key', 'Host key verification failed.', 'StrictHostKeyChecking=accept-new'],
  ['auth-refused', 'mirror@127.0.0.5: Permission denied (publickey).', '--ssh-identity'],
  ['missing-parent', 'rsync: [Receiver] mkdir "/srv/no/such" failed: No such file or directory (2)\nrsync error: error in file IO (code 11) at main.c(808) [Receiver=3.5.0]', 'mkdir -p'],
  ['missing-parent', 'rsync: [Receiver] change_dir#3 "/srv/no" failed: No such file or directory (2)', 'mkdir -p'],
  ['read-only', 'rsync: [receiver] mkstemp "/mnt/.big.kYeE3Q" failed: Read-only file system (30)', 'remount'],
  ['full', 'rsync: [receiver] write failed on "/mnt/x/big": No space left on device (28)\nrsync error: error in file IO (code 11) at receiver.c(657) [receiver=3.5.0]', 'free space'],
  ['permission-denied', 'rsync: [receiver] mkstemp "/srv/.a.XyZ" failed: Permission denied (13)', 'write access'],
  ['no-remote-rsync', 'bash: line 1: /opt/rsync: No such file or directory', '--rsync-path'],
  ['no-remote-rsync', 'sh: 1: rsync: not found', '--rsync-path'],
  ['no-remote-rsync', 'bash: rsync: command not found', '--rsync-path'],
];

for (const [kind, stderr, fix] of cases) {
  test(`"${stderr.split('\n')[0]}" is a lasting failure: ${kind}, with its fix`, () => {
    const diagnosis = diagnose(stderr);
    assert.equal(diagnosis.cause?.kind, kind);
    assert.ok(diagnosis.cause.fix.includes(fix), diagnosis.cause.fix);
    assert.equal(diagnosis.said, stderr.split('\n')[0]);
    assert.equal(saysNoRemoteRsync(stderr.split('\n')[0]!), kind === 'no-remote-rsync', 'the per-line check agrees');
  });
}

test('a source file that cannot be read is not the target\'s permission problem', () => {
  const diagnosis = diagnose('rsync: [sender] send_files failed to open "/src/secret": Permission denied (13)');
  assert.equal(diagnosis.cause, undefined);
  assert.match(diagnosis.said, /send_files failed/);
});

test('a passing failure keeps the tools\' first line and names no cause', () => {
  const diagnosis = diagnose('Warning: Permanently added \'h\' (ED25519) to the list of known hosts.\nssh: connect to host 127.0.0.9 port 22: Connection refused\nrsync: connection unexpectedly closed (0 bytes received so far) [sender]\nrsync error: unexplained error (code 255) at io.c(232) [sender=3.5.0]');
  assert.equal(diagnosis.cause, undefined);
  assert.equal(diagnosis.said, 'ssh: connect to host 127.0.0.9 port 22: Connection refused');
});
