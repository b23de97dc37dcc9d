// The built-in demo: mirrors a small web tree to a local directory and, when run as root with sshd
// installed, to a loopback ssh host started for the occasion; makes a few changes, shows each arriving,
// then stops the agent with SIGTERM. Everything lives in a temp dir that is removed at the end.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareTrees } from '../test/helpers/compare.js';
import { makeTree } from '../test/helpers/tmp.js';
import { startSshd, type SshHost } from '../test/helpers/sshd.js';

const cli = fileURLToPath(new URL('../src/cli/launcher.cjs', import.meta.url));
const cleanups: Array<() => void | Promise<void>> = [];
const say = (line: string): void => { process.stdout.write(`demo: ${line}\n`); };

async function converged(source: string, targets: string[], deadlineMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const diffs = await Promise.all(targets.map((t) => compareTrees(source, t).catch(() => ['listing']))); 
    if (diffs.every((d) => d.length === 0)) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`targets still differ after ${deadlineMs} ms: ${diffs.flat().slice(0, 5).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function loopbackHost(): Promise<SshHost | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return await startSshd({ after: (fn) => { cleanups.push(fn); } });
  } catch (error) {
    say(`no loopback ssh target (${(error as Error).message}); mirroring to the local target only`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inosync-demo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const source = join(dir, 'www');
  const local = join(dir, 'mirror-local');
  mkdirSync(source);
  makeTree(source, [
    { path: 'index.html', content: '<h1>hello</h1>\n' },
    { path: 'css/site.css', content: 'body { margin: 0 }\n' },
    { path: 'img/logo.svg', content: '<svg/>\n' },
    { path: 'current', symlinkTo: 'img' },
    { path: 'a name with spaces and $(touch pwned).txt', content: 'odd names travel safely\n' },
  ]);
  const host = await loopbackHost();
  const remote = join(dir, 'mirror-ssh');
  const args = ['sync', '--source', source, '--target', local, '--socket', join(dir, 'status.sock'), '--state-dir', join(dir, 'state')];
  const targets = [local];
  if (host !== undefined) {
    args.push('--target', host.spec(remote), '--ssh-port', String(host.port), '--ssh-identity', host.identity,
      ...host.sshOptions.filter((o) => o !== '-o').flatMap((o) => ['--ssh-option', o]));
    targets.push(remote);
  }
  say(`source ${source}`);
  for (const t of targets) say(`target ${t === remote && host !== undefined ? host.spec(remote) : t}`);
  say(`running: inosync ${args.join(' ')}`);
  const agent = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
  cleanups.push(() => { if (agent.exitCode === null) agent.kill('SIGKILL'); });

  say(`initial sync done in ${(await converged(source, targets, 30_000)).toFixed(0)} ms`);
  const steps: Array<[string, () => void]> = [
    ['write a new page', () => writeFileSync(join(source, 'news.html'), '<p>fresh</p>\n')],
    ['mkdir -p and fill at once', () => { mkdirSync(join(source, 'blog/2026/11'), { recursive: true }); writeFileSync(join(source, 'blog/2026/11/post.html'), 'post\n'); }],
    ['rename a directory', () => renameSync(join(source, 'img'), join(source, 'images'))],
    ['delete a file', () => unlinkSync(join(source, 'css/site.css'))],
  ];
  for (const [what, change] of steps) {
    change();
    say(`${what}: on every target after ${(await converged(source, targets, 30_000)).toFixed(0)} ms`);
  }
  agent.kill('SIGTERM');
  say(`agent stopped with SIGTERM, exit code ${String(await exited)}`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
