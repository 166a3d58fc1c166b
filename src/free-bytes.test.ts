// freeNow: a buffer's bytes go back at once (the allocator's count falls before any collection).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freeNow } from './free-bytes.js';

test('freeNow: detaches the buffer and frees its bytes before it returns; a shared buffer is refused, untouched', () => {
  const buf = Buffer.allocUnsafeSlow(4 << 20);
  buf.fill(1);
  const view = new Uint8Array(buf.buffer, 10, 20);
  const before = process.memoryUsage().arrayBuffers;
  assert.equal(freeNow(buf.buffer as ArrayBuffer), true);
  assert.equal(buf.byteLength, 0, 'every view is detached');
  assert.equal(view.byteLength, 0);
  assert.ok(process.memoryUsage().arrayBuffers <= before - (4 << 20), 'the 4 MiB are no longer allocated');

  const shared = new Uint8Array(new SharedArrayBuffer(1024));
  shared[0] = 7;
  assert.equal(freeNow(shared.buffer as unknown as ArrayBuffer), false);
  assert.equal(shared[0], 7);
});
