// The close after QUIT, over real sockets with a captured logger. A plaintext session whose QUIT
// is answered with nothing left unread closes at once, as Postfix does: the client sees the 221
// and the FIN; its abortive close (SO_LINGER 0, as smtp-source and many libraries close) no
// longer comes back to the relay as an ECONNRESET read error (the relay no longer reads). A client that pipelined more after
// QUIT still has its input drained, so the 221 is not lost to a reset from our side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { Client, startHarness } from './harness.js';

test('QUIT: 221 and FIN, and the relay no longer reads: the socket is closed, not left draining', async () => {
  const h = await startHarness();
  try {
    const c = await Client.connect(h.port('mx'));
    assert.match(await c.read(), /^220 /);
    assert.match(await c.cmd('EHLO client.test'), /^250/);
    const ended = new Promise<void>((resolve) => c.socket.once('end', resolve));
    assert.equal(await c.cmd('QUIT'), '221 2.0.0 Bye\r\n');
    await ended; // the relay's FIN
    // A closed socket answers late bytes with a reset; one still draining (the old close) took them silently.
    const reset = new Promise<string>((resolve) => {
      c.socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      setTimeout(() => resolve('no reset'), 1500).unref();
    });
    c.socket.write('NOOP\r\n');
    setTimeout(() => { if (!c.socket.destroyed) c.socket.write('NOOP\r\n'); }, 100).unref();
    assert.match(await reset, /^(ECONNRESET|EPIPE)$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(h.logs.filter((l) => l.event === 'smtp.socket_error'), []);
    c.end();
  } finally { await h.close(); }
});

test('QUIT with more pipelined behind it: the 221 still arrives whole', async () => {
  const h = await startHarness();
  try {
    const c = await Client.connect(h.port('mx'));
    assert.match(await c.read(), /^220 /);
    c.write('EHLO client.test\r\nQUIT\r\nNOOP\r\nNOOP\r\n');
    const replies = [await c.read(), await c.read()];
    assert.match(replies[0], /^250/);
    assert.equal(replies[1], '221 2.0.0 Bye\r\n');
    assert.ok(await c.isClosedWithin(3000));
    c.end();
  } finally { await h.close(); }
});

test('a closed session leaves no linger timer behind (it held the finished Connection for 2 s)', async () => {
  const h = await startHarness();
  // Timers created from here on, by their duration, until they run or are cleared (unref'd ones too).
  const live = new Map<number, number>();
  const hook = createHook({
    init(id, type, _trigger, resource) { if (type === 'Timeout') live.set(id, (resource as { _idleTimeout: number })._idleTimeout); },
    destroy(id) { live.delete(id); },
  }).enable();
  try {
    for (const pipelined of [false, true]) {
      const c = await Client.connect(h.port('mx'));
      assert.match(await c.read(), /^220 /);
      if (pipelined) { c.write('EHLO client.test\r\nQUIT\r\nNOOP\r\n'); await c.read(); await c.read(); } // the draining close
      else { await c.cmd('EHLO client.test'); await c.cmd('QUIT'); } // the immediate close
      assert.ok(await c.isClosedWithin(3000));
      c.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual([...live.values()].filter((ms) => ms === 2000), []);
  } finally { hook.disable(); await h.close(); }
});
