import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeStreamField } from './stream-field.js';

const take = (s: string) => {
  const r = takeStreamField(Buffer.from(s, 'latin1'));
  return { header: r.header.toString('latin1'), stream: r.stream, invalid: r.invalid };
};

test('the field is removed (folded lines too) and its value read, case-insensitively', () => {
  assert.deepEqual(take('From: a@x\r\nX-Postlane-Stream: Broadcast\r\nSubject: s\r\n'), { header: 'From: a@x\r\nSubject: s\r\n', stream: 'broadcast', invalid: null });
  assert.deepEqual(take('x-postlane-stream:\r\n transactional\r\nSubject: s\r\n'), { header: 'Subject: s\r\n', stream: 'transactional', invalid: null });
  assert.deepEqual(take('Subject: s\r\nX-Postlane-Stream: marketing\r\n'), { header: 'Subject: s\r\n', stream: null, invalid: 'marketing' });
  assert.deepEqual(take('Subject: about X-Postlane-Stream: broadcast\r\n'), { header: 'Subject: about X-Postlane-Stream: broadcast\r\n', stream: null, invalid: null });
  const same = Buffer.from('Subject: s\r\n');
  assert.equal(takeStreamField(same).header, same, 'untouched when absent (no copy)');
});
