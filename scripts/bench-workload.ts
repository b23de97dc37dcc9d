// A random workload on a live tree, for the footprint rows and the soak: create, write, truncate, rename,
// delete, chmod, mkdir and rmdir, with names that break naive tools among the ordinary ones (test/e2e/workload.ts
// adds links and moves out of the tree, for the tests). The tree stays
// bounded (MAX_FILES, MAX_DIRS) so that a long run exercises churn, not growth. Seeded: a run can be repeated.
import { appendFileSync, chmodSync, mkdirSync, renameSync, rmdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { prng } from '../test/e2e/workload.js';
import { oddNames } from '../test/helpers/tmp.js';

const MAX_FILES = 400;
const MAX_DIRS = 40;
const HOSTILE = Object.values(oddNames);
const SLASH = Buffer.from('/');

export type Op = 'create' | 'write' | 'truncate' | 'rename' | 'delete' | 'chmod' | 'mkdir' | 'rmdir';

export class Workload {
  /** Operations done, by kind (those that found nothing to act on are not counted). */
  readonly done: Record<Op, number> = { create: 0, write: 0, truncate: 0, rename: 0, delete: 0, chmod: 0, mkdir: 0, rmdir: 0 };
  private readonly rand: () => number;
  private readonly root: Buffer;
  /** Paths relative to the root. */
  private files: Buffer[] = [];
  private dirs: Buffer[] = [];
  private serial = 0;

  constructor(root: string, seed = 1) {
    this.root = Buffer.from(root);
    this.rand = prng(seed);
  }

  /** Does one random operation. */
  step(): void {
    const r = this.rand();
    const op: Op = this.files.length === 0 ? 'create'
      : r < 0.2 ? (this.files.length < MAX_FILES ? 'create' : 'delete')
        : r < 0.4 ? 'write' : r < 0.5 ? 'truncate' : r < 0.62 ? 'rename' : r < 0.78 ? 'delete' : r < 0.88 ? 'chmod'
          : r < 0.95 ? (this.dirs.length < MAX_DIRS ? 'mkdir' : 'rmdir') : 'rmdir';
    try {
      if (this[op]()) this.done[op]++;
    } catch (error) {
      // A directory that still holds files (rmdir) or a name taken meanwhile: skip, the model stays true.
      if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }

  private abs(rel: Buffer): Buffer {
    return Buffer.concat([this.root, SLASH, rel]);
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs[Math.floor(this.rand() * xs.length)];
  }

  /** A new name in a random directory (the root too); one in ten is hostile. */
  private freshPath(): Buffer {
    const base = Buffer.from(`f${this.serial++}`);
    const name = this.rand() < 0.1 ? Buffer.concat([this.pick(HOSTILE) ?? base, Buffer.from(`.${this.serial}`)]) : base;
    const dir = this.rand() < 0.3 ? undefined : this.pick(this.dirs);
    return dir === undefined ? name : Buffer.concat([dir, SLASH, name]);
  }

  private data(): Buffer {
    return Buffer.alloc(1 + Math.floor(this.rand() * 8192), this.serial & 0xff);
  }

  private create(): boolean {
    const path = this.freshPath();
    writeFileSync(this.abs(path), this.data(), { flag: 'wx' });
    this.files.push(path);
    return true;
  }

  private write(): boolean {
    const path = this.pick(this.files)!;
    if (this.rand() < 0.5) appendFileSync(this.abs(path), this.data());
    else writeFileSync(this.abs(path), this.data());
    return true;
  }

  private truncate(): boolean {
    truncateSync(this.abs(this.pick(this.files)!), Math.floor(this.rand() * 100));
    return true;
  }

  private chmod(): boolean {
    chmodSync(this.abs(this.pick(this.files)!), this.rand() < 0.5 ? 0o600 : 0o644);
    return true;
  }

  private delete(): boolean {
    const index = Math.floor(this.rand() * this.files.length);
    unlinkSync(this.abs(this.files[index]!));
    this.files.splice(index, 1);
    return true;
  }

  /** A file to a fresh name, or (one time in four) a directory, whose files and subdirectories follow it. */
  private rename(): boolean {
    if (this.rand() < 0.25 && this.dirs.length > 0) {
      const from = this.pick(this.dirs)!;
      const to = Buffer.from(`d${this.serial++}`);
      renameSync(this.abs(from), this.abs(to));
      const moved = (p: Buffer): Buffer => (p.equals(from) ? to : isUnder(p, from) ? Buffer.concat([to, p.subarray(from.length)]) : p);
      this.files = this.files.map(moved);
      this.dirs = this.dirs.map(moved);
      return true;
    }
    const index = Math.floor(this.rand() * this.files.length);
    const to = this.freshPath();
    renameSync(this.abs(this.files[index]!), this.abs(to));
    this.files[index] = to;
    return true;
  }

  private mkdir(): boolean {
    const parent = this.rand() < 0.5 ? undefined : this.pick(this.dirs);
    const name = Buffer.from(`d${this.serial++}`);
    const path = parent === undefined ? name : Buffer.concat([parent, SLASH, name]);
    mkdirSync(this.abs(path));
    this.dirs.push(path);
    return true;
  }

  /** An empty directory, if one is there. */
  private rmdir(): boolean {
    const busy = new Set([...this.files, ...this.dirs].flatMap((p) => parents(p).map((d) => d.toString('latin1'))));
    const index = this.dirs.findIndex((d) => !busy.has(d.toString('latin1')));
    if (index < 0) return false;
    rmdirSync(this.abs(this.dirs[index]!));
    this.dirs.splice(index, 1);
    return true;
  }
}

function isUnder(path: Buffer, dir: Buffer): boolean {
  return path.length > dir.length && path[dir.length] === 0x2f && path.subarray(0, dir.length).equals(dir);
}

function parents(path: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = path.indexOf(0x2f); i >= 0; i = path.indexOf(0x2f, i + 1)) out.push(path.subarray(0, i));
  return out;
}

/** Runs `count` operations spread evenly over `seconds`; resolves when the last is done. */
export async function paced(workload: Workload, count: number, seconds: number): Promise<void> {
  const t0 = performance.now();
  const gap = (seconds * 1000) / count;
  for (let i = 0; i < count; i++) {
    workload.step();
    const wait = t0 + (i + 1) * gap - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
