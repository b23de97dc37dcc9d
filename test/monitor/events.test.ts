import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants as C } from '../../src/inotify/binding.js';
import { eventNames, parseEventList, parseSortEvent } from '../../src/monitor/events.js';

test('a mask prints its names in inotifywait order: CLOSE after CLOSE_WRITE, ISDIR last', () => {
  assert.equal(eventNames(C.IN_CLOSE_WRITE), 'CLOSE_WRITE,CLOSE');
  assert.equal(eventNames(C.IN_CREATE | C.IN_ISDIR), 'CREATE,ISDIR');
  assert.equal(eventNames(C.IN_CLOSE_NOWRITE | C.IN_ISDIR), 'CLOSE_NOWRITE,CLOSE,ISDIR');
  assert.equal(eventNames(C.IN_MOVED_TO | C.IN_MODIFY, ':'), 'MODIFY:MOVED_TO');
});

test('a mask with no known bit prints as 0x%08x', () => {
  assert.equal(eventNames(0), '0x00000000');
});

test('-e takes comma lists, any case, and the group names close, move and all_events', () => {
  assert.equal(parseEventList('modify,CREATE'), C.IN_MODIFY | C.IN_CREATE);
  assert.equal(parseEventList('close'), C.IN_CLOSE_WRITE | C.IN_CLOSE_NOWRITE);
  assert.equal(parseEventList('move'), C.IN_MOVED_FROM | C.IN_MOVED_TO);
  assert.equal(parseEventList('all_events'), C.IN_ALL_EVENTS);
});

test('-e with an empty element means every event, as in inotifywait', () => {
  assert.equal(parseEventList(''), 0);
  assert.equal(parseEventList('modify,'), 0);
  assert.equal(parseEventList('modify,,create'), 0);
});

test('-e with an unknown name is refused with inotifywait\'s message', () => {
  assert.throws(() => parseEventList('modify,bogus'), /'modify,bogus' is not a valid event!  Run with the '--help' option/);
});

test('inotifywatch sorting keys: total, single events, never move or close', () => {
  assert.equal(parseSortEvent('total'), 0);
  assert.equal(parseSortEvent('MODIFY'), C.IN_MODIFY);
  assert.throws(() => parseSortEvent('move'), /Cannot sort by `move'/);
  assert.throws(() => parseSortEvent('close'), /Cannot sort by `close'/);
  assert.throws(() => parseSortEvent('nope'), /'nope' is not a valid key for sorting!/);
});
