// The running agent: every sync of the plan, the status socket, metrics, hooks, periodic verification, and
// live control (SIGHUP re-reads the config, SIGUSR1 forces a full resync). To `inosync sync` it looks like
// one engine: start(), stop(drainMs) returning what was left unsynced, and 'error'.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InosyncError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { stderrLine } from '../log/terminal-line.js';
import { checkWatchBudget, WatchBudgetError } from '../limits/budget.js';
import { chooseUnwatched } from '../limits/partial.js';
import { PostSyncHook } from '../hooks/post-sync.js';
import type { MetricsServer } from '../metrics/server.js';
import type { Target } from '../rsync/target.js';
import { SyncEngine, type Unsynced } from '../sync/engine.js';
import { hasOwnRules, watchExclude } from '../sync/target-filter.js';
import type { BatchReport } from '../sync/host-queue.js';
import { SocketBusyError, startStatusServer, type StatusServer } from '../status/server.js';
import type { AgentStatus } from '../status/types.js';
import { onSignal } from '../safety/signals.cjs';
import { showStartupProgress, type Progress } from './agent-progress.js';
import { HeapTrim } from './heap-trim.js';
import { planCommandLine, type AgentArgs, type AgentPlan, type PlannedSync } from './agent-plan.js';
import type { SyncArgs } from './sync-options.js';

interface RunningSync {
  plan: PlannedSync;
  engine: SyncEngine;
  hook: PostSyncHook | null;
  /** The hook's command as JSON, to tell when a reload changes it. */
  hookCommand: string;
  verifyTimer: NodeJS.Timeout | null;
  /** Targets whose next full sync is a verification pass (its result is logged as a repair). */
  verifying: Set<string>;
}

function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'inosync') return pkg.version ?? 'unknown';
    } catch {
      // not here: go up
    }
  }
  return 'unknown';
}

/**
 * What decides whether an engine can be kept when the config changes (targets are diffed one by one, but
 * their own filter rules shape what the engine watches).
 */
function engineKey(plan: PlannedSync): string {
  const { targets, logger: _logger, ...rest } = plan.options;
  const rules = targets.filter(hasOwnRules).map((t) => [t.spec, t.includes, t.excludes]);
  return JSON.stringify({ ...rest, rules });
}

const targetKey = (target: Target): string => JSON.stringify(target);

function hostOf(target: Target | undefined): string {
  return target === undefined || target.kind === 'local' ? 'localhost' : target.host;
}

export class Agent extends EventEmitter<{ error: [InosyncError] }> {
  private readonly args: SyncArgs & AgentArgs;
  private readonly logger: Logger;
  private plan: AgentPlan;
  private readonly running = new Map<string, RunningSync>();
  /** Engines whose start() runs (arming watches, the startup scan): shown by status already. */
  private readonly starting = new Set<SyncEngine>();
  private readonly startedAt = new Date().toISOString();
  private readonly version = packageVersion();
  private status: StatusServer | null = null;
  private metrics: MetricsServer | null = null;
  private stopping = false;
  private progress: Progress | null = null;
  /** Full collections after the startup and after batches that grew the heap (heap-trim.ts). */
  private readonly heapTrim = new HeapTrim({
    collected: (before, after) => this.logger.debug({ heapUsedBefore: before, heapUsedAfter: after }, 'full garbage collection'),
  });
  private reloading: Promise<void> = Promise.resolve();
  /** start() in flight: stop() waits for it, so that nothing it opens outlives the agent. */
  private startup: Promise<void> = Promise.resolve();
  private unsubscribe: Array<() => void> = [];
  private readonly onHup = (): void => {
    if (this.stopping) {
      this.logger.info('SIGHUP ignored: stopping');
      return;
    }
    this.reloading = this.reloading.then(() => this.reload()).catch((error: unknown) => {
      this.logger.error({ err: error }, 'SIGHUP: the reload failed half-way; `inosync status` shows what runs');
    });
  };
  private readonly onUsr1 = (): void => {
    if (this.stopping) this.logger.info('SIGUSR1 ignored: stopping');
    else this.resyncAll('SIGUSR1');
  };

  constructor(args: SyncArgs & AgentArgs, plan: AgentPlan, logger: Logger) {
    super();
    this.args = args;
    this.plan = plan;
    this.logger = logger;
    this.applyAgentSettings(plan);
  }

  /**
   * Opens the status socket (and metrics), arms every sync's watches, starts their full syncs. A stop()
   * meanwhile ends it early; a SIGHUP or SIGUSR1 that came during it is acted on at its end.
   */
  start(): Promise<void> {
    this.startup = this.open();
    return this.startup;
  }

  private async open(): Promise<void> {
    this.status = await this.openSocket(this.plan);
    if (this.stopping) return;
    this.metrics = await this.openMetrics(this.plan);
    const started = Promise.all(this.plan.syncs.map((planned) => this.startSync(planned)));
    // From the first moment: the startup scans run inside start().
    const progress = showStartupProgress(() => this.snapshot(), process.stderr.isTTY ? stderrLine : null, this.logger, () => process.stderr.columns ?? 80, () => this.heapTrim.afterStartup());
    this.progress = progress;
    try {
      await started;
    } catch (error) {
      this.stopping = true;
      progress.stop();
      await this.halt(0);
      throw error;
    }
    if (this.stopping) {
      progress.stop();
      return;
    }
    this.unsubscribe = [onSignal('SIGHUP', this.onHup), onSignal('SIGUSR1', this.onUsr1)];
    this.logger.info({ socket: this.status?.path ?? null, metrics: this.metrics ? `${this.metrics.address.host}:${this.metrics.address.port}` : null, syncs: this.running.size }, 'agent running (SIGHUP reloads the config, SIGUSR1 resyncs every target)');
  }

  async stop(drainMs: number): Promise<Unsynced[]> {
    this.stopping = true;
    this.progress?.stop();
    await this.startup.catch(() => { /* start() reported it, and halted */ });
    return this.halt(drainMs);
  }

  private async halt(drainMs: number): Promise<Unsynced[]> {
    await this.reloading; // a reload half done would start syncs behind our back
    const syncs = [...this.running.values()];
    this.running.clear();
    const left = (await Promise.all(syncs.map((sync) => this.stopSync(sync, drainMs)))).flat();
    await Promise.all([this.status?.close(), this.metrics?.close()]);
    this.heapTrim.close();
    this.status = null;
    this.metrics = null;
    // Kept until here: a SIGHUP or SIGUSR1 during the drain is logged as ignored, never left to Node.
    for (const off of this.unsubscribe) off();
    return left;
  }

  /** The snapshot behind `inosync status` and /metrics. */
  snapshot(): AgentStatus {
    const engines = [...[...this.running.values()].map((s) => s.engine), ...this.starting];
    return { pid: process.pid, version: this.version, startedAt: this.startedAt, syncs: engines.map((engine) => engine.status()) };
  }

  resyncAll(reason: string): void {
    this.logger.info({ reason }, 'full resync of every target');
    for (const sync of this.running.values()) sync.engine.resync(undefined, reason);
  }

  /** Re-reads the config; a config with mistakes is logged and the running one kept. */
  async reload(): Promise<void> {
    if (this.stopping) return;
    let next: AgentPlan;
    try {
      next = await planCommandLine(this.args, this.logger);
      const added = next.syncs.filter((s) => !this.running.has(s.options.source));
      if (added.length > 0) await fitWatchBudget(added, this.args['allow-partial-watch'] ?? false, this.logger);
    } catch (error) {
      const e = error instanceof InosyncError ? { problem: error.message, fix: error.fix } : { problem: String(error) };
      this.logger.error(e, 'SIGHUP: the new config is not used; still running the previous one');
      return;
    }
    const wanted = new Map(next.syncs.map((s) => [s.options.source, s]));
    for (const [source, sync] of this.running) {
      if (wanted.has(source)) continue;
      this.running.delete(source);
      const left = await this.stopSync(sync, 0);
      this.logger.info({ source, unsynced: left.map((u) => u.host) }, 'sync removed by the new config');
    }
    for (const planned of next.syncs) {
      if (this.stopping) return;
      const current = this.running.get(planned.options.source);
      if (current?.plan.options.unwatched) {
        // Subtrees left unwatched at start stay so, with the full syncs that cover them.
        planned.options.unwatched = current.plan.options.unwatched;
        planned.verifyEveryMs ??= current.plan.verifyEveryMs;
      }
      if (!current) {
        await this.startSync(planned).catch((error: unknown) => this.logger.error({ err: error, source: planned.options.source }, 'sync added by the new config could not start'));
      } else if (engineKey(current.plan) !== engineKey(planned)) {
        await this.replaceSync(current, planned);
      } else {
        await this.retarget(current, planned);
      }
    }
    if (next.socket !== this.plan.socket) {
      await this.status?.close();
      this.status = await this.openSocket(next);
    }
    if (JSON.stringify(next.metrics) !== JSON.stringify(this.plan.metrics)) {
      await this.metrics?.close();
      this.metrics = await this.openMetrics(next);
    }
    this.plan = next;
    this.applyAgentSettings(next);
    this.logger.info({ syncs: [...this.running.keys()] }, 'SIGHUP: config reloaded');
  }

  /** The /metrics endpoint, when the plan asks for one: prom-client and node:http are loaded only then. */
  private async openMetrics(plan: AgentPlan): Promise<MetricsServer | null> {
    if (!plan.metrics) return null;
    const { createMetricsRegistry } = await import('../metrics/registry.js');
    const { startMetricsServer } = await import('../metrics/server.js');
    return startMetricsServer(plan.metrics, createMetricsRegistry(() => this.snapshot()), this.logger);
  }

  private async openSocket(plan: AgentPlan): Promise<StatusServer | null> {
    try {
      return await startStatusServer(plan.socket, () => this.snapshot(), this.logger);
    } catch (error) {
      if (!(error instanceof SocketBusyError) || plan.socketChosen) throw error;
      this.logger.warn({ socket: plan.socket }, 'another agent holds the default status socket: this one runs without one (give it --socket PATH)');
      return null;
    }
  }

  private applyAgentSettings(plan: AgentPlan): void {
    if (plan.logLevel) this.logger.level = plan.logLevel;
    if (plan.drainTimeout !== null) this.args['drain-timeout'] = plan.drainTimeout;
  }

  /** `initialSync` true: whatever the plan says (an engine that takes over must carry what the old one owed). */
  private async startSync(planned: PlannedSync, initialSync?: true): Promise<void> {
    const { state } = planned.options;
    const options = { ...planned.options, ...(state ? { state: { ...state, collect: () => this.heapTrim.now() } } : {}) };
    const engine = new SyncEngine(initialSync ? { ...options, initialSync } : options);
    const sync: RunningSync = { plan: planned, engine, hook: null, hookCommand: 'null', verifyTimer: null, verifying: new Set() };
    engine.on('error', (error) => { if (!this.stopping) this.emit('error', error); });
    engine.on('batch', (report) => this.onBatch(sync, report));
    this.starting.add(engine);
    try {
      await engine.start();
    } finally {
      this.starting.delete(engine);
    }
    if (this.stopping) {
      await engine.stop(0);
      return;
    }
    this.running.set(planned.options.source, sync);
    this.setExtras(sync, planned);
  }

  /** Options an engine cannot change while running: a new engine takes over (its full sync carries whatever the old one still owed). */
  private async replaceSync(current: RunningSync, planned: PlannedSync): Promise<void> {
    const source = planned.options.source;
    this.running.delete(source);
    try {
      await this.startSync(planned, true);
    } catch (error) {
      this.running.set(source, current);
      this.logger.error({ err: error, source }, 'SIGHUP: the changed sync could not start; the previous one goes on');
      return;
    }
    await this.stopSync(current, 0);
    this.logger.info({ source }, 'sync restarted with its new options (a full sync of every target carries what was pending)');
  }

  private async retarget(sync: RunningSync, planned: PlannedSync): Promise<void> {
    const before = new Map(sync.plan.options.targets.map((t) => [t.spec, targetKey(t)]));
    const after = new Map(planned.options.targets.map((t) => [t.spec, t]));
    for (const [spec, key] of before) {
      const next = after.get(spec);
      if (next && targetKey(next) === key) continue;
      const left = await sync.engine.removeTarget(spec);
      this.logger.info({ source: planned.options.source, target: spec, unsyncedPaths: left?.marks ?? 0 }, 'target removed by the new config');
    }
    for (const [spec, target] of after) {
      if (before.get(spec) === targetKey(target)) continue;
      sync.engine.addTarget(target);
      this.logger.info({ source: planned.options.source, target: spec }, 'target added by the new config: full sync');
    }
    sync.plan = planned;
    this.setExtras(sync, planned);
  }

  /** The hook and the verification timer, which change without touching the engine. */
  private setExtras(sync: RunningSync, planned: PlannedSync): void {
    const hookCommand = JSON.stringify(planned.onSync);
    if (hookCommand !== sync.hookCommand) {
      void sync.hook?.close();
      sync.hook = planned.onSync ? new PostSyncHook({ argv: planned.onSync, logger: this.logger }) : null;
      sync.hookCommand = hookCommand;
    }
    if (sync.verifyTimer) clearInterval(sync.verifyTimer);
    sync.verifyTimer = null;
    if (planned.verifyEveryMs) {
      sync.verifyTimer = setInterval(() => {
        for (const spec of sync.engine.targets) sync.verifying.add(spec);
        this.logger.info({ source: planned.options.source }, 'verification pass: full sync of every target');
        sync.engine.resync(undefined, 'verify');
      }, planned.verifyEveryMs);
      sync.verifyTimer.unref();
    }
  }

  private onBatch(sync: RunningSync, report: BatchReport): void {
    this.heapTrim.afterBatch();
    if (report.result.outcome !== 'ok') return;
    if (report.kind === 'full' && sync.verifying.delete(report.host)) {
      const repaired = report.result.files + report.result.deleted;
      const details = { source: sync.plan.options.source, target: report.host, changed: report.result.files, deleted: report.result.deleted };
      if (repaired > 0) this.logger.warn(details, `verification repaired ${repaired} item(s) the watches had not seen`);
      else this.logger.info(details, 'verification found the target identical');
    }
    if (!sync.hook) return;
    const target = sync.plan.options.targets.find((t) => t.spec === report.host);
    sync.hook.notify({
      source: sync.plan.options.source,
      target: report.host,
      host: hostOf(target),
      paths: report.set?.entries().map((e) => e.path) ?? [],
      full: report.kind === 'full',
    });
  }

  private async stopSync(sync: RunningSync, drainMs: number): Promise<Unsynced[]> {
    if (sync.verifyTimer) clearInterval(sync.verifyTimer);
    const left = await sync.engine.stop(drainMs);
    await sync.hook?.close();
    return left;
  }
}

function treeOf(planned: PlannedSync): { root: string; exclude?: ReturnType<typeof watchExclude> } {
  const exclude = watchExclude(planned.options, planned.options.targets);
  return exclude ? { root: planned.options.source, exclude } : { root: planned.options.source };
}

/** Periodic full syncs that cover unwatched subtrees, unless --verify-every says how often. */
const PARTIAL_RESYNC_MS = 60_000;
/** Watches kept free when leaving subtrees out: the watched part may grow a little. */
const PARTIAL_HEADROOM = 16;

/**
 * Checks that the syncs' trees fit in the watches left. When they do not and --allow-partial-watch is
 * given, leaves the subtrees that save the most out of watching (largest trees first) and gives those
 * syncs periodic full syncs; otherwise rejects with the advice of `inosync limits`.
 */
async function fitWatchBudget(syncs: PlannedSync[], allowPartial: boolean, logger: Logger): Promise<void> {
  const alternative = allowPartial ? '' : 'Or start with --allow-partial-watch: the largest subtrees are then left unwatched and covered by periodic full syncs.';
  try {
    await checkWatchBudget(syncs.map(treeOf), { alternative });
    return;
  } catch (error) {
    if (!(error instanceof WatchBudgetError) || !allowPartial) throw error;
    const { budget } = error;
    let missing = budget.needed - budget.available + PARTIAL_HEADROOM;
    if (budget.available <= syncs.length + PARTIAL_HEADROOM) throw error; // not even the roots fit
    const bySize = syncs.map((sync, i) => ({ sync, directories: budget.survey.trees[i]?.directories ?? 0 })).sort((a, b) => b.directories - a.directories);
    for (const { sync } of bySize) {
      if (missing <= 0) break;
      const plan = await chooseUnwatched(treeOf(sync), missing);
      if (plan.subtrees.length === 0) continue;
      missing -= plan.directories;
      const left = new Set(plan.subtrees.map((p) => p.toString('latin1')));
      sync.options.unwatched = (path) => left.has(path.toString('latin1'));
      sync.verifyEveryMs ??= PARTIAL_RESYNC_MS;
      logger.warn({
        source: sync.options.source,
        unwatchedDirectories: plan.directories,
        subtrees: plan.subtrees.slice(0, 10).map((p) => p.toString()),
        fullSyncEveryMs: sync.verifyEveryMs,
        fix: error.fix,
      }, `watch limit too low: ${plan.subtrees.length} subtree(s) are not watched; changes in them arrive with the periodic full sync`);
    }
    if (missing > 0) throw error;
  }
}

/** The agent for a command line: its plan (config and flags), checked against the watch budget before anything starts. */
export async function createAgent(args: SyncArgs & AgentArgs, logger: Logger): Promise<Agent> {
  const plan = await planCommandLine(args, logger);
  if (plan.syncs.length === 0) throw new InosyncError('nothing to sync', 'Give --source DIR --target SPEC, or --config FILE with at least one sync.', { exitCode: 2 });
  await fitWatchBudget(plan.syncs, args['allow-partial-watch'] ?? false, logger);
  return new Agent(args, plan, logger);
}
