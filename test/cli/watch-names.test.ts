// Odd names (newline, leading dash, `*`, shell syntax, invalid UTF-8) come out of `inosync watch` exactly:
// NUL-separated with --format '%w%f%0', and in --json (strings, or *_b64 holding the exact bytes).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { bytesPath, oddNames, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { startMonitor } from './watch-harness.js';

const names = Object.values(oddNames);
const oddDir = Buffer.from([0x64, 0xfe, 0x0a, 0x2a]); // "d\xfe\n*"

/** Every path the workload creates, in order: the odd names at the root, then inside an odd directory. */
function workload(root: string): Buffer[] {
  const made: Buffer[] = [];
  for (const name of names) {
    writeFileSync(bytesPath(root, name), '');
    made.push(bytesPath(root, name));
  }
  mkdirSync(bytesPath(root, oddDir));
  made.push(bytesPath(root, oddDir));
  for (const name of names) {
    writeFileSync(bytesPath(root, oddDir, name), '');
    made.push(bytesPath(root, oddDir, name));
  }
  return made;
}

function splitNul(output: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let end = output.indexOf(0); end !== -1; end = output.indexOf(0, start)) {
    parts.push(output.subarray(start, end));
    start = end + 1;
  }
  return parts;
}

const sorted = (paths: Buffer[]): string[] => paths.map((p) => p.toString('latin1')).sort();

test("--format '%w%f%0' --no-newline: every odd name round-trips byte for byte, in odd directories too", async (t) => {
  const root = tempDir(t);
  const monitor = startMonitor(t, 'inosync', ['-mr', '-e', 'create', '--format', '%w%f%0', '--no-newline', root]);
  await monitor.waitStderr('Watches established.');
  const made = workload(root);
  // Kernel events and a new directory's listing may interleave: wait for every path, in any order.
  await waitFor(() => sorted(made).every((p) => new Set(sorted(splitNul(monitor.stdout))).has(p)), { what: 'every path in the NUL-separated output' });
  await monitor.stop();
  assert.deepEqual([...new Set(sorted(splitNul(monitor.stdout)))], sorted(made));
});

test('--json lines: one object per event; path or path_b64 gives back the exact bytes', async (t) => {
  const root = tempDir(t);
  const monitor = startMonitor(t, 'inosync', ['-mr', '-e', 'create', '--json', root]);
  await monitor.waitStderr('Watches established.');
  const made = workload(root);
  const decode = (): Buffer[] => monitor.stdout.toString('utf8').split('\n').slice(0, -1).map((line) => { // complete lines only
    const record = JSON.parse(line) as { path?: string; path_b64?: string; events: string[] };
    assert.ok(record.events.includes('CREATE'));
    return record.path !== undefined ? Buffer.from(record.path, 'utf8') : Buffer.from(record.path_b64 ?? '', 'base64');
  });
  await waitFor(() => { const seen = new Set(sorted(decode())); return sorted(made).every((p) => seen.has(p)); }, { what: 'every path in the --json output' });
  await monitor.stop();
  assert.deepEqual([...new Set(sorted(decode()))], sorted(made));
  assert.match(monitor.stdout.toString(), /"path_b64":/);
  assert.match(monitor.stdout.toString(), /"path":"[^"]*\$\(touch pwned\) `x`"/);
});
