import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants as C } from '../../src/inotify/binding.js';
import { compilePathFilter, ereToJs } from '../../src/monitor/filter.js';
import { atExclusions, buildWatchList } from '../../src/monitor/paths.js';
import { EventStats } from '../../src/monitor/stats.js';

const matches = (pattern: string, path: string | Buffer, ignoreCase = false): boolean =>
  !compilePathFilter({ pattern, include: false, ignoreCase })(Buffer.from(path));

test('POSIX ERE translated: bracket classes, a literal backslash in brackets, \\< \\>, dot matches newline', () => {
  assert.ok(matches('[[:digit:]]+\\.log$', 'a/12.log'));
  assert.ok(!matches('[[:digit:]]+\\.log$', 'a/x.log'));
  assert.ok(matches('a[\\]b', 'a\\b'));
  assert.ok(matches('[]x]', ']'));
  assert.ok(matches('\\<tmp\\>', 'd/tmp/x'));
  assert.ok(!matches('\\<tmp\\>', 'd/tmpx'));
  assert.ok(matches('a.b', 'a\nb'));
  assert.equal(ereToJs('(\\.swp|~)$'), '(\\.swp|~)$');
});

test('--excludei ignores case; --include keeps only matches; non-UTF-8 paths match byte for byte', () => {
  assert.ok(matches('\\.JPG$', 'x.jpg', true));
  const include = compilePathFilter({ pattern: '\\.txt$', include: true, ignoreCase: false });
  assert.equal(include(Buffer.from('d/a.txt')), true);
  assert.equal(include(Buffer.from('d/a.dat')), false);
  assert.ok(matches('f.o', Buffer.from([0x66, 0xff, 0x6f])));
});

test('an invalid pattern is an error that says so', () => {
  assert.throws(() => compilePathFilter({ pattern: '[[:nope:]]', include: false, ignoreCase: false }), /unknown character class/);
  assert.throws(() => compilePathFilter({ pattern: '(', include: false, ignoreCase: false }), /invalid regular expression/);
});

test('paths from --fromfile (bytes, @ excludes, empty lines skipped) come before the command line\'s', () => {
  const list = buildWatchList(Buffer.from('a\n@a/skip\n\n@\nb\xff\n', 'latin1'), ['c', '@c/x']);
  assert.deepEqual(list.roots.map((r) => r.toString('latin1')), ['a', 'b\xff', 'c']);
  assert.deepEqual(list.exclusions.map((r) => r.toString()), ['a/skip', 'c/x']);
});

test('@PATH excludes a directory spelled from its root as given, trailing slash or not', () => {
  const exclude = atExclusions([Buffer.from('src/.git/'), Buffer.from('/abs/node_modules')]);
  assert.ok(exclude);
  assert.equal(exclude(Buffer.from('.git'), true, Buffer.from('src')), true);
  assert.equal(exclude(Buffer.from('.git'), true, Buffer.from('src/')), true);
  assert.equal(exclude(Buffer.from('.git'), false, Buffer.from('src')), false);
  assert.equal(exclude(Buffer.from('node_modules'), true, Buffer.from('/abs')), true);
  assert.equal(exclude(Buffer.from('.git'), true, Buffer.from('/work/src')), false);
});

test('stats table: inotifywatch columns and widths, sorted by total descending, zero columns hidden', () => {
  const stats = new EventStats();
  stats.record(Buffer.from('/a/'), C.IN_MODIFY);
  stats.record(Buffer.from('/b/'), C.IN_MODIFY);
  stats.record(Buffer.from('/b/'), C.IN_CLOSE_WRITE);
  stats.touch(Buffer.from('/c/'));
  assert.equal(stats.table(C.IN_ALL_EVENTS, { event: 0, ascending: false }, false).toString(),
    'total  modify  close_write  filename\n' +
    '2      1       1            /b/\n' +
    '1      1       0            /a/\n');
  assert.equal(stats.table(C.IN_MODIFY | C.IN_ATTRIB, { event: 0, ascending: true }, true).toString(),
    'total  modify  attrib  filename\n' +
    '0      0       0       /c/\n' +
    '1      1       0       /a/\n' +
    '2      1       0       /b/\n');
});
