// Attacker's pass (a hostile message to the MX, no account needed): mail on the MX listener is
// verified at local delivery by mailauth, whose header parser costs the square of the block's
// folding (a 128 KB field folded 32,000 times: 17 s of the relay's one event loop). The MX now
// refuses, before the message is stored, a header block folded over more than 1,000 lines in all
// (one field folded many times, or many fields folded once each) or larger than 100 KiB; mail with
// ordinary folding is still stored. Over real sockets (test/ingress/harness.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, startHarness, type Harness } from '../ingress/harness.js';
import { MAX_MX_FOLDED_LINES, MAX_MX_HEADER_BYTES } from '../../src/ingress/mx-header-limits.js';

let h: Harness;
before(async () => { h = await startHarness({}); });
after(async () => { await h.close(); });

async function sendToMx(header: string): Promise<string> {
  const c = await Client.ready(h.port('mx'), 'plain');
  try {
    assert.equal(await c.cmd('MAIL FROM:<sender@far.example>'), '250 2.1.0 Ok\r\n');
    assert.equal(await c.cmd('RCPT TO:<postmaster@relay.test>'), '250 2.1.5 Ok\r\n');
    assert.equal(await c.cmd('DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
    c.write(`From: sender@far.example\r\n${header}\r\nhello\r\n.\r\n`);
    return await c.read();
  } finally { c.end(); }
}

test('the MX refuses a header folded over too many lines, in one field or in many', async () => {
  const before = (await h.storedIds()).length;
  const oneField = 'Subject: x\r\n' + ' y\r\n'.repeat(MAX_MX_FOLDED_LINES + 1);
  assert.equal(await sendToMx(oneField), '554 5.6.0 Header block folded over too many lines\r\n');
  const manyFields = 'X-A: a\r\n\tb\r\n'.repeat(MAX_MX_FOLDED_LINES + 1);
  assert.equal(await sendToMx(manyFields), '554 5.6.0 Header block folded over too many lines\r\n');
  const large = `X-Pad: ${'p'.repeat(900)}\r\n`.repeat(Math.ceil(MAX_MX_HEADER_BYTES / 900));
  assert.equal(await sendToMx(large), '554 5.6.0 Header block too large\r\n');
  assert.equal((await h.storedIds()).length, before, 'none of them is stored');
});

test('the MX still takes a header with ordinary folding', async () => {
  const received = 'Received: from a.example (a.example [192.0.2.1])\r\n\tby b.example with ESMTPS id 1\r\n\tfor <postmaster@relay.test>; Tue, 1 Jul 2025 12:00:00 +0000\r\n';
  const reply = await sendToMx(received.repeat(50) + 'Subject: a subject\r\n folded once\r\n');
  assert.match(reply, /^250 2\.0\.0 Ok: queued as \w+\r\n$/);
});
