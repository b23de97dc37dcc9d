// A seeded random workload on a source tree: thousands of mixed operations on files, directories and links.
// The same seed gives the same sequence of operations (what the kernel and rsync make of them may differ).
import { appendFileSync, chmodSync, linkSync, mkdirSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** mulberry32: small, fast, good enough to pick operations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from INOSYNC_SEED, or a fresh one. */
export function seedFromEnv(): number {
  const given = process.env.INOSYNC_SEED;
  return given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

export class Workload {
  private readonly random: () => number;
  private readonly files: string[] = [];
  private readonly dirs: string[] = [''];
  private counter = 0;

  constructor(private readonly root: string, private readonly outside: string, seed: number) {
    this.random = prng(seed);
  }

  /** Runs `count` operations; an operation the tree no longer allows (raced by an earlier one) is skipped. */
  run(count: number): void {
    for (let i = 0; i < count; i++) {
      try {
        this.step();
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (!['ENOENT', 'EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'EISDIR', 'EINVAL'].includes(code ?? '')) throw error;
      }
    }
  }

  private pick<T>(list: T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private name(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.counter}${this.random() < 0.1 ? ' odd\nname' : ''}`;
  }

  private abs(rel: string): string {
    return join(this.root, rel);
  }

  private forget(rel: string): void {
    const under = (p: string): boolean => p === rel || p.startsWith(`${rel}/`);
    for (const list of [this.files, this.dirs]) for (let i = list.length - 1; i >= 0; i--) if (under(list[i]!)) list.splice(i, 1);
  }

  private renameModel(from: string, to: string): void {
    for (const list of [this.files, this.dirs]) {
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        if (p === from) list[i] = to;
        else if (p.startsWith(`${from}/`)) list[i] = to + p.slice(from.length);
      }
    }
  }

  private step(): void {
    const r = this.random();
    const dir = this.pick(this.dirs);
    const file = this.files.length > 0 ? this.pick(this.files) : undefined;
    const content = 'x'.repeat(Math.floor(this.random() * 2000));
    if (r < 0.3 || file === undefined) {
      const rel = join(dir, this.name('f'));
      writeFileSync(this.abs(rel), content);
      this.files.push(rel);
    } else if (r < 0.42) {
      appendFileSync(this.abs(file), content);
    } else if (r < 0.47) {
      truncateSync(this.abs(file), Math.floor(this.random() * 100));
    } else if (r < 0.52) {
      chmodSync(this.abs(file), this.random() < 0.5 ? 0o600 : 0o755);
    } else if (r < 0.62) {
      unlinkSync(this.abs(file));
      this.forget(file);
    } else if (r < 0.7) {
      const to = join(this.pick(this.dirs), this.name('r'));
      renameSync(this.abs(file), this.abs(to));
      this.renameModel(file, to);
    } else if (r < 0.8) {
      const rel = join(dir, this.name('d'));
      mkdirSync(this.abs(rel));
      this.dirs.push(rel);
    } else if (r < 0.85 && dir !== '') {
      const parent = this.pick(this.dirs);
      if (parent === dir || parent.startsWith(`${dir}/`)) return;
      const to = join(parent, this.name('m'));
      renameSync(this.abs(dir), this.abs(to));
      this.renameModel(dir, to);
    } else if (r < 0.88 && dir !== '') {
      rmSync(this.abs(dir), { recursive: true });
      this.forget(dir);
    } else if (r < 0.91 && dir !== '') {
      // Out of the tree and, half the time, back in under another name.
      const away = join(this.outside, this.name('away'));
      renameSync(this.abs(dir), away);
      this.forget(dir);
      if (this.random() < 0.5) {
        const back = join(this.pick(this.dirs), this.name('back'));
        renameSync(away, this.abs(back));
        this.dirs.push(back);
      }
    } else if (r < 0.95) {
      const rel = join(dir, this.name('s'));
      symlinkSync(this.random() < 0.5 ? file : 'dangling/target', this.abs(rel));
      this.files.push(rel);
    } else {
      const rel = join(dir, this.name('h'));
      linkSync(this.abs(file), this.abs(rel));
      this.files.push(rel);
    }
  }
}
