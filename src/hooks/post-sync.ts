// `--on-sync CMD`: a user's program run after each successful batch for a host, without a shell.
//
// The program learns what happened from its environment: INOSYNC_HOST, INOSYNC_TARGET, INOSYNC_SOURCE,
// INOSYNC_COUNT and INOSYNC_PATHS_FILE (the paths, relative to the source, NUL-separated: names may hold
// newlines). A hook never holds syncing back: batches that succeed while a host's hook still runs are
// gathered and handed to its next run, so a slow hook sees every path but never piles up processes.
//
// A run is the program and everything it starts (src/rsync/child.ts, `contained`): it ends when the
// program exits, and what it left running in the background is killed then, as at its timeout, at stop,
// and when the agent dies.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { runChild } from '../rsync/child.js';

export interface SyncedBatch {
  source: string;
  /** The target as the user wrote it. */
  target: string;
  /** The host name ('localhost' for a local directory). */
  host: string;
  /** Paths the batch sent or deleted, relative to the source; empty for a full sync. */
  paths: readonly Buffer[];
  /** True for a full sync of the tree (startup, resync, verification). */
  full: boolean;
}

export interface PostSyncHookOptions {
  argv: readonly string[];
  logger: Logger;
  /** A run still going after this long is killed; default 5 minutes. */
  timeoutMs?: number;
}

interface HostRun {
  running: Promise<void> | null;
  next: SyncedBatch | null;
}

const NUL = Buffer.alloc(1);

function merge(a: SyncedBatch, b: SyncedBatch): SyncedBatch {
  return { ...b, full: a.full || b.full, paths: [...a.paths, ...b.paths] };
}

export class PostSyncHook {
  private readonly argv: readonly string[];
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly hosts = new Map<string, HostRun>();
  private dir: Promise<string> | null = null;
  /** Aborted by close(): kills the runs still going. */
  private readonly stopping = new AbortController();
  private sequence = 0;

  constructor(options: PostSyncHookOptions) {
    this.argv = options.argv;
    this.logger = options.logger.child({ hook: options.argv[0] });
    this.timeoutMs = options.timeoutMs ?? 300_000;
  }

  /** Called after a successful batch; returns at once. */
  notify(batch: SyncedBatch): void {
    const key = `${batch.source}\0${batch.target}`;
    let run = this.hosts.get(key);
    if (!run) this.hosts.set(key, (run = { running: null, next: null }));
    run.next = run.next ? merge(run.next, batch) : batch;
    if (!run.running) this.drain(key, run);
  }

  private drain(key: string, run: HostRun): void {
    const batch = run.next;
    if (!batch) {
      this.hosts.delete(key);
      return;
    }
    run.next = null;
    run.running = this.runOnce(batch).finally(() => {
      run.running = null;
      this.drain(key, run);
    });
  }

  private async runOnce(batch: SyncedBatch): Promise<void> {
    this.dir ??= mkdtemp(join(tmpdir(), 'inosync-hook-'));
    const file = join(await this.dir, `paths-${process.pid}-${++this.sequence}`);
    const log = this.logger.child({ target: batch.target, count: batch.paths.length });
    try {
      await writeFile(file, Buffer.concat(batch.paths.flatMap((p) => [p, NUL])), { mode: 0o600 });
      const [program, ...args] = this.argv as [string, ...string[]];
      const result = await runChild({
        command: program,
        args,
        contained: true,
        deadlineMs: this.timeoutMs,
        signal: this.stopping.signal,
        env: {
          ...process.env,
          INOSYNC_HOST: batch.host,
          INOSYNC_TARGET: batch.target,
          INOSYNC_SOURCE: batch.source,
          INOSYNC_COUNT: String(batch.paths.length),
          INOSYNC_FULL: batch.full ? '1' : '0',
          INOSYNC_PATHS_FILE: file,
        },
      });
      const ms = Math.round(result.durationMs);
      if (result.spawnError) throw result.spawnError;
      if (result.exitCode === 0) log.debug({ ms }, 'on-sync hook done');
      else log.warn({ ms, code: result.exitCode, signal: result.signal, killed: result.killed, stderr: result.stderrTail }, 'on-sync hook failed (syncing goes on)');
    } catch (error) {
      log.warn({ err: error }, 'on-sync hook could not run (syncing goes on)');
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * Lets the runs in progress (and the ones gathered behind them) finish for up to `graceMs`, kills what
   * is still running, then removes the paths directory.
   */
  async close(graceMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
    const drained = (async () => {
      while (this.hosts.size > 0) await Promise.all([...this.hosts.values()].map((run) => run.running));
    })();
    await Promise.race([drained, late]);
    clearTimeout(timer);
    for (const run of this.hosts.values()) run.next = null;
    this.stopping.abort();
    await drained;
    if (this.dir) await rm(await this.dir, { recursive: true, force: true });
  }
}
