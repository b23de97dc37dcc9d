// The command line's own contract: bad input gets the problem, the fix and a non-zero status, and nothing runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCommands } from '../../src/cli/commands.js';
import { buildParser } from '../../src/cli/parser.js';
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

test('a command that runs does not render its help (yargs would, for nothing, before the agent starts), and --help still prints it', async () => {
  let ran = false;
  const commands = (await loadCommands('status')).map((command) => ({ ...command, handler: () => { ran = true; } }));
  const cli = buildParser(['status'], 'inosync', commands).exitProcess(false);
  await cli.parseAsync();
  assert.ok(ran);
  const usage = (cli as unknown as { getInternalMethods(): { getUsageInstance(): { hasCachedHelpMessage(): boolean } } }).getInternalMethods().getUsageInstance();
  assert.equal(usage.hasCachedHelpMessage(), false);
  const help = await runCli(['sync', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--state-dir/);
});
