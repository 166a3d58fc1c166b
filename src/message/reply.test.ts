import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReplies, formatReply, keepWireForm, reply } from './reply.js';

test('a reply whose wire form is kept is written as formatReply writes it, alone and among others', () => {
  const kept = [reply(250, '2.1.5', 'Ok'), reply(220, undefined, 'mx.example ESMTP'), reply(250, undefined, ['mx.example', 'PIPELINING', 'SIZE 10']), reply(221, '2.0.0', 'Bye', true)];
  const fresh = reply(250, '2.0.0', 'Ok: queued as X');
  for (const r of kept) keepWireForm(r);
  for (const r of kept) assert.equal(formatReplies([r]), formatReply(r));
  assert.equal(formatReplies([fresh, ...kept, fresh]), [fresh, ...kept, fresh].map(formatReply).join(''));
});
