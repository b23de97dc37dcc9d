// The state recorder's word on xattrs (src/state/recorder.ts): the start's scan lets the first full sync leave
// out -A/-X only while no change since it began may have brought one; real scans, a real local rsync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Transport } from '../../src/rsync/transport.js';
import { parseTarget } from '../../src/rsync/target.js';
import { SourceRecords } from '../../src/state/recorder.js';
import { tempDir } from '../helpers/tmp.js';
import { noXattrTools, setXattr, xattrsOf } from '../helpers/xattrs.js';

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
