// The node-inotify compatible API: its README example runs as written, and its semantics hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inotify, type InotifyEvent } from '../../src/index.js';
import { bytesPath, oddNames, tempDir, type CleanupContext } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { runModule } from '../helpers/run-module.js';
import { cannotLowerQueueLimit, withQueueLimit } from '../helpers/queue-limit.js';

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));
const indexUrl = new URL('../../src/index.js', import.meta.url).href;

/** The README's "For node-inotify users" example, verbatim (the README must hold exactly this). */
const readmeExample = `const { Inotify } = require('inosync');

const inotify = new Inotify(); // persistent: node keeps running until close()
const dir = process.argv[2];
const renames = new Map(); // cookie -> old name: the two halves of a rename share a cookie

inotify.addWatch({
  path: dir,
  watch_for: Inotify.IN_CREATE | Inotify.IN_CLOSE_WRITE | Inotify.IN_MOVE | Inotify.IN_DELETE,
  callback(event) {
    const kind = event.mask & Inotify.IN_ISDIR ? 'directory' : 'file';
    if (event.mask & Inotify.IN_CREATE) console.log(\`\${kind} \${event.name} created\`);
    if (event.mask & Inotify.IN_CLOSE_WRITE) console.log(\`file \${event.name} written\`);
    if (event.mask & Inotify.IN_MOVED_FROM) renames.set(event.cookie, event.name);
    if (event.mask & Inotify.IN_MOVED_TO) console.log(\`\${kind} \${renames.get(event.cookie)} renamed to \${event.name}\`);
    if (event.mask & Inotify.IN_DELETE) console.log(\`\${kind} \${event.name} deleted\`);
    if (event.mask & Inotify.IN_IGNORED) {
      // Always delivered, whatever watch_for says: the watch is gone (here: dir was removed).
      console.log('watch removed');
      inotify.close();
    }
  },
});
console.log(\`watching \${dir}\`);
`;

/** A compat instance, closed when the test ends. */
function instance(t: CleanupContext, persistent?: boolean): Inotify {
  const inotify = new Inotify(persistent);
  t.after(() => { inotify.close(); });
  return inotify;
}

test('the README example runs unchanged under require() and reports what happens in the directory', async (t) => {
  const work = tempDir(t);
  // A consumer project: node_modules/inosync is this package.
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(packageRoot, join(work, 'node_modules', 'inosync'));
  writeFileSync(join(work, 'watch-dir.cjs'), readmeExample);
  const dir = join(work, 'watched');
  mkdirSync(dir);

  const child = spawn(process.execPath, ['watch-dir.cjs', dir], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  await waitFor(() => stdout.includes('watching'), { what: `the example to start (stderr: ${stderr})` });
  writeFileSync(join(dir, 'a.txt'), 'hello');
  mkdirSync(join(dir, 'sub'));
  renameSync(join(dir, 'a.txt'), join(dir, 'b.txt'));
  unlinkSync(join(dir, 'b.txt'));
  rmdirSync(join(dir, 'sub'));
  rmdirSync(dir);

  assert.equal(await exited, 0, stderr);
  assert.equal(stdout, [
    `watching ${dir}`,
    'file a.txt created',
    'file a.txt written',
    'directory sub created',
    'file a.txt renamed to b.txt',
    'file b.txt deleted',
    'directory sub deleted',
    'watch removed',
    '',
  ].join('\n'));
});

test('the README holds the tested example verbatim', () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code?.includes("require('inosync')"));
  assert.equal(block, readmeExample, 'README.md must hold the node-inotify example of this test, verbatim');
});

test('every IN_* constant is a static property of the class', () => {
  assert.equal(Inotify.IN_CREATE, 0x100);
  assert.equal(Inotify.IN_ALL_EVENTS, 0xfff);
  assert.equal(Inotify.IN_CLOSE, Inotify.IN_CLOSE_WRITE | Inotify.IN_CLOSE_NOWRITE);
  assert.equal(Inotify.IN_MOVE, Inotify.IN_MOVED_FROM | Inotify.IN_MOVED_TO);
  assert.equal(Inotify.IN_ONESHOT, 0x80000000);
  assert.equal(Inotify.IN_Q_OVERFLOW, 0x4000);
  assert.equal(Inotify.IN_IGNORED, 0x8000);
  assert.equal(Inotify.IN_ISDIR, 0x40000000);
});

test('watch_for defaults to IN_ALL_EVENTS, and the callback runs with the instance as this', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), 'x');
  const inotify = instance(t);
  const seen: Array<{ self: unknown; event: InotifyEvent }> = [];
  inotify.addWatch({ path: dir, callback(event) { seen.push({ self: this, event }); } });
  readFileSync(join(dir, 'f'));
  const opened = await waitFor(() => seen.find((s) => s.event.mask & Inotify.IN_OPEN), { what: 'IN_OPEN (only in IN_ALL_EVENTS)' });
  assert.equal(opened.self, inotify);
  assert.equal(opened.event.name, 'f');
});

test('events on the watched object itself have no name; events inside a directory name the entry', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'watched-file');
  writeFileSync(file, '');
  const inotify = instance(t);
  const events: InotifyEvent[] = [];
  inotify.addWatch({ path: file, watch_for: Inotify.IN_MODIFY, callback: (e) => events.push(e) });
  inotify.addWatch({ path: Buffer.from(dir), watch_for: Inotify.IN_CREATE, callback: (e) => events.push(e) });
  writeFileSync(file, 'more');
  writeFileSync(bytesPath(dir, oddNames.nonUtf8), '');
  await waitFor(() => events.length >= 2, { what: 'IN_MODIFY and IN_CREATE' });
  const modify = events.find((e) => e.mask & Inotify.IN_MODIFY);
  assert.ok(modify && !('name' in modify), 'the event on the file itself carries no name key');
  // Names are strings, as node-inotify gave them: invalid UTF-8 becomes U+FFFD.
  assert.equal(events.find((e) => e.mask & Inotify.IN_CREATE)?.name, 'f\ufffdo');
});

test('removeWatch returns true, the callback then gets IN_IGNORED and is forgotten; an unknown wd gives false', async (t) => {
  const dir = tempDir(t);
  const inotify = instance(t);
  const events: InotifyEvent[] = [];
  const wd = inotify.addWatch({ path: dir, callback: (e) => events.push(e) });
  assert.equal(inotify.removeWatch(wd), true);
  await waitFor(() => events.some((e) => e.mask & Inotify.IN_IGNORED), { what: 'IN_IGNORED' });
  assert.deepEqual(events.at(-1), { watch: wd, mask: Inotify.IN_IGNORED, cookie: 0 });
  assert.equal(inotify.removeWatch(wd), false);
});

test('addWatch throws on a path it cannot watch (node-inotify returned -1), with the errno code', (t) => {
  const inotify = instance(t);
  assert.throws(() => inotify.addWatch({ path: join(tempDir(t), 'missing'), callback: () => {} }), { code: 'ENOENT', syscall: 'inotify_add_watch' });
  assert.throws(() => inotify.addWatch({ path: tempDir(t), watch_for: 0, callback: () => {} }), TypeError);
});

test('close() returns true, then false; no callback runs after it', async (t) => {
  const dir = tempDir(t);
  const inotify = new Inotify();
  const events: InotifyEvent[] = [];
  inotify.addWatch({ path: dir, callback: (e) => events.push(e) });
  const witness = instance(t);
  const seen: InotifyEvent[] = [];
  witness.addWatch({ path: dir, watch_for: Inotify.IN_CREATE, callback: (e) => seen.push(e) });
  assert.equal(inotify.close(), true);
  assert.equal(inotify.close(), false);
  writeFileSync(join(dir, 'after'), '');
  await waitFor(() => seen.length > 0, { what: 'the witness to see the change' });
  assert.deepEqual(events, []);
});

test('an overflow reaches every callback as an event with watch -1', { skip: cannotLowerQueueLimit }, async (t) => {
  const dirs = [tempDir(t), tempDir(t)];
  const inotify = withQueueLimit(16, () => instance(t));
  const overflows = new Set<string>();
  for (const path of dirs) {
    inotify.addWatch({ path, watch_for: Inotify.IN_CREATE, callback: (e) => { if (e.mask & Inotify.IN_Q_OVERFLOW && e.watch === -1) overflows.add(path); } });
  }
  for (let i = 0; i < 40; i++) writeFileSync(join(dirs[i % 2] as string, `f${i}`), '');
  await waitFor(() => overflows.size === 2, { what: 'IN_Q_OVERFLOW in both callbacks' });
});

test('a callback that throws is an uncaught exception, and the events after it are still delivered', async (t) => {
  const dir = tempDir(t);
  const { code, stdout, stderr } = await runModule(`
    import { Inotify } from ${JSON.stringify(indexUrl)};
    import { writeFileSync } from 'node:fs';
    const inotify = new Inotify();
    process.on('uncaughtException', (error) => console.log('uncaught: ' + error.message));
    inotify.addWatch({ path: ${JSON.stringify(dir)}, watch_for: Inotify.IN_CREATE, callback(event) {
      console.log('event ' + event.name);
      if (event.name === 'b') inotify.close();
      else throw new Error('thrown for ' + event.name);
    } });
    writeFileSync(${JSON.stringify(join(dir, 'a'))}, '');
    writeFileSync(${JSON.stringify(join(dir, 'b'))}, '');
  `);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, 'event a\nevent b\nuncaught: thrown for a\n');
});

test('new Inotify(false) does not keep the process alive', async () => {
  const { code, stdout, stderr } = await runModule(`
    import { Inotify } from ${JSON.stringify(indexUrl)};
    const inotify = new Inotify(false);
    inotify.addWatch({ path: '/tmp', callback: () => {} });
    process.on('exit', () => console.log(inotify.persistent));
  `);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), 'false');
});
