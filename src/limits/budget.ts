// The check `inosync sync` makes before arming watches: do the trees fit in what the kernel lets this user hold?
import { InosyncError } from '../errors.js';
import type { TreeToCount } from './count-dirs.js';
import { effectiveWatchLimit, SYSCTL } from './read.js';
import { raiseCommands } from './recommend.js';
import { surveyInotify, type InotifySurvey } from './survey.js';
import { thousands } from '../log/thousands.js';

export interface WatchBudget {
  survey: InotifySurvey;
  /** Watches the trees need (one per directory). */
  needed: number;
  /** Watches this user can still add under the limit that bites first. */
  available: number;
  fits: boolean;
}

/** The trees need more watches than the user may hold. Carries the same advice as `inosync limits`. */
export class WatchBudgetError extends InosyncError {
  readonly budget: WatchBudget;

  constructor(budget: WatchBudget, fix: string) {
    const limit = effectiveWatchLimit(budget.survey.limits);
    super(
      `the source trees need ${thousands(budget.needed)} inotify watches (one per directory) but only ` +
        `${thousands(Math.max(0, budget.available))} are left for this user ` +
        `(${limit.sysctl}=${thousands(limit.value)}, ${thousands(held(budget))} held already)`,
      fix,
      { exitCode: 1 },
    );
    this.budget = budget;
  }
}

/** Watches held that count against the limit that bites first. */
function held(budget: WatchBudget): number {
  const { limits, usage } = budget.survey;
  return effectiveWatchLimit(limits).sysctl === SYSCTL.nsWatches ? usage.namespace.watches : usage.watches;
}

export async function measureWatchBudget(trees: readonly TreeToCount[], procRoot = '/proc'): Promise<WatchBudget> {
  const survey = await surveyInotify(trees, procRoot);
  const { limits, usage } = survey;
  // Both limits count: the global one everything this user holds, this namespace's what is held inside it.
  const available = Math.min(
    limits.maxUserWatches.value - usage.watches,
    limits.namespace ? limits.namespace.maxWatches.value - usage.namespace.watches : Infinity,
  );
  return { survey, needed: survey.directories, available, fits: survey.directories <= available };
}

export interface BudgetCheckOptions {
  procRoot?: string;
  /** How to go on anyway, when the caller offers a way (e.g. a flag); appended to the advice. */
  alternative?: string;
}

/** Resolves with the budget when the trees fit; rejects with a WatchBudgetError carrying the fix otherwise. */
export async function checkWatchBudget(trees: readonly TreeToCount[], options: BudgetCheckOptions = {}): Promise<WatchBudget> {
  const budget = await measureWatchBudget(trees, options.procRoot);
  if (budget.fits) return budget;
  const advice = budget.survey.advice;
  const fix = [
    `Raise the limit: ${raiseCommands(advice, budget.survey.trees.map((t) => t.path)).join('; ')}.`,
    advice.namespaceNote ? `Note: ${advice.namespaceNote}.` : '',
    'Or exclude large subtrees that need no mirroring (--exclude).',
    options.alternative ?? '',
  ].filter(Boolean).join(' ');
  throw new WatchBudgetError(budget, fix);
}
