// --on-sync COMMAND is split into argv words the way a shell quotes, but nothing is expanded or run by a shell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitWords } from '../../src/hooks/words.js';
import { parseListenAddress } from '../../src/metrics/listen-address.js';

test('quotes group words, backslashes escape, and $(...), globs and variables stay literal', () => {
  assert.deepEqual(splitWords(`/usr/bin/notify --msg 'a b' "c \\"d\\"" e\\ f $(touch x) *.log $HOME`),
    ['/usr/bin/notify', '--msg', 'a b', 'c "d"', 'e f', '$(touch', 'x)', '*.log', '$HOME']);
  assert.deepEqual(splitWords(`sh -c 'echo "$INOSYNC_HOST" >> /tmp/log'`), ['sh', '-c', 'echo "$INOSYNC_HOST" >> /tmp/log']);
  assert.deepEqual(splitWords(`empty '' ""`), ['empty', '', '']);
});

test('an unclosed quote or an empty command is an error that says so', () => {
  assert.throws(() => splitWords(`notify 'oops`, '--on-sync'), /--on-sync "notify 'oops" has an unclosed '/);
  assert.throws(() => splitWords('   ', '--on-sync'), /--on-sync is empty/);
});

test('--metrics binds to loopback unless a host is given', () => {
  assert.deepEqual(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress(':9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100 });
  assert.deepEqual(parseListenAddress('[::1]:9100'), { host: '::1', port: 9100 });
  assert.throws(() => parseListenAddress('localhost'), /--metrics "localhost" is not HOST:PORT/);
  assert.throws(() => parseListenAddress(':70000'), /is not HOST:PORT/);
});
