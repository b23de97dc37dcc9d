// The state records of a sync (src/state/recorder.ts) with the real rsync to a local target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseTarget } from '../../src/rsync/target.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { makeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

test('a scan of the source is followed by one full collection, before the full sync it was taken for sends anything', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  makeTree(src, [{ path: 'a/f', content: 'x' }]);
  const collections: boolean[] = [];
  const engine = new SyncEngine({
    source: src, targets: [parseTarget(dst)],
    state: { dir: join(tempDir(t), 'state'), trust: true, collect: () => collections.push(existsSync(join(dst, 'a/f'))) },
  });
  t.after(() => engine.stop());

  await engine.start();
  await waitFor(() => engine.settled && existsSync(join(dst, 'a/f')), { what: 'the full sync' });

  assert.deepEqual(collections, [false], 'one collection, with nothing sent yet');
});
