import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentBodies } from './recent-bodies.js';

const clockAt = (t: { now: number }) => ({ now: () => t.now });

test('recent bodies: the prefix comes first, as readBody streams it; a dropped entry is gone', () => {
  const t = { now: 0 };
  const recent = new RecentBodies(clockAt(t), 1000, 60_000);
  recent.keep('a', 'X-Sig: 1\r\n', Buffer.from('body a'));
  recent.keep('b', undefined, Buffer.from('body b'));
  assert.deepEqual(recent.chunks('a')?.map(String), ['X-Sig: 1\r\n', 'body a']);
  assert.deepEqual(recent.chunks('b')?.map(String), ['body b']);
  assert.equal(recent.bytes, 10 + 6 + 6);
  recent.drop('a');
  assert.equal(recent.chunks('a'), undefined);
  assert.equal(recent.bytes, 6);
});

test('recent bodies: over the byte budget the oldest go first; a body over a sixteenth of it is not kept', () => {
  const t = { now: 0 };
  const recent = new RecentBodies(clockAt(t), 1600, 60_000);
  for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) recent.keep(id, undefined, Buffer.alloc(100, id));
  assert.equal(recent.bytes, 800);
  for (let i = 0; i < 9; i++) recent.keep(`n${i}`, undefined, Buffer.alloc(100));
  assert.equal(recent.bytes, 1600);
  assert.equal(recent.chunks('a'), undefined);
  assert.deepEqual(recent.chunks('b')?.map(String), ['b'.repeat(100)]);
  recent.keep('big', undefined, Buffer.alloc(101));
  assert.equal(recent.chunks('big'), undefined);
  assert.equal(recent.bytes, 1600);
});

test('recent bodies: an entry past the age limit is not answered, and kept ones push old ones out', () => {
  const t = { now: 1_000 };
  const recent = new RecentBodies(clockAt(t), 1000, 60_000);
  recent.keep('old', undefined, Buffer.from('old'));
  t.now += 59_999;
  assert.deepEqual(recent.chunks('old')?.map(String), ['old']);
  t.now += 1;
  assert.equal(recent.chunks('old'), undefined);
  assert.equal(recent.bytes, 0);
  recent.keep('x', undefined, Buffer.from('x'));
  t.now += 60_000;
  recent.keep('y', undefined, Buffer.from('y'));
  assert.equal(recent.bytes, 1, 'x was dropped when y came');
});

test('recent bodies: keeping an id again replaces its entry without counting it twice', () => {
  const recent = new RecentBodies(clockAt({ now: 0 }), 1000, 60_000);
  recent.keep('a', undefined, Buffer.from('one'));
  recent.keep('a', undefined, Buffer.from('three'));
  assert.deepEqual(recent.chunks('a')?.map(String), ['three']);
  assert.equal(recent.bytes, 5);
});
