// inotifywait's remaining options beside Debian's inotifywait (-d, --fromfile with @excludes, -qq, usage errors),
// inotifywatch beside `inosync watch --stats`, syslog through logger, and the `inotifywait` name.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliPath } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { argvOf, sideBySide, startMonitor, type Tool } from './watch-harness.js';

function run(tool: Tool, args: string[], cwd?: string): { code: number | null; stdout: string; stderr: string } {
  const [file, argv] = argvOf(tool, args);
  const result = spawnSync(file, argv, { cwd, encoding: 'utf8', timeout: 10_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('-d -o RELATIVE: returns once the watches are set, events appended to the file named from here', async (t) => {
  const root = tempDir(t);
  const watched = join(root, 'w');
  mkdirSync(watched);
  const args = (log: string): string[] => ['-d', '-q', '-o', log, '-e', 'create', '-t', '2', watched];
  // Both daemons end by themselves 2 s after their last event (-t 2).
  const started = run('inosync', args('ours.log'), root);
  assert.equal(started.code, 0, started.stderr);
  writeFileSync(join(watched, 'right-after-return'), '');
  await waitFor(() => existsSync(join(root, 'ours.log')) && readFileSync(join(root, 'ours.log'), 'utf8').includes('right-after-return'), { what: 'the daemon to log the first event' });
  // inotifywait -d needs the log to exist already (it realpath()s it), and returns before its watches are set:
  // probe until it logs.
  writeFileSync(join(root, 'theirs.log'), '');
  assert.equal(run('inotifywait', args('theirs.log'), root).code, 0);
  let probes = 0;
  await waitFor(() => {
    writeFileSync(join(watched, `probe${probes++}`), '');
    return existsSync(join(root, 'theirs.log')) && readFileSync(join(root, 'theirs.log'), 'utf8').includes('probe');
  }, { intervalMs: 50, what: 'inotifywait -d to log a probe' });
  writeFileSync(join(watched, 'same'), '');
  await waitFor(() => ['ours.log', 'theirs.log'].every((f) => readFileSync(join(root, f), 'utf8').includes('same')), { what: 'both logs to hold "same"' });
  const tail = (f: string): string => readFileSync(join(root, f), 'utf8').split('\n').filter((l) => l.includes(' same')).join('\n');
  assert.equal(tail('ours.log'), tail('theirs.log'));
  assert.equal(tail('ours.log'), `${watched}/ CREATE same`);
});

test('usage errors end with status 1 as in inotifywait', (t) => {
  const root = tempDir(t);
  const cases = [[], ['/nonexistent/x'], ['-e', 'bogus', root], ['-d', root]];
  for (const args of cases) {
    const [ours, theirs] = [run('inosync', args), run('inotifywait', args)];
    assert.deepEqual([ours.code, args], [1, args]);
    assert.equal(theirs.code, 1);
    if (args.length === 0) assert.match(ours.stderr, /No files specified to watch!/);
    if (args[0] === '/nonexistent/x') assert.match(ours.stderr, /Couldn't watch \/nonexistent\/x: No such file or directory/);
  }
  // inotifywait takes -t -5 as a huge unsigned timeout and waits forever; inosync refuses it.
  const negative = run('inosync', ['-t', '-5', root]);
  assert.equal(negative.code, 1);
  assert.match(negative.stderr, /negative/);
});

test('--fromfile - with @excludes, -r: the same lines as inotifywait', async (t) => {
  const root = tempDir(t);
  for (const d of ['a/keep', 'a/skip', 'b']) mkdirSync(join(root, d), { recursive: true });
  const list = Buffer.from(`${root}/a\n@${root}/a/skip\n\n${root}/b\n`);
  const { ours, theirs } = await sideBySide(t, ['-mr', '-e', 'create', '--format', '%w%f', '--fromfile', '-'], { stdin: list });
  for (const d of ['a', 'a/keep', 'a/skip', 'b']) writeFileSync(join(root, d, 'f'), '');
  writeFileSync(join(root, 'b/zz-end'), '');
  await Promise.all([ours.waitStdout('zz-end'), theirs.waitStdout('zz-end')]);
  await Promise.all([ours.stop(), theirs.stop()]);
  assert.deepEqual(ours.lines(), theirs.lines());
  assert.deepEqual(ours.lines(), [`${root}/a/f`, `${root}/a/keep/f`, `${root}/b/f`, `${root}/b/zz-end`]);
});

test('-qq: no messages and no events, only the exit status (0 for an event)', async (t) => {
  const root = tempDir(t);
  const tools = (['inosync', 'inotifywait'] as const).map((tool) => startMonitor(t, tool, ['-qq', '-e', 'create', root]));
  // Nothing is printed once the watches are set: create files until both have ended.
  let n = 0;
  await waitFor(async () => {
    writeFileSync(join(root, `f${n++}`), '');
    return tools.every((m) => m.child.exitCode !== null);
  }, { intervalMs: 50, what: 'both to end on a create' });
  for (const m of tools) {
    assert.equal((await m.exited).code, 0);
    assert.equal(m.stdout.length, 0);
    assert.equal(m.stderr, '');
  }
});

test('--stats -r -t: the same table as inotifywatch', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'sub'));
  const start = (tool: Tool, args: string[]): ReturnType<typeof startMonitor> => startMonitor(t, tool, args);
  const ready = 'Finished establishing watches, now collecting statistics.';
  // inotifywatch starts in milliseconds, node in a good part of a second: started second, its -t runs no shorter.
  const ours = start('inosync', ['--stats', '-r', '-t', '3', '-e', 'create,modify', root]);
  await ours.waitStderr(ready);
  const theirs = start('inotifywatch', ['-r', '-t', '3', '-e', 'create,modify', root]);
  await theirs.waitStderr(ready);
  for (const name of ['f1', 'f2', 'f3', 'sub/g']) writeFileSync(join(root, name), 'x');
  const [a, b] = await Promise.all([ours.exited, theirs.exited]);
  assert.deepEqual([a.code, b.code], [0, 0]);
  assert.equal(ours.stdout.toString(), theirs.stdout.toString());
  assert.equal(ours.stdout.toString(), `total  modify  create  filename\n6      3       3       ${root}/\n2      1       1       ${root}/sub/\n`);
});

test('-s: messages go to syslog through logger (here to a test socket), tagged with the program and pid', { skip: spawnSync('python3', ['-c', '1']).status === 0 ? false : 'needs python3 for a unix datagram receiver' }, async (t) => {
  const root = tempDir(t);
  const socket = join(root, 'log.sock');
  const receiver = spawn('python3', ['-c', [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(socket)})`,
    'print("bound", flush=True)',
    'while True: print(s.recv(65536).decode("utf-8", "replace"), flush=True)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let received = '';
  receiver.stdout.on('data', (chunk: Buffer) => { received += chunk.toString(); });
  t.after(() => { receiver.kill(); });
  await waitFor(() => received.includes('bound'), { timeoutMs: 15_000, what: 'the syslog receiver' });
  const monitor = startMonitor(t, 'inosync', ['-s', '--syslog-socket', socket, '-e', 'create', root]);
  await waitFor(() => received.includes('Watches established.'), { timeoutMs: 15_000, what: 'syslog to get "Watches established."' });
  writeFileSync(join(root, 'x'), '');
  assert.equal((await monitor.exited).code, 0);
  assert.match(received, new RegExp(`inosync\\[${monitor.child.pid}\\]: Setting up watches\\.`));
  assert.equal(monitor.stderr, '');
  assert.equal(monitor.stdout.toString(), `${root}/ CREATE x\n`);
});

test('installed as `inotifywait` or `inotifywatch` (symlinks): its name in --help, inotifywait\'s arguments as they are', (t) => {
  const root = tempDir(t);
  const link = join(root, 'inotifywait');
  symlinkSync(cliPath, link);
  chmodSync(cliPath, 0o755); // npm sets the bin's mode when installing; a build alone does not
  const help = spawnSync(link, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: inotifywait \[OPTIONS\] PATH\.\.\./);
  const timeout = spawnSync(link, ['-qt', '1', '-e', 'create', root], { encoding: 'utf8' });
  assert.equal(timeout.status, 2);
  assert.equal(timeout.stderr, '');
  const statsLink = join(root, 'inotifywatch');
  symlinkSync(cliPath, statsLink);
  assert.match(spawnSync(statsLink, ['-h'], { encoding: 'utf8' }).stdout, /^Usage: inotifywatch \[OPTIONS\] PATH\.\.\./);
});
