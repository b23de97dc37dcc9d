// A filesystem of a test's own (needs root): a size-limited tmpfs mounted on a directory, that can be
// filled, given room, and remounted read-only and back, for targets that meet a full or read-only disk.
//
//   const disk = smallTmpfs(t, 256);        // 256 KiB, unmounted and removed when the test ends
//   disk.resize(4096); disk.readOnly(); disk.readWrite();
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CleanupContext } from './tmp.js';

export interface SmallDisk {
  readonly dir: string;
  /** Gives the filesystem a new size (KiB), keeping what it holds. */
  resize(kib: number): void;
  readOnly(): void;
  readWrite(): void;
}

export function smallTmpfs(t: CleanupContext, kib: number): SmallDisk {
  if (process.getuid?.() !== 0) throw new Error('smallTmpfs needs root (mount)');
  const dir = mkdtempSync(join(tmpdir(), 'inosync-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0755`, 'inosync-test', dir]);
  // Lazy: a process still inside does not keep it mounted.
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const remount = (options: string): void => { execFileSync('mount', ['-o', `remount,${options}`, dir]); };
  return {
    dir,
    resize: (size) => remount(`size=${size}k`),
    readOnly: () => remount('ro'),
    readWrite: () => remount('rw'),
  };
}
