// Issue 12, item 9: every duration and count has a range (src/safety/bounds.ts), the same from flags and
// from the config file, and a bare number given to a DURATION is seconds. Out of range, or not a number:
// exit 2, saying what was given and what is expected, before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planAgent, type AgentArgs } from '../../src/cli/agent-plan.js';
import { syncOptionsFrom, type SyncArgs } from '../../src/cli/sync-options.js';
import { silentLogger } from '../../src/log/logger.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';

function dirs(t: CleanupContext): { base: string; src: string; dst: string } {
  const base = tempDir(t, 'inosync-numbers-');
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  writeFileSync(join(src, 'file'), 'x');
  return { base, src, dst };
}

test('--verify-every 30d (past what a Node timer holds) is refused, not run every millisecond', async (t) => {
  const { src, dst } = dirs(t);
  const result = await runCli(['sync', '-s', src, '-t', dst, '--verify-every', '30d']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--verify-every "30d" is not valid: expected a duration from 1s to 24d/);
  assert.deepEqual(readdirSync(dst), []);
});

test('--timeout 10000000 is refused', async (t) => {
  const { src, dst } = dirs(t);
  const result = await runCli(['sync', '-s', src, '-t', dst, '--timeout', '10000000']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--timeout "10000000" is not valid: expected a whole number of seconds from 1 to 3600/);
});

test('a flag that is not a number says what was given and what is expected', async (t) => {
  const { src, dst } = dirs(t);
  for (const [flag, value, expected] of [
    ['--quiet-ms', 'abc', /--quiet-ms "abc" is not valid: expected a whole number of milliseconds from 0 to 3600000/],
    ['--max-procs', '0', /--max-procs "0" is not valid: expected a whole number from 1 to 256/],
    ['--max-pending', '1e9', /--max-pending "1e9" is not valid/],
    ['--drain-timeout', '-1', /--drain-timeout "-1" is not valid/],
  ] as const) {
    const result = await runCli(['sync', '-s', src, '-t', dst, flag, value]);
    assert.equal(result.code, 2, `${flag} ${value}: ${result.stderr}`);
    assert.match(result.stderr, expected);
  }
});

test('the config file has the same bounds: timeout: 1e9 and drainTimeout: 1e300 are refused', async (t) => {
  const { base, src, dst } = dirs(t);
  const config = join(base, 'inosync.yaml');
  writeFileSync(config, `timeout: 1e9\ndrainTimeout: 1e300\nsyncs:\n  - { source: ${src}, targets: [${dst}], verifyEvery: 30d }\n`);
  const result = await runCli(['sync', '--config', config]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /timeout: must be at most 3600, not number 1000000000/);
  assert.match(result.stderr, /drainTimeout: must be at most 3600, not number 1e\+300/);
  assert.match(result.stderr, /verifyEvery: is not a duration from 1s to 24d/);
  assert.deepEqual(readdirSync(dst), []);
});

test('a bare number given to --verify-every is seconds: 600 is 10m, 2592000 is 30d (refused)', async (t) => {
  const { src, dst } = dirs(t);
  const refused = await runCli(['sync', '-s', src, '-t', dst, '--verify-every', '2592000']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--verify-every "2592000" \(read as 30d\) is not valid/);
  const a = { source: src, target: [dst], exclude: [], 'exclude-from': [], 'ssh-port': [], 'ssh-identity': [], 'ssh-option': [], 'verify-every': '600' } as unknown as SyncArgs & AgentArgs;
  const plan = planAgent(a, new Set(['source', 'target', 'verify-every']), silentLogger, () => syncOptionsFrom(a, silentLogger), null);
  assert.equal(plan.syncs[0]?.verifyEveryMs, 600_000);
});
