#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's own test runner.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'helpers' ? [] : collect(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = collect('dist/test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
// Agents started by the tests keep their state records here, not in the machine's /var/lib/inosync.
const stateDir = mkdtempSync(join(tmpdir(), 'inosync-test-state-'));
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, STATE_DIRECTORY: stateDir },
});
rmSync(stateDir, { recursive: true, force: true });
process.exit(result.status ?? 1);
