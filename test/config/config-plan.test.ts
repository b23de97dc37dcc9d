// How a config file and the command line combine: the file's values, unless a flag is given explicitly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { explicitFlags, planAgent, type AgentArgs } from '../../src/cli/agent-plan.js';
import { syncOptionsFrom, type SyncArgs } from '../../src/cli/sync-options.js';
import { silentLogger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/tmp.js';

type Args = SyncArgs & AgentArgs;

/** The flags as yargs hands them over: every default filled in. */
function args(overrides: Partial<Args>): Args {
  return {
    source: undefined as unknown as string, target: [], exclude: [], 'exclude-from': [], 'ssh-port': [], 'ssh-identity': [], 'ssh-option': [],
    'quiet-ms': 20, 'max-delay-ms': 1000, 'max-procs': 4, 'max-pending': 200_000, 'remote-moves': false,
    'retry-base-ms': 250, 'retry-max-ms': 30_000, timeout: 30, 'drain-timeout': 10, 'log-level': 'info',
    ...overrides,
  };
}

function plan(config: string, argv: string[], overrides: Partial<Args>) {
  const a = args({ config, ...overrides });
  return planAgent(a, explicitFlags(argv), silentLogger, () => syncOptionsFrom(a, silentLogger), loadConfig(config));
}

test('values come from the file; a flag given on the command line overrides them for every sync', (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'inosync.yaml');
  writeFileSync(config, [
    'maxProcs: 2', 'drainTimeout: 25', 'socket: /run/x.sock', 'metrics: ":9464"',
    'syncs:',
    '  - { source: /srv/a, targets: [/m/a, "h1:/a"], quietMs: 500, exclude: ["*.tmp"], ssh: { port: 2200, options: ["-o", "Compression=no"] }, onSync: "notify --host \'a b\'" }',
    '  - { source: /srv/b, targets: [{ target: "u@h2:/b", ssh: { port: 2222 } }], verifyEvery: 6h }',
  ].join('\n'));

  const fromFile = plan(config, ['--config', config], {});
  const [a, b] = fromFile.syncs;
  assert.equal(a?.options.quietMs, 500);
  assert.equal(a?.options.maxProcs, 2);
  assert.deepEqual(a?.options.excludes, ['*.tmp']);
  assert.deepEqual(a?.onSync, ['notify', '--host', 'a b']);
  assert.deepEqual(a?.options.targets[1], { kind: 'ssh', spec: 'h1:/a', host: 'h1', path: '/a', port: 2200, sshOptions: ['-o', 'Compression=no'] });
  assert.equal(b?.options.quietMs, 20);
  assert.equal(b?.verifyEveryMs, 6 * 3_600_000);
  assert.equal(b?.options.targets[0]?.kind === 'ssh' && b.options.targets[0].port, 2222);
  assert.deepEqual([fromFile.socket, fromFile.metrics, fromFile.drainTimeout], ['/run/x.sock', { host: '127.0.0.1', port: 9464 }, 25]);

  const overridden = plan(config, ['--config', config, '--quiet-ms', '7', '--max-procs=3', '--exclude', '*.log', '--drain-timeout', '5'],
    { 'quiet-ms': 7, 'max-procs': 3, exclude: ['*.log'], 'drain-timeout': 5 });
  for (const sync of overridden.syncs) {
    assert.equal(sync.options.quietMs, 7);
    assert.equal(sync.options.maxProcs, 3);
    assert.deepEqual(sync.options.excludes, ['*.log']);
  }
  assert.equal(overridden.drainTimeout, null);
});

test('--source with --config adds a sync, or replaces the file\'s sync of the same source', (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'inosync.json');
  writeFileSync(config, JSON.stringify({ syncs: [{ source: '/srv/a', targets: ['/m/a'] }] }));
  const added = plan(config, [], { source: '/srv/c', target: ['/m/c'] });
  assert.deepEqual(added.syncs.map((s) => s.options.source), ['/srv/a', '/srv/c']);
  const replaced = plan(config, [], { source: '/srv/a', target: ['/m/other'] });
  assert.deepEqual(replaced.syncs.map((s) => s.options.targets.map((x) => x.spec)), [['/m/other']]);
});

test('--target with --config but without --source is refused (exit 2): it would join none of the file\'s syncs', (t) => {
  const config = join(tempDir(t), 'inosync.yaml');
  writeFileSync(config, 'syncs:\n  - { source: /srv/a, targets: [/m/a] }\n');
  assert.throws(() => plan(config, ['--config', config, '-t', '/extra'], { target: ['/extra'] }),
    (error: Error & { exitCode?: number; fix?: string }) => error.exitCode === 2 && /--target \/extra .*without --source/.test(error.message) && /--source DIR/.test(error.fix ?? ''));
});

test('delete modes, includes and initialSync: a target object overrides its sync, an explicit flag overrides the file', (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'inosync.yaml');
  writeFileSync(config, [
    'syncs:',
    '  - source: /srv/a',
    '    delete: never',
    '    initialSync: false',
    '    include: ["keep.log"]',
    '    exclude: ["*.log"]',
    '    targets: [/m/a, { target: /m/b, delete: running, include: ["cache/"], exclude: ["tmp/"] }]',
  ].join('\n'));
  const [fromFile] = plan(config, [], {}).syncs;
  assert.deepEqual(fromFile?.options.targets.map((x) => [x.spec, x.deleteMode, x.includes, x.excludes]),
    [['/m/a', 'never', undefined, undefined], ['/m/b', 'running', ['cache/'], ['tmp/']]]);
  assert.deepEqual([fromFile?.options.includes, fromFile?.options.initialSync], [['keep.log'], false]);

  const [flags] = plan(config, ['--delete', '/m/b=always', '--initial-sync'], { delete: ['/m/b=always'], 'initial-sync': true }).syncs;
  assert.deepEqual(flags?.options.targets.map((x) => x.deleteMode), ['never', 'always']);
  assert.equal(flags?.options.initialSync, true);
  assert.throws(() => plan(config, ['--delete', 'sometimes'], { delete: ['sometimes'] }), /not a delete mode/);
});
