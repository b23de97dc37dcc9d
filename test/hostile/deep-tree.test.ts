// Issue 12, item 10: a tree deeper than PATH_MAX (anyone who can write to the source can make one) must not
// stop the agent from starting, nor hold back the changes behind it. Such a subtree is skipped with a warning
// naming it; the rest of the tree is watched and mirrored. Real agents, real rsync, real deep trees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, startLoggedCli, type LoggedCli } from '../helpers/run-cli.js';
import { deepTempDir, makeDeepChain, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Levels of one-letter names: about 4,200 bytes, past PATH_MAX (4,096) from any root. */
const LEVELS = 2_100;
/** How the skipped directory is named: the start of its path, cut, and its depth. */
const SKIPPED = /skipping "[^"]*\/src\/deep\/d\/d\/d[^"]*\.\.\.[d/]*" \(257 levels below the root/;

function layout(t: CleanupContext): { base: string; src: string; dst: string; socket: string } {
  const base = deepTempDir(t);
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  mkdirSync(src);
  mkdirSync(dst);
  writeFileSync(join(src, 'sibling'), 'beside the deep tree\n');
  return { base, src, dst, socket: join(base, 'inosync.sock') };
}

async function startAgent(t: CleanupContext, src: string, dst: string, socket: string): Promise<LoggedCli> {
  const agent = startLoggedCli(t, ['sync', '--source', src, '--target', dst, '--socket', socket, '--retry-max-ms', '1000'], { leftovers: true });
  await agent.waitForLog((l) => l.msg.startsWith('agent running'), 'the agent to run', 20_000);
  return agent;
}

function holds(path: string, content: string): boolean {
  return existsSync(path) && readFileSync(path, 'utf8') === content;
}

test('an agent on a source holding a 2,100-level tree starts, names the skipped subtree, and mirrors the rest', async (t) => {
  const { src, dst, socket } = layout(t);
  makeDeepChain(src, 'deep', LEVELS);
  const agent = await startAgent(t, src, dst, socket);
  await waitFor(() => holds(join(dst, 'sibling'), 'beside the deep tree\n'), { what: 'the sibling file on the target', timeoutMs: 20_000 });
  assert.ok(agent.logs().some((l) => typeof l.warning === 'string' && SKIPPED.test(l.warning)), agent.cli.stderr);
  const status = await runCli(['status', '--socket', socket]);
  assert.match(status.stdout, /skipped, too deep or too long to watch or send \(not synced\): 1: "deep\/d\/d/);
});

test('a deep tree moved in while the agent runs does not hold back a change made after it', async (t) => {
  const { base, src, dst, socket } = layout(t);
  const agent = await startAgent(t, src, dst, socket);
  await waitFor(() => holds(join(dst, 'sibling'), 'beside the deep tree\n'), { what: 'the startup sync', timeoutMs: 20_000 });
  makeDeepChain(base, 'deep', LEVELS);
  renameSync(join(base, 'deep'), join(src, 'deep'));
  writeFileSync(join(src, 'after'), 'made after the move\n');
  await waitFor(() => holds(join(dst, 'after'), 'made after the move\n'), { what: 'the later change on the target', timeoutMs: 20_000 });
  await waitFor(() => existsSync(join(dst, 'deep', 'd', 'd')), { what: 'the shallow part of the moved-in tree on the target', timeoutMs: 20_000 });
  await agent.waitForLog((l) => typeof l.warning === 'string' && SKIPPED.test(l.warning), 'the warning naming the skipped subtree');
});

test('`inosync watch -r` on a 2,100-level tree starts, names the skipped subtree, and reports events elsewhere', async (t) => {
  const { src } = layout(t);
  makeDeepChain(src, 'deep', LEVELS);
  const watch = startCli(t, ['watch', '-m', '-r', src]);
  await waitFor(() => {
    if (watch.child.exitCode !== null) throw new Error(`inosync watch exited (${watch.child.exitCode}):\n${watch.stderr}`);
    return watch.stderr.includes('Watches established');
  }, { what: 'the watches to be established', timeoutMs: 20_000 });
  assert.match(watch.stderr, SKIPPED);
  writeFileSync(join(src, 'sibling'), 'written while watched\n');
  await waitFor(() => watch.stdout.includes(`${src}/ CLOSE_WRITE,CLOSE sibling`), { what: 'the write reported', timeoutMs: 10_000 });
});
