// The command line's own contract: bad input gets the problem, the fix and a non-zero status, and nothing runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/run-cli.js';

test('an unknown option is a usage error: exit 2, the problem and where to look', async () => {
  const result = await runCli(['check', '--bogus-flag']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Unknown arguments?: bogus-flag/);
  assert.match(result.stderr, /fix: See `inosync --help`/);
});

test('no command at all is a usage error with exit 2', async () => {
  const result = await runCli([]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /no command given/);
});

test('a target that looks like an option is refused before anything starts', async () => {
  const result = await runCli(['sync', '--source', '/tmp', '--target=-e touch pwned']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /fix: /);
});
