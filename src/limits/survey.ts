// Everything `inosync limits` reports: the limits, what this user holds, what the trees need, the advice.
import { countDirectories, type TreeToCount } from './count-dirs.js';
import { readInotifyLimits, type InotifyLimits } from './read.js';
import { adviseLimits, type LimitAdvice } from './recommend.js';
import { readInotifyUsage, type InotifyUsage } from './usage.js';

export interface TreeNeed {
  path: string;
  directories: number;
}

export interface InotifySurvey {
  limits: InotifyLimits;
  usage: InotifyUsage;
  trees: TreeNeed[];
  /** Sum over the trees: the watches inosync would add. */
  directories: number;
  advice: LimitAdvice;
}

export async function surveyInotify(trees: readonly TreeToCount[], procRoot = '/proc'): Promise<InotifySurvey> {
  const limits = readInotifyLimits(procRoot);
  const [usage, counts] = await Promise.all([
    readInotifyUsage(process.geteuid?.() ?? 0, procRoot),
    Promise.all(trees.map((tree) => countDirectories(tree))),
  ]);
  const needs = trees.map((tree, i) => ({ path: tree.root.toString(), directories: counts[i] ?? 0 }));
  const directories = needs.reduce((sum, tree) => sum + tree.directories, 0);
  return { limits, usage, trees: needs, directories, advice: adviseLimits({ limits, usage, directories }) };
}
