import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants as C } from '../../src/inotify/binding.js';
import { getoptLong } from '../../src/monitor/getopt.js';
import { parseWatchCommand, WAIT_OPTIONS, type StatsOptions, type WaitOptions } from '../../src/monitor/options.js';

const wait = (...args: string[]): WaitOptions => {
  const parsed = parseWatchCommand(args, 'inotifywait');
  assert.equal(parsed.kind, 'wait');
  return parsed as WaitOptions;
};

test('getopt_long: clusters, attached values, values that start with a dash, prefixes, options after paths, --', () => {
  const parsed = getoptLong(['-mrq', 'dir', '-emodify', '--exclude', '-tmp$', '--mon', '-t5', '--', '-odd'], WAIT_OPTIONS, 'inotifywait');
  assert.deepEqual(parsed.operands, ['dir', '-odd']);
  assert.deepEqual(parsed.options.map((o) => [o.key, o.value]), [
    ['monitor', undefined], ['recursive', undefined], ['quiet', undefined], ['event', 'modify'],
    ['exclude', '-tmp$'], ['monitor', undefined], ['timeout', '5'],
  ]);
});

test('getopt_long errors read like glibc\'s', () => {
  assert.throws(() => getoptLong(['--bogus'], WAIT_OPTIONS, 'p'), /unrecognized option '--bogus'/);
  assert.throws(() => getoptLong(['--ex', 'x'], WAIT_OPTIONS, 'p'), /option '--ex' is ambiguous/);
  assert.throws(() => getoptLong(['-e'], WAIT_OPTIONS, 'p'), /option requires an argument -- 'e'/);
  assert.throws(() => getoptLong(['-x'], WAIT_OPTIONS, 'p'), /invalid option -- 'x'/);
  assert.throws(() => getoptLong(['--monitor=1'], WAIT_OPTIONS, 'p'), /doesn't allow an argument/);
});

test('-q counts, -e lists combine, -d implies -m and syslog', () => {
  const o = wait('-qq', '-e', 'modify', '-e', 'create,delete', '-d', '-o', 'log', 'dir');
  assert.equal(o.quiet, 2);
  assert.equal(o.events, C.IN_MODIFY | C.IN_CREATE | C.IN_DELETE);
  assert.equal(o.monitor, true);
  assert.equal(o.syslog, true);
  assert.equal(o.outfile, 'log');
});

test('--format gets a newline unless --no-newline', () => {
  assert.deepEqual(wait('--format', '%w%f', 'd').output, { kind: 'format', format: '%w%f\n', timefmt: undefined });
  assert.deepEqual(wait('--format', '%w%f%0', '--no-newline', 'd').output, { kind: 'format', format: '%w%f%0', timefmt: undefined });
});

test('timeouts: whole seconds, 0 is none, negative or fractional is an error', () => {
  assert.equal(wait('-t', '0', 'd').timeout, 0);
  assert.equal(wait('-t', '7', 'd').timeout, 7);
  assert.throws(() => wait('-t', '-1', 'd'), /is negative/);
  assert.throws(() => wait('-t', '1.5', 'd'), /'1.5' is not a valid timeout value/);
});

test('inotifywait\'s option conflicts are refused with its messages', () => {
  assert.throws(() => wait('-c', '--format', '%w', 'd'), /-c and --format cannot both be specified/);
  assert.throws(() => wait('--no-newline', 'd'), /--no-newline cannot be specified without --format/);
  assert.throws(() => wait('--timefmt', '%T', 'd'), /--timefmt cannot be specified without --format/);
  assert.throws(() => wait('--format', '%T', 'd'), /%T is in --format string, but --timefmt was not specified/);
  assert.throws(() => wait('-d', 'd'), /-o must be specified with -d/);
  assert.throws(() => wait('--include', 'a', '--exclude', 'b', 'd'), /include and exclude regexp cannot both be specified/);
  assert.throws(() => wait('--json', '--csv', 'd'), /--json cannot be combined/);
});

test('the last --exclude counts, with inotifywait\'s remark', () => {
  const o = wait('--exclude', 'a', '--exclude', 'b', 'd');
  assert.deepEqual(o.filter, { pattern: 'b', include: false, ignoreCase: false });
  assert.deepEqual(o.notes, ['--exclude: only the last option will be taken into consideration.']);
});

test('--stats switches to inotifywatch\'s options: -d and -a sort, -z, -v', () => {
  const s = parseWatchCommand(['--stats', '-r', '-t', '3', '-d', 'modify', '-z', 'dir'], 'inosync watch') as StatsOptions;
  assert.equal(s.kind, 'stats');
  assert.deepEqual(s.sort, { event: C.IN_MODIFY, ascending: false });
  assert.equal(s.zero, true);
  assert.deepEqual(s.operands, ['dir']);
  assert.throws(() => parseWatchCommand(['--stats', '-a', 'total', '-d', 'total', 'x'], 'p'), /Please specify -a or -d once only!/);
});
