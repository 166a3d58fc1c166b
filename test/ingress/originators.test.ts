// Sender authorisation over real sockets: an authenticated user granted only example.com may not
// name another domain in any originator field — From:, Sender:, Resent-From:, Resent-Sender: — and
// gets 550 5.7.1 after the data, nothing stored, the session going on; Reply-To: is not an
// originator and is not restricted; an any-domain user may re-send as anyone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, USERS, startHarness, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({}, {
    authenticate: async (user, password) => USERS.get(user) === password
      && (user === 'alice' ? { allowedDomains: ['example.com'], anyDomain: false } : { allowedDomains: [], anyDomain: true }),
  });
});
after(async () => { await h.close(); });

async function sendAs(c: Client, headers: string): Promise<string> {
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com>'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<bob@dest.example>'), '250 2.1.5 Ok\r\n');
  assert.match(await c.cmd('DATA'), /^354 /);
  c.write(`${headers}Subject: resent\r\n\r\nbody\r\n.\r\n`);
  return c.read();
}

test('a user granted only its own domain: every originator field of another domain is 550 5.7.1', async () => {
  const c = await Client.ready(h.port('submission'), 'auth', 'alice');
  const refused: [string, string][] = [
    ['From: alice@example.com\r\nResent-From: x@other.com\r\n', '550 5.7.1 Resent-From: header domain other.com is not authorised for this user\r\n'],
    ['From: alice@example.com\r\nResent-Sender: x@other.com\r\n', '550 5.7.1 Resent-Sender: header domain other.com is not authorised for this user\r\n'],
    ['From: alice@example.com\r\nSender: x@other.com\r\n', '550 5.7.1 Sender: header domain other.com is not authorised for this user\r\n'],
    ['From: alice@example.com\r\nRESENT-FROM:\r\n Boss <boss@other.com>\r\n', '550 5.7.1 Resent-From: header domain other.com is not authorised for this user\r\n'],
    ['Resent-From: alice@example.com, x@other.com\r\n', '550 5.7.1 Resent-From: header domain other.com is not authorised for this user\r\n'],
    ['From: x@other.com\r\n', '550 5.7.1 From: header domain other.com is not authorised for this user\r\n'],
  ];
  for (const [headers, expected] of refused) assert.equal(await sendAs(c, headers), expected, headers);
  assert.deepEqual(await h.storedIds(), [], 'nothing stored');
  // Own domains (and subdomains) everywhere, and a Reply-To of any domain, are fine.
  const ok = await sendAs(c, 'From: alice@example.com\r\nSender: a@mail.example.com\r\nResent-From: alice@example.com\r\nResent-Sender: b@example.com\r\nReply-To: help@other.com\r\n');
  assert.match(ok, /^250 2\.0\.0 Ok: queued as \w+\r\n$/);
  c.end();
});

test('an any-domain user may re-send as any domain', async () => {
  const c = await Client.ready(h.port('submission'), 'auth', 'bob');
  assert.match(await sendAs(c, 'From: alice@example.com\r\nResent-From: x@other.com\r\n'), /^250 2\.0\.0 Ok: queued as /);
  c.end();
});
