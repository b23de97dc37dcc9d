import { test } from 'node:test';
import assert from 'node:assert/strict';
import { excludeFn } from '../../src/sync/exclude.js';

const matches = (patterns: string[], path: string | Buffer, isDir = false): boolean => excludeFn(patterns)!(Buffer.from(path), isDir);

test('a pattern without a slash matches a name at any depth', () => {
  assert.equal(matches(['*.tmp'], 'a/b/c.tmp'), true);
  assert.equal(matches(['*.tmp'], 'c.tmp.keep'), false);
  assert.equal(matches(['.git'], 'sub/.git', true), true);
});

test('a leading slash anchors at the source root', () => {
  assert.equal(matches(['/cache'], 'cache', true), true);
  assert.equal(matches(['/cache'], 'a/cache', true), false);
});

test('a trailing slash matches directories only', () => {
  assert.equal(matches(['build/'], 'x/build', true), true);
  assert.equal(matches(['build/'], 'x/build', false), false);
});

test('a single star stops at a slash, a double one does not', () => {
  assert.equal(matches(['logs/*.log'], 'app/logs/a.log'), true);
  assert.equal(matches(['/logs/*.log'], 'logs/old/a.log'), false);
  assert.equal(matches(['/logs/**.log'], 'logs/old/a.log'), true);
});

test('dir/*** matches the directory and everything below it', () => {
  assert.equal(matches(['/tmp/***'], 'tmp', true), true);
  assert.equal(matches(['/tmp/***'], 'tmp/x/y'), true);
});

test('names that are not UTF-8 are matched as bytes', () => {
  assert.equal(matches(['f?o'], Buffer.from([0x66, 0xff, 0x6f])), true);
});
