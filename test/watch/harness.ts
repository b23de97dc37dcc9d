// Starts a WatchTree on a real directory for a test and collects what it emits.
import { WatchTree, type WatchTreeOptions } from '../../src/watch/tree.js';
import type { Change, ChangeKind, TreeEvent } from '../../src/watch/types.js';
import type { InosyncError } from '../../src/errors.js';
import { collect, type Collector } from '../helpers/wait.js';
import type { CleanupContext } from '../helpers/tmp.js';

export interface Watched {
  tree: WatchTree;
  changes: Collector<Change>;
  events: Collector<TreeEvent>;
  errors: Collector<InosyncError>;
  warnings: Collector<InosyncError>;
}

/** A started tree over `roots`, closed when the test ends. */
export async function watchTree(t: CleanupContext, options: WatchTreeOptions): Promise<Watched> {
  const tree = new WatchTree(options);
  const watched = {
    tree,
    changes: collect<Change>(tree, 'change'),
    events: collect<TreeEvent>(tree, 'event'),
    errors: collect<InosyncError>(tree, 'error'),
    warnings: collect<InosyncError>(tree, 'warning'),
  };
  t.after(() => tree.close());
  await tree.start();
  return watched;
}

/** Predicate: a change of this kind at this relative path (and, for 'moved', from this path) was seen. */
export function saw(kind: ChangeKind, path: string | Buffer, from?: string | Buffer): (changes: Change[]) => boolean {
  const p = Buffer.from(path);
  const f = from === undefined ? undefined : Buffer.from(from);
  return (changes) => changes.some((c) => c.kind === kind && c.path.equals(p) && (f === undefined || (c.from?.equals(f) ?? false)));
}

/** Predicate: every one of the given predicates holds. */
export function all<T>(...predicates: Array<(items: T[]) => boolean>): (items: T[]) => boolean {
  return (items) => predicates.every((p) => p(items));
}

