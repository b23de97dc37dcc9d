// Extended attributes and ACLs of test files, by the attr and acl packages' tools (Node has no call for
// either; scripts/setup.sh installs them). Tests that need them skip where they are missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why a test of xattrs cannot run here (setfattr or setfacl missing, or a temp filesystem that holds neither), or false. */
export const noXattrTools: string | false = ['setfattr', 'getfattr', 'setfacl', 'getfacl'].find((tool) => spawnSync(tool, ['--version']).error !== undefined)
  ?.concat(' is not installed (apt-get install attr acl)') ?? tempFilesystemRefuses();

/** The tests' files live under os.tmpdir(): a tmpfs before Linux 6.6 takes no user.* xattr, one without POSIX ACLs no ACL. */
function tempFilesystemRefuses(): string | false {
  const dir = mkdtempSync(join(tmpdir(), 'inosync-xattr-probe-'));
  try {
    const xattr = spawnSync('setfattr', ['-n', 'user.probe', '-v', '1', '--', dir]).status === 0;
    const acl = spawnSync('setfacl', ['-m', 'u:nobody:r', '--', dir]).status === 0;
    return xattr && acl ? false : `${tmpdir()} takes no ${xattr ? 'ACL' : 'user.* xattr'} here`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function setXattr(path: string, name: string, value: string): void {
  execFileSync('setfattr', ['-h', '-n', name, '-v', value, '--', path]);
}

/** `path`'s xattrs of every namespace (ACLs among them), as getfattr dumps them, without its header line. */
export function xattrsOf(path: string): string {
  return execFileSync('getfattr', ['-h', '-d', '-m', '-', '--absolute-names', '--', path], { encoding: 'utf8' }).split('\n').slice(1).join('\n').trim();
}

/** Adds an ACL entry (setfacl -m syntax, e.g. `u:nobody:r`). */
export function addAcl(path: string, entry: string): void {
  execFileSync('setfacl', ['-m', entry, '--', path]);
}

/** `path`'s ACL entries, one a line, without the header. */
export function aclOf(path: string): string {
  return execFileSync('getfacl', ['-c', '-p', '--', path], { encoding: 'utf8' }).trim();
}
