// Failures of our own dependencies, seen from a client: the AUTH check or the queue failing gives
// a temporary reply (never 250, never a crash), nothing half-written stays behind, and the
// session goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, b64, eventually, startHarness } from './harness.js';

test('the AUTH check failing: 454 4.7.0, the session goes on', async () => {
  const h = await startHarness({}, { authenticate: async () => { throw new Error('user database unavailable'); } });
  try {
    const c = await Client.ready(h.port('submission'), 'starttls');
    assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '454 4.7.0 Temporary authentication failure\r\n');
    assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
    c.end();
    assert.ok(h.logs.some((l) => l.event === 'smtp.auth_error'));
  } finally {
    await h.close();
  }
});

test('the queue failing: 451 4.3.0, no body left in the spool, the session goes on', async () => {
  const h = await startHarness();
  try {
    const c = await Client.ready(h.port('mx'), 'plain');
    await c.cmd('MAIL FROM:<a@far.example>');
    await c.cmd('RCPT TO:<postmaster@relay.test>');
    await c.cmd('DATA');
    await h.store.close(); // every put() now fails
    c.write('Subject: lost\r\n\r\nbody\r\n.\r\n');
    assert.equal(await c.read(), '451 4.3.0 Temporary local problem, try again later\r\n');
    assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
    c.end();
    const spool = path.join(h.config.dataDir, 'spool');
    await eventually(async () => (await fs.readdir(spool)).length === 0);
    assert.ok(h.logs.some((l) => l.event === 'smtp.queue_failed'));
  } finally {
    await h.close();
  }
});
