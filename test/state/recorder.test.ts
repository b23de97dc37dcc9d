// The state records of a sync (src/state/recorder.ts) with the real rsync to a local target: when the scan runs,
// and the start's scan's word on xattrs, which lets the first full sync leave out -A/-X only while no change
// since it began may have brought one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Transport } from '../../src/rsync/transport.js';
import { parseTarget } from '../../src/rsync/target.js';
import { checkRsyncOptions } from '../../src/safety/rsync-options.js';
import { RACY_NS } from '../../src/state/entry.js';
import { SourceRecords } from '../../src/state/recorder.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { makeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { noXattrTools, setXattr, xattrsOf } from '../helpers/xattrs.js';

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

/** A sync of `src` to `dst` with -a and a state record in `state`; its log lines are kept. */
function logged(src: string, dst: string, state: string): { engine: SyncEngine; lines: Array<{ msg?: string; pass?: string; marks?: number }> } {
  const lines: Array<{ msg?: string; pass?: string; marks?: number }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as { msg?: string }); } });
  const engine = new SyncEngine({ source: src, targets: [parseTarget(dst)], rsyncOptions: checkRsyncOptions(['-a'], 'test'), logger, state: { dir: state, trust: true } });
  return { engine, lines };
}

test('one target without a trusted record scans beside its first full sync, and the record leaves the next start nothing to send', async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  const state = join(tempDir(t), 'state');
  makeTree(src, [{ path: 'a/f', content: 'x' }, { path: 'b/g', content: 'y' }, { path: 'top', content: 'z' }]);
  // Older than the racy window when the full sync starts: what changed within it would be sent again, rightly.
  const made = Number(statSync(join(src, 'top'), { bigint: true }).ctimeNs / 1_000_000n);
  await waitFor(() => Date.now() > made + 2 * Number(RACY_NS / 1_000_000n), { what: 'the racy window to pass' });
  const first = logged(src, dst, state);
  await first.engine.start();
  await waitFor(() => first.engine.settled && existsSync(join(dst, 'b/g')), { what: 'the first full sync' });
  await first.engine.stop();
  const second = logged(src, dst, state);
  t.after(() => second.engine.stop());

  await second.engine.start();

  assert.ok(!first.lines.some((line) => line.pass === 'scan'), 'no scan before the first full sync');
  assert.deepEqual(second.lines.filter((line) => line.pass === 'scan').map((line) => line.msg?.startsWith('scan done')), [true]);
  const difference = second.lines.find((line) => line.msg?.startsWith('sending what changed while the agent was down') === true);
  assert.equal(difference?.marks, 0, 'the record of the scan beside the first full sync is trusted, and nothing differs');
});

test('an xattr given after the start\'s scan, with its change seen, is not left out by the first full sync: it scans afresh', { skip: noXattrTools }, async (t) => {
  const src = tempDir(t);
  const dst = tempDir(t);
  mkdirSync(join(src, 'd'));
  writeFileSync(join(src, 'd', 'f'), 'f\n');
  const messages: string[] = [];
  const logger = pino({ level: 'info' }, { write: (text: string) => { messages.push((JSON.parse(text) as { msg: string }).msg); } });
  const records = new SourceRecords({ dir: join(tempDir(t), 'state'), trust: true, source: src, excludes: [], exclude: undefined, rsyncOptions: undefined, logger });
  const transport = new Transport({ source: src, target: parseTarget(dst), timeoutSec: 10, logger });
  t.after(() => transport.stop());
  const recorded = records.wrap(dst, transport);
  await records.startup(1000);

  // What the watch tree reports; its batch is what the host queue drops while it owes a full sync.
  setXattr(join(src, 'd', 'f'), 'user.mark', 'after the scan');
  records.note({ kind: 'attributes', root: Buffer.from(src), path: Buffer.from('d/f'), isDir: false });
  const result = await recorded.fullSync(new AbortController().signal, ['start']);
  assert.equal(result.outcome, 'ok', result.message);
  assert.deepEqual(messages.filter((msg) => msg.includes('-A/-X') || msg.includes('--no-X')), ['the source may hold ACLs or xattrs: this full sync keeps -A/-X']);
  assert.match(xattrsOf(join(dst, 'd', 'f')), /user\.mark="after the scan"/);
});
