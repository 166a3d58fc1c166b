import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasField } from './trace-fields.js';

test('hasField: the same answers on repeated calls with its expression made once per name', () => {
  const header = 'From: a@b.test\r\nMESSAGE-ID : <x@y>\r\nX-Date: no\r\nSubject: date: no\r\n';
  for (let i = 0; i < 3; i++) {
    assert.equal(hasField(header, 'message-id'), true);
    assert.equal(hasField(header, 'date'), false);
    assert.equal(hasField('Date:\tMon\r\n', 'date'), true);
    assert.equal(hasField('X: y\r\n date: z\r\n', 'date'), false);
  }
});
