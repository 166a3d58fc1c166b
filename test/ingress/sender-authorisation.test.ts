// Sender authorisation over real sockets: a user granted only acme.test may not put another
// domain in From:, whatever the shape of the message (with or without a body, with the header
// block split across packets), and nothing is stored when it is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, USERS, startHarness, type Harness } from './harness.js';
import type { AuthGrant } from '../../src/ingress/smtp/session.js';

const GRANT: AuthGrant = { allowedDomains: ['acme.test'], anyDomain: false, account: 'default', limits: {} };
let h: Harness;
before(async () => {
  h = await startHarness({}, { authenticate: async (user, password) => USERS.get(user) === password && GRANT });
});
after(async () => { await h.close(); });

async function sendData(data: string | string[]): Promise<string> {
  const c = await Client.ready(h.port('submission'), 'auth');
  assert.match(await c.cmd('MAIL FROM:<app@acme.test>'), /^250 /);
  assert.match(await c.cmd('RCPT TO:<v@example.net>'), /^250 /);
  assert.match(await c.cmd('DATA'), /^354 /);
  for (const part of Array.isArray(data) ? data : [data]) c.write(part);
  const answer = await c.read();
  await c.cmd('QUIT');
  return answer;
}

const REFUSED = '550 5.7.1 From: header domain other.com is not authorised for this user\r\n';

test('a message that is all header (no empty line) gets the same From: check as one with a body', async () => {
  const before = (await h.storedIds()).length;
  assert.equal(await sendData('From: ceo@other.com\r\nTo: v@example.net\r\nSubject: x\r\nX-Trick: 1\r\n.\r\n'), REFUSED);
  assert.equal(await sendData('From: ceo@other.com\r\nTo: v@example.net\r\nSubject: x\r\n\r\nbody\r\n.\r\n'), REFUSED);
  assert.equal((await h.storedIds()).length, before, 'nothing stored');
});

test('header-only message split across writes, and an authorised all-header message is accepted', async () => {
  assert.equal(await sendData(['From: ceo@oth', 'er.com\r\nSubject: split\r\n', '.\r\n']), REFUSED);
  const ok = await sendData('From: app@acme.test\r\nTo: v@example.net\r\nSubject: x\r\n.\r\n');
  const id = /^250 2\.0\.0 Ok: queued as ([0-9A-Z]{20})\r\n$/.exec(ok)?.[1];
  assert.ok(id, ok);
  assert.match(await h.body(id!), /\r\nFrom: app@acme\.test\r\nTo: v@example\.net\r\nSubject: x\r\nMessage-ID: /);
});
