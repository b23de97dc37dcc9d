// When a change must send the whole tree for hard links to stay links: real files, real link counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HardLinkCheck } from '../../src/sync/hard-links.js';
import type { Change, ChangeKind } from '../../src/watch/types.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';

function change(kind: ChangeKind, path: string, isDir = false): Change {
  return { kind, root: Buffer.from('/'), path: Buffer.from(path), isDir };
}

function checker(t: CleanupContext): { dir: string; check: HardLinkCheck } {
  const dir = tempDir(t);
  return { dir, check: new HardLinkCheck(Buffer.from(`${dir}/`)) };
}

test('a changed file with one name leaves the verdict false; one with another name makes it true, once', (t) => {
  const { dir, check } = checker(t);
  writeFileSync(join(dir, 'single'), '');
  writeFileSync(join(dir, 'linked'), '');
  linkSync(join(dir, 'linked'), join(dir, 'elsewhere'));
  check.note(change('closed', 'single'));
  assert.equal(check.takeVerdict(), false);
  check.note(change('attributes', 'linked'));
  assert.equal(check.takeVerdict(), true);
  assert.equal(check.takeVerdict(), false, 'what was noted is forgotten with the verdict');
});

test('a renamed directory is looked into: a file in it with a name outside it makes the verdict true', (t) => {
  const { dir, check } = checker(t);
  mkdirSync(join(dir, 'renamed', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'renamed', 'deep', 'file'), '');
  check.note(change('moved', 'renamed', true));
  assert.equal(check.takeVerdict(), false);
  linkSync(join(dir, 'renamed', 'deep', 'file'), join(dir, 'outside'));
  check.note(change('moved', 'renamed', true));
  assert.equal(check.takeVerdict(), true);
});

test('a created directory is not walked: its entries come with events of their own', (t) => {
  const { dir, check } = checker(t);
  mkdirSync(join(dir, 'new'));
  writeFileSync(join(dir, 'new', 'file'), '');
  linkSync(join(dir, 'new', 'file'), join(dir, 'other'));
  check.note(change('created', 'new', true));
  assert.equal(check.takeVerdict(), false);
});
