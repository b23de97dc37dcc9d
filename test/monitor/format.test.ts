import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants as C } from '../../src/inotify/binding.js';
import { compileFormat, csvLine, DEFAULT_FORMAT, jsonLine, type MonitorEvent } from '../../src/monitor/format.js';
import { strftime } from '../../src/monitor/strftime.js';

const event = (dir: string | Buffer, name: string | Buffer, mask: number, cookie = 0): MonitorEvent =>
  ({ dir: Buffer.from(dir), name: Buffer.from(name), mask, cookie, synthetic: false });
const at = new Date(2026, 0, 2, 3, 4, 5);
const render = (format: string, e: MonitorEvent, timefmt?: string): string => compileFormat(format, timefmt)(e, at).toString('latin1');

test('the default line is "%w %,e %f"', () => {
  assert.equal(render(DEFAULT_FORMAT, event('dir/', 'a b', C.IN_CLOSE_WRITE)), 'dir/ CLOSE_WRITE,CLOSE a b\n');
  assert.equal(render(DEFAULT_FORMAT, event('file', '', C.IN_DELETE_SELF)), 'file DELETE_SELF \n');
});

test('--format conversions: %w %f %e %Xe %c %0 %n %%', () => {
  const e = event('d/', 'f', C.IN_MOVED_FROM | C.IN_ISDIR, 0x1a2b);
  assert.equal(render('%w%f|%e|%:e|%c|%%|%n|%0', e), 'd/f|MOVED_FROM,ISDIR|MOVED_FROM:ISDIR|1a2b|%|\n|\0');
});

test('--format copies unknown conversions and drops a lone trailing %', () => {
  assert.equal(render('%q%w%', event('d/', 'f', C.IN_CREATE)), '%qd/');
});

test('--format %T uses --timefmt (strftime)', () => {
  assert.equal(render('%T %f', event('d/', 'f', C.IN_CREATE), '%Y-%m-%d %H:%M:%S'), '2026-01-02 03:04:05 f');
});

test('names are copied as bytes, newline and invalid UTF-8 included', () => {
  const name = Buffer.from([0x61, 0x0a, 0xff]);
  const out = compileFormat('%w%f%0', undefined)(event('d/', name, C.IN_CREATE), at);
  assert.deepEqual(out, Buffer.concat([Buffer.from('d/'), name, Buffer.from([0])]));
});

test('strftime: padding, names, flags and composite conversions in the C locale', () => {
  assert.equal(strftime('%a %A %b %B %d %e %j %H %I %l %p %M %S %y %%', at), 'Fri Friday Jan January 02  2 002 03 03  3 AM 04 05 26 %');
  assert.equal(strftime('%F %T %D %R', at), '2026-01-02 03:04:05 01/02/26 03:04');
  assert.equal(strftime('%-d %_m %^a %5Y %u %w', at), '2  1 FRI 02026 5 5');
  assert.equal(strftime('%s', at), String(Math.floor(at.getTime() / 1000)));
  assert.equal(strftime('%V %G %U %W', new Date(2021, 0, 3)), '53 2020 01 00');
});

test('csv: inotifywait quoting (comma, quote, newline, edge spaces) and the event list always quoted when it has a comma', () => {
  assert.equal(csvLine(event('/w/', 'plain', C.IN_CREATE)).toString(), '/w/,CREATE,plain\n');
  assert.equal(csvLine(event('/w/', 'a,b', C.IN_CLOSE_WRITE)).toString(), '/w/,"CLOSE_WRITE,CLOSE","a,b"\n');
  assert.equal(csvLine(event('/w/', 'say "hi"', C.IN_CREATE)).toString(), '/w/,CREATE,"say ""hi"""\n');
  assert.equal(csvLine(event('/w/', ' lead', C.IN_CREATE)).toString(), '/w/,CREATE," lead"\n');
  assert.equal(csvLine(event('/w/', 'new\nline', C.IN_CREATE)).toString(), '/w/,CREATE,"new\nline"\n');
  assert.equal(csvLine(event('/w/f', '', C.IN_MODIFY)).toString(), '/w/f,MODIFY,\n');
});

test('json: strings for UTF-8, *_b64 with the exact bytes otherwise', () => {
  const good = JSON.parse(jsonLine(event('d/', 'é', C.IN_CREATE | C.IN_ISDIR), at).toString()) as Record<string, unknown>;
  assert.deepEqual({ ...good, time: undefined }, { time: undefined, watch: 'd/', file: 'é', path: 'd/é', events: ['CREATE', 'ISDIR'], cookie: 0 });
  const bad = Buffer.from([0x66, 0xff]);
  const odd = JSON.parse(jsonLine(event('d/', bad, C.IN_DELETE), at).toString()) as Record<string, string>;
  assert.equal(odd.watch, 'd/');
  assert.equal(odd.file, undefined);
  assert.deepEqual(Buffer.from(odd.file_b64 ?? '', 'base64'), bad);
  assert.deepEqual(Buffer.from(odd.path_b64 ?? '', 'base64'), Buffer.concat([Buffer.from('d/'), bad]));
});
