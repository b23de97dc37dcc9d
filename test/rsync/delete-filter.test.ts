// The filter list that deletes exactly the given paths on a receiver that rejects --delete-missing-args.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteRules } from '../../src/rsync/delete-filter.js';

const rules = (...paths: Array<string | Buffer>): string[] =>
  deleteRules(paths.map((p) => Buffer.from(p))).toString('latin1').split('\0').slice(0, -1);

test('includes each path, everything below it and its ancestors, each once', () => {
  assert.deepEqual(rules('a/b/c', 'a/b/d'), ['/a/', '/a/b/', '/a/b/c', '/a/b/c/**', '/a/b/d', '/a/b/d/**']);
});

test('a name with wildcard characters is escaped so it matches only itself', () => {
  assert.deepEqual(rules('x/*', 'q?[z]\\'), ['/x/', '/x/\\*', '/x/\\*/**', '/q\\?\\[z]\\\\', '/q\\?\\[z]\\\\/**']);
});

test('a plain name keeps its backslash literal unless the rule has wildcards', () => {
  assert.deepEqual(rules('back\\slash'), ['/back\\slash', '/back\\\\slash/**']);
});

test('names are bytes: newlines and invalid UTF-8 pass through untouched', () => {
  const out = deleteRules([Buffer.from([0x6e, 0x0a, 0xff])]);
  assert.deepEqual(out, Buffer.concat([Buffer.from([0x2f, 0x6e, 0x0a, 0xff, 0]), Buffer.from([0x2f, 0x6e, 0x0a, 0xff]), Buffer.from('/**\0')]));
});
