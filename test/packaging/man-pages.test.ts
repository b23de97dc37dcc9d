// The man pages under contrib/man are held to what the commands' --help prints: every option a --help lists
// has a tagged paragraph (.TP) in that command's section of its page, and a page names no option that no
// --help knows. An option added to the CLI without its documentation, or one removed from the CLI but not
// from the page, fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, packageVersion } from '../helpers/pack.js';
import { runCli } from '../helpers/run-cli.js';

const manDir = join(packageRoot, 'contrib', 'man');

/** Each --help and where its options are documented: a page and the heading (.SH) of its section. */
const COMMANDS = [
  { args: ['--help'], page: 'inosync.1', section: 'OPTIONS' },
  { args: ['sync', '--help'], page: 'inosync.1', section: 'INOSYNC SYNC' },
  { args: ['check', '--help'], page: 'inosync.1', section: 'INOSYNC CHECK' },
  { args: ['limits', '--help'], page: 'inosync.1', section: 'INOSYNC LIMITS' },
  { args: ['status', '--help'], page: 'inosync.1', section: 'INOSYNC STATUS' },
  { args: ['import', '--help'], page: 'inosync.1', section: 'INOSYNC IMPORT' },
  { args: ['watch', '--help'], page: 'inosync-watch.1', section: 'OPTIONS' },
  { args: ['watch', '--stats', '--help'], page: 'inosync-watch.1', section: 'COUNTING EVENTS' },
] as const;

/** yargs lists these for every command; inosync(1) documents them once, under OPTIONS. */
const EVERY_COMMAND = new Set(['--help', '--version']);
/** Options of other programs that the pages quote in their examples. */
const FOREIGN = new Set(['--now']);

/** Long options in roff source or plain text (`\-` is roff's minus sign). */
const longOptions = (text: string): string[] => text.replaceAll('\\-', '-').match(/--[a-z][a-z0-9-]*/g) ?? [];

/**
 * The options a --help lists as its own: the names at the head of the lines of its "Options:" block (not the
 * ones its prose mentions, such as rsync's --numeric-ids).
 */
function listedOptions(help: string): Set<string> {
  const block = help.split(/^Options:\n/m)[1]?.split(/\n\n/)[0] ?? '';
  const heads = block.split('\n').flatMap((line) => {
    const head = /^ {1,8}((?:(?:-[A-Za-z]|--[a-z][a-z0-9-]*|@[A-Z]+)(?: [A-Z]+)?(?:, | |$))+)/.exec(line);
    return head ? longOptions(head[1] as string) : [];
  });
  return new Set(heads);
}

/** One section of a page: from its .SH heading to the next .SH. */
function section(source: string, heading: string): string {
  const parts = source.split(/^\.SH /m);
  const found = parts.find((part) => part.split('\n')[0]?.replace(/"/g, '') === heading);
  assert.ok(found !== undefined, `no .SH ${heading}`);
  return found;
}

/** The options a section documents: those in the tags of its .TP paragraphs. */
function documentedOptions(text: string): Set<string> {
  const tags = [...text.matchAll(/^\.TP\n(.*)$/gm)].map((match) => match[1] as string);
  return new Set(tags.flatMap(longOptions));
}

const page = (name: string): string => readFileSync(join(manDir, name), 'utf8');

const helps = new Map<string, Promise<string>>();
/** What `inosync ARGS` prints (each asked once per run). */
function help(args: readonly string[]): Promise<string> {
  const key = args.join(' ');
  if (!helps.has(key)) {
    helps.set(key, runCli(args).then((result) => {
      assert.equal(result.code, 0, result.stderr);
      return result.stdout;
    }));
  }
  return helps.get(key) as Promise<string>;
}

for (const command of COMMANDS) {
  test(`${command.page} documents every option of inosync ${command.args.join(' ')}, and no other`, async () => {
    const listed = listedOptions(await help(command.args));
    assert.ok(listed.size > 0, 'no options parsed from the help');
    const exempt = command.section === 'OPTIONS' && command.page === 'inosync.1' ? new Set<string>() : EVERY_COMMAND;
    const documented = documentedOptions(section(page(command.page), command.section));
    const undocumented = [...listed].filter((option) => !exempt.has(option) && !documented.has(option));
    assert.deepEqual(undocumented, [], `listed by --help, missing from ${command.page} ${command.section}`);
    // A --no- form is documented beside its option, which --help names in its prose.
    const mentioned = new Set(longOptions(await help(command.args)));
    const unknown = [...documented].filter((option) => !listed.has(option) && !mentioned.has(option));
    assert.deepEqual(unknown, [], `documented in ${command.page} ${command.section} but not an option of it`);
  });
}

test('the pages name no option that no --help knows', async () => {
  const known = new Set(FOREIGN);
  for (const command of COMMANDS) for (const option of longOptions(await help(command.args))) known.add(option);
  for (const name of ['inosync.1', 'inosync-watch.1']) {
    const stale = [...new Set(longOptions(page(name)))].filter((option) => !known.has(option));
    assert.deepEqual(stale, [], name);
  }
});

test('each page carries the package version, and has SEE ALSO, EXIT STATUS and SIGNALS', () => {
  for (const name of ['inosync.1', 'inosync-watch.1']) {
    const source = page(name);
    assert.match(source, new RegExp(`^\\.TH \\S+ 1 "[^"]+" "inosync ${packageVersion.replaceAll('.', '\\.')}" "User Commands"$`, 'm'), name);
    for (const heading of ['SEE ALSO', 'EXIT STATUS', 'SIGNALS']) section(source, heading);
  }
  const seeAlso = section(page('inosync.1'), 'SEE ALSO');
  for (const reference of ['inosync\\-watch', 'rsync', 'ssh', 'inotifywait']) assert.ok(seeAlso.includes(`.BR ${reference} (1)`), reference);
  for (const file of ['/etc/inosync', '/var/lib/inosync', '/run/inosync']) assert.ok(section(page('inosync.1'), 'FILES').includes(file.replaceAll('-', '\\-')), file);
  assert.match(section(page('inosync.1'), 'SECURITY'), /SECURITY\.md/);
});
