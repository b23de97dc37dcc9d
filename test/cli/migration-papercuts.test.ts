// What a user coming from lsyncd, sersync or an inotifywait script trips over first: each a clear message, a
// line in the logs, or a help text that can be pasted.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXAMPLE_WIDTH } from '../../src/cli/examples.js';
import { runCli, startLoggedCli, type LoggedCli } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';

function sourceAndTarget(t: CleanupContext): { base: string; src: string; dst: string } {
  const base = tempDir(t);
  const src = join(base, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'a'), 'a');
  return { base, src, dst: join(base, 'dst') };
}

test('a mistyped option gets a "did you mean" with the nearest option of that command (exit 2)', async () => {
  const result = await runCli(['sync', '--sorce', '/srv/www', '--target', '/backup/www']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Unknown argument: sorce \(--sorce: did you mean --source\?\)/);
  const status = await runCli(['status', '--sokcet', '/run/x.sock']);
  assert.match(status.stderr, /did you mean --socket\?/);
});

test('--ssh-port HOST=PORT naming no target says so, and names the hosts there are (exit 2)', async (t) => {
  const { src } = sourceAndTarget(t);
  const result = await runCli(['sync', '--source', src, '--target', 'web2:/srv/www', '--ssh-port', '10.0.0.7=2222']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--ssh-port 10\.0\.0\.7=2222: no target has the host "10\.0\.0\.7"/);
  assert.match(result.stderr, /fix: .*hosts: web2\b.*--ssh-port 2222/);
});

test('--config with --target but no --source is refused, not silently dropped (exit 2)', async (t) => {
  const { base, src, dst } = sourceAndTarget(t);
  const config = join(base, 'inosync.yaml');
  writeFileSync(config, `syncs:\n  - { source: ${src}, targets: [${dst}] }\n`);
  const result = await runCli(['sync', '--config', config, '-t', join(base, 'extra')]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--target .*extra is given with --config but without --source/);
});

/** An agent run from a config file that names its socket, with stderr a pipe (as under systemd). */
function agentFromConfig(t: CleanupContext): { config: string; agent: LoggedCli } {
  const { base, src, dst } = sourceAndTarget(t);
  const config = join(base, 'inosync.yaml');
  writeFileSync(config, `socket: ${join(base, 'agent.sock')}\nsyncs:\n  - { source: ${src}, targets: [${dst}] }\n`);
  return { config, agent: startLoggedCli(t, ['sync', '--config', config, '--drain-timeout', '0']) };
}

test('the end of the startup sync is logged off a terminal too (a pipe, the journal)', async (t) => {
  const { agent } = agentFromConfig(t);
  const done = await agent.waitForLog((l) => l.msg === 'startup full sync done on every target', 'the startup sync line');
  assert.equal(done.targets, 1);
});

test('`status --config FILE` asks the agent on the socket that config names', async (t) => {
  const { config, agent } = agentFromConfig(t);
  await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run');
  const status = await runCli(['status', '--config', config, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal((JSON.parse(status.stdout) as { pid: number }).pid, agent.cli.child.pid);
});

test('`watch -d -s` with no syslog socket fails at once (exit 1) instead of losing every event', async (t) => {
  const root = tempDir(t);
  const missing = join(root, 'no-syslog.sock');
  const result = await runCli(['watch', '-d', '-s', '--syslog-socket', missing, root]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`Couldn't log to syslog: ${missing} is not a socket`));
  assert.match(result.stderr, /fix: .*-o FILE/);
});

test('help examples: each command on a line of its own, whole, under its "# what it does" line', async () => {
  for (const command of ['sync', 'status', 'limits', 'check']) {
    const help = (await runCli([command, '--help'])).stdout;
    const lines = help.slice(help.indexOf('Examples:\n') + 'Examples:\n'.length).split('\n\n')[0]!.trimEnd().split('\n');
    assert.ok(lines.length >= 2, `${command} --help has examples`);
    lines.forEach((line, i) => {
      if (i % 2 === 0) assert.match(line, /^ {2}# /, `${command}: "${line}" describes the next line`);
      else assert.match(line, /^ {2}(sudo )?inosync \S/, `${command}: "${line}" is a whole command`);
      assert.ok(line.length <= EXAMPLE_WIDTH + 2, `${command}: "${line}" fits an 80-column terminal`);
    });
  }
});
