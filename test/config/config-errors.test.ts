// `inosync sync --config FILE`: every mistake is reported with its field, before anything starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';

function setup(t: Parameters<typeof tempDir>[0], name: string, text: string): { dir: string; config: string; dst: string; socket: string } {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'dst'));
  writeFileSync(join(dir, 'src', 'file'), 'x');
  const config = join(dir, name);
  writeFileSync(config, text.replaceAll('$DIR', dir));
  return { dir, config, dst: join(dir, 'dst'), socket: join(dir, 'run', 'inosync.sock') };
}

/** Asserts the report has a line for `field` saying `problem`, followed by an example. */
function assertProblem(stderr: string, field: string, problem: RegExp): void {
  const line = stderr.split('\n').findIndex((l) => l.startsWith(`  ${field}: `));
  assert.ok(line >= 0, `no line for ${field} in:\n${stderr}`);
  const lines = stderr.split('\n');
  assert.match(lines[line] as string, problem);
  assert.match(lines[line + 1] as string, /^ {6}for example: \S/);
}

test('a YAML config with many kinds of mistake: each is named with its field, nothing starts, exit 2', async (t) => {
  const { config, dst, socket } = setup(t, 'bad.yaml', `
socket: $DIR/run/inosync.sock
syncs:
  - source: relative/src
    targets: []
    excludes: ["*.tmp"]
    quietMs: "50"
  - source: $DIR/src
    targets:
      - -oProxyCommand=touch$IFS/tmp/pwned:/x
      - target: $DIR/dst
        ssh: { port: 70000 }
    verifyEvery: soon
    maxProcs: 0
logLevel: loud
`);
  const result = await runCli(['sync', '--config', config]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /config .*bad\.yaml has 9 mistakes; nothing was started/);
  assertProblem(result.stderr, 'syncs[0].source', /must be an absolute path \(got string "relative\/src"\)/);
  assertProblem(result.stderr, 'syncs[0].targets', /must list at least one target/);
  assertProblem(result.stderr, 'syncs[0].excludes', /unknown field \(did you mean "exclude"\?\)/);
  assertProblem(result.stderr, 'syncs[0].quietMs', /must be a number, not string "50"/);
  assertProblem(result.stderr, 'syncs[1].targets[0]', /starts with "-" and would be read as an option/);
  assertProblem(result.stderr, 'syncs[1].targets[1].ssh.port', /must be at most 65535, not number 70000/);
  assertProblem(result.stderr, 'syncs[1].verifyEvery', /is not a duration/);
  assertProblem(result.stderr, 'syncs[1].maxProcs', /must be at least 1, not number 0/);
  assertProblem(result.stderr, 'logLevel', /must be one of "trace", .*not string "loud"/);
  assert.deepEqual(readdirSync(dst), []);
  assert.equal(existsSync(socket), false);
});

test('a JSON config gives its examples in JSON, and a missing field is "required"', async (t) => {
  const { config } = setup(t, 'bad.json', JSON.stringify({ syncs: [{ targets: ['$DIR/dst'] }], metrics: 'localhost' }));
  const result = await runCli(['sync', '--config', config]);
  assert.equal(result.code, 2);
  assertProblem(result.stderr, 'syncs[0].source', /is required/);
  assert.match(result.stderr, /for example: "source": "\/srv\/www"/);
  assertProblem(result.stderr, 'metrics', /is not HOST:PORT/);
});

test('a file that is not YAML (or not JSON) says where it broke', async (t) => {
  const yaml = setup(t, 'broken.yaml', 'syncs:\n  - source: /srv\n   targets: [a\n');
  const yamlResult = await runCli(['sync', '--config', yaml.config]);
  assert.equal(yamlResult.code, 2);
  assert.match(yamlResult.stderr, /line \d+: not valid YAML/);
  const json = setup(t, 'broken.json', '{"syncs": [\n  {"source": "/srv",}\n]}');
  const jsonResult = await runCli(['sync', '--config', json.config]);
  assert.equal(jsonResult.code, 2);
  assert.match(jsonResult.stderr, /line 2: not valid JSON/);
});

test('a missing config file is a clear error', async (t) => {
  const result = await runCli(['sync', '--config', join(tempDir(t), 'nope.yaml')]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /cannot read config .*nope\.yaml: ENOENT/);
});

test('the shipped example config is valid', async () => {
  const { loadConfig } = await import('../../src/config/load.js');
  const example = new URL('../../../scripts/inosync.example.yaml', import.meta.url).pathname;
  const config = loadConfig(example);
  assert.equal(config.syncs.length, 2);
});
