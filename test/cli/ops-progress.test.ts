// On a terminal the agent shows a status line while the startup full syncs run.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cliPath, runCli } from '../helpers/run-cli.js';
import { tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** `inosync sync ARGS` on a terminal (script(1), 400 columns: the line is cut to the width, temp paths are long). */
function onTerminal(t: CleanupContext, args: string[], socket: string): { output(): string; stop(): Promise<void> } {
  const agent = [process.execPath, cliPath, 'sync', ...args, '--socket', socket, '--drain-timeout', '0'];
  // script(1) runs its command through a shell: every word here is a temp path or a flag, quoted anyway.
  const terminal = spawn('script', ['-qfec', `stty cols 400; ${agent.map((w) => `'${w}'`).join(' ')}`, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  terminal.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => terminal.on('close', (code) => resolve(code)));
  t.after(() => { if (terminal.exitCode === null) terminal.kill('SIGKILL'); });
  return {
    output: () => output,
    async stop() {
      const status = await runCli(['status', '--json', '--socket', socket]);
      const { pid } = JSON.parse(status.stdout) as { pid: number };
      process.kill(pid, 'SIGTERM');
      assert.equal(await exited, 0, output);
    },
  };
}

/** A temp dir with an empty `src` for an agent on a terminal; undefined (the test skipped) without script(1). */
function terminalSource(t: TestContext): { base: string; src: string } | undefined {
  if (spawnSync('script', ['--version']).error !== undefined) {
    t.skip('script(1) from util-linux is needed to give the agent a terminal');
    return undefined;
  }
  const base = tempDir(t);
  const src = join(base, 'src');
  mkdirSync(src);
  return { base, src };
}

test('a target still waiting for its startup sync shows on the status line, with why', async (t) => {
  const dirs = terminalSource(t);
  if (dirs === undefined) return;
  const { base, src } = dirs;
  // A port nobody listens on: the target stays in retry, so the status line is there to be seen.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const agent = onTerminal(t, ['--source', src, '--target', `nobody@127.0.0.1:${base}/dst`, '--ssh-port', String(port), '--retry-max-ms', '300'], join(base, 'inosync.sock'));

  const seen = await waitFor(() => /startup sync 0\/1 targets, [^:]+: nobody@127\.0\.0\.1:\S+ (retrying|down)/.exec(agent.output()), { what: 'the status line', timeoutMs: 10_000 });
  assert.ok(seen);
  assert.match(agent.output(), /\x1b\[32mINFO\x1b\[39m: \x1b\[36magent running/, 'log lines are the readable kind on a terminal');
  await agent.stop();
});

test('a startup full sync under way shows its numbers on the status line: entries checked of the total, files sent, time left', async (t) => {
  const dirs = terminalSource(t);
  if (dirs === undefined) return;
  const { base, src } = dirs;
  for (let f = 0; f < 100; f++) writeFileSync(join(src, `f${f}`), Buffer.alloc(16 * 1024, f));
  // About 3 s of sending at 500 KiB/s: long enough for the line to be drawn with numbers.
  const agent = onTerminal(t, ['--source', src, '--target', join(base, 'dst'), '--state-dir', join(base, 'state'), '--rsync-opts', '-aHAX --bwlimit=500'], join(base, 'inosync.sock'));

  const line = /startup sync 0\/1 targets, [^:]+: \S+ [\d,]+\/[\d,]+ checked, [\d,]+ sent, \S+ left/;
  assert.ok(await waitFor(() => line.exec(agent.output()), { what: 'the status line with numbers', timeoutMs: 15_000 }));
  await agent.stop();
});
