// smtp.relayNetworks over real sockets: clients from those networks submit on submission/alt
// without TLS or AUTH (like Postfix mynetworks); everyone else still needs AUTH; mx is unaffected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { networkMatcher } from '../../src/net/networks.js';
import { Client, startHarness, type Harness } from './harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ 'smtp.alt': { host: '127.0.0.1', port: 0 }, 'smtp.relayNetworks': ['127.0.0.1/32', '2001:db8::/32'] });
});
after(async () => { await h.close(); });

test('networkMatcher: CIDRs and single addresses, IPv4 and IPv6', () => {
  const inNet = networkMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
  assert.deepEqual(['10.1.2.3', '11.0.0.1', '192.0.2.7', '192.0.2.8', '2001:db8:1::1', '2001:db9::1', 'junk'].map(inNet),
    [true, false, true, false, true, false, false]);
  assert.equal(networkMatcher([])('127.0.0.1'), false);
});

test('a client in relayNetworks submits in plaintext without AUTH to any domain', async () => {
  const c = await Client.ready(h.port('alt'), 'plain');
  assert.equal(await c.cmd('MAIL FROM:<app@example.com>'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<someone@far.example>'), '250 2.1.5 Ok\r\n');
  assert.equal(await c.cmd('DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
  c.write('Subject: from the app\r\n\r\nhi\r\n.\r\n');
  const id = /queued as (\w+)/.exec(await c.read())?.[1];
  c.end();
  const m = await h.store.getMessage(id!);
  assert.deepEqual(m?.origin, { listener: 'alt', clientIp: '127.0.0.1', user: null, helo: 'client.test' });
  assert.equal(m?.route, 'relay');
  assert.match(await h.body(id!), /with ESMTP id \w+;\r\n\t.+\r\nSubject: from the app\r\nMessage-ID: <\w+@relay\.test>\r\nDate: .+\r\n\r\nhi\r\n$/);
});

test('a client outside relayNetworks still needs TLS and AUTH; mx is unaffected by relayNetworks', async () => {
  const other = await Client.connect(h.port('alt'), { localAddress: '127.0.0.2' });
  await other.read();
  await other.cmd('EHLO client.test');
  assert.equal(await other.cmd('MAIL FROM:<app@example.com>'), '530 5.7.0 Must issue a STARTTLS command first\r\n');
  other.end();
  const mx = await Client.ready(h.port('mx'), 'plain');
  await mx.cmd('MAIL FROM:<app@example.com>');
  assert.equal(await mx.cmd('RCPT TO:<someone@far.example>'), '550 5.7.1 Relaying denied\r\n');
  mx.end();
});
