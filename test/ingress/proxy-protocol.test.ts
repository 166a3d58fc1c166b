// PROXY protocol on the SMTP listeners over real sockets: a trusted load balancer on 127.0.0.1
// names the client, and that address is the one in the Received header, the stored origin, the
// logs, the per-IP connection limit, relayNetworks and the AUTH limiter. Untrusted sources cannot
// spoof; a malformed or missing header closes the connection without a reply.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type tls from 'node:tls';
import { Client, b64, eventually, startHarness, type Harness } from './harness.js';
import { proxyV1, proxyV2 } from '../helpers/proxy-header.js';

const NOW = Date.UTC(2025, 6, 1, 12, 3, 4);
const TRUSTED = { trusted: ['127.0.0.1'] };
const on = (proxyProtocol: unknown) => ({ host: '127.0.0.1', port: 0, proxyProtocol });

let h: Harness;
before(async () => {
  h = await startHarness({
    'smtp.submission': on(TRUSTED), 'smtp.submissions': on(TRUSTED), 'smtp.alt': on(TRUSTED),
    'smtp.mx': on({ ...TRUSTED, required: false }),
    // the load balancer's own address is in relayNetworks: the client it names must not inherit that
    'smtp.relayNetworks': ['127.0.0.0/8', '198.51.100.0/24'],
    'smtp.maxConnectionsPerIp': 2,
    'smtp.commandTimeout': '3s',
    'smtp.auth': { maxFailures: 1, failureDelay: '10ms', failureWindow: '1h', lockout: '1h' },
  }, { clock: { now: () => NOW } });
});
after(async () => { await h.close(); });

const queuedId = (reply: string) => /^250 2\.0\.0 Ok: queued as ([0-9A-Z]{20})\r\n$/.exec(reply)?.[1];
const logsOf = (event: string) => h.logs.filter((l) => l.event === event);

/** MAIL, RCPT, DATA with a tiny message; returns the queue id. */
async function submit(c: Client, rcpt = 'bob@dest.example'): Promise<string> {
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com>'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd(`RCPT TO:<${rcpt}>`), '250 2.1.5 Ok\r\n');
  assert.equal(await c.cmd('DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
  c.write('Subject: via the balancer\r\n\r\nhi\r\n.\r\n');
  const id = queuedId(await c.read());
  assert.ok(id, 'queued');
  return id!;
}

test('v1 from the trusted balancer: Received, stored origin and logs carry the client it names', async () => {
  // the header and the first SMTP command arrive in one chunk: the command waits for the greeting
  const c = await Client.connect(h.port('submission'), { preface: proxyV1('203.0.113.7', 40001, '127.0.0.1', 587) + 'EHLO client.test\r\n' });
  assert.equal(await c.read(), '220 relay.test Postlane ESMTP\r\n');
  assert.match(await c.read(), /^250-relay\.test\r\n[\s\S]*250 STARTTLS\r\n$/);
  await c.startTls();
  assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '235 2.7.0 Authentication successful\r\n');
  const id = await submit(c);
  const sock = c.socket as tls.TLSSocket;
  const using = `(using ${sock.getProtocol()} with cipher ${sock.getCipher().name})`;
  c.end();

  assert.ok((await h.body(id)).startsWith('Received: from client.test ([203.0.113.7])\r\n' +
    `\tby relay.test (Postlane) with ESMTPSA id ${id}\r\n\t${using};\r\n`));
  assert.deepEqual((await h.store.getMessage(id))?.origin, { listener: 'submission', clientIp: '203.0.113.7', user: 'alice', helo: 'client.test' });
  assert.ok(logsOf('smtp.connected').some((l) => l.ip === '203.0.113.7' && l.proxy === '127.0.0.1' && l.proxyVersion === 1 && l.listener === 'submission'));
  assert.ok(logsOf('smtp.authenticated').some((l) => l.ip === '203.0.113.7'));
  assert.equal(logsOf('smtp.accepted').find((l) => l.id === id)?.ip, '203.0.113.7');
});

test('v2 before the TLS handshake on the implicit-TLS listener, IPv6 client, with TLVs', async () => {
  const header = proxyV2({ source: { address: '2001:db8::7', port: 50000 }, destination: { address: '2001:db8::25', port: 465 }, tlvs: [[0x01, Buffer.from('smtp')], [0x04, Buffer.alloc(4)]] });
  const c = await Client.connect(h.port('submissions'), { tls: true, preface: header });
  assert.equal(await c.read(), '220 relay.test Postlane ESMTP\r\n');
  await c.cmd('EHLO client.test');
  assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '235 2.7.0 Authentication successful\r\n');
  const id = await submit(c);
  c.end();
  assert.match(await h.body(id), /^Received: from client\.test \(\[IPv6:2001:db8::7\]\)\r\n\tby relay\.test \(Postlane\) with ESMTPSA id /);
  assert.equal((await h.store.getMessage(id))?.origin.clientIp, '2001:db8::7');
  assert.ok(logsOf('smtp.connected').some((l) => l.ip === '2001:db8::7' && l.listener === 'submissions' && l.proxyVersion === 2));
});

test('v2 LOCAL (a health check) keeps the balancer\'s own address', async () => {
  const c = await Client.connect(h.port('mx'), { preface: proxyV2({ command: 'LOCAL', famProto: 0 }) });
  assert.equal(await c.read(), '220 relay.test Postlane ESMTP\r\n');
  assert.match(await c.cmd('QUIT'), /^221 /);
  await eventually(() => logsOf('smtp.connected').some((l) => l.listener === 'mx' && l.ip === '127.0.0.1' && l.proxyVersion === 2));
});

test('the per-IP connection limit counts the client the header names, not the balancer', async () => {
  const open: Client[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      open.push(await Client.connect(h.port('mx'), { preface: proxyV1('198.51.100.1', 1000 + i) }));
      assert.match(await open[i]!.read(), /^220 /);
    }
    const third = await Client.connect(h.port('mx'), { preface: proxyV1('198.51.100.1', 1002) });
    assert.equal(await third.read(), '421 4.7.0 Too many connections, try again later\r\n');
    assert.equal(await third.isClosedWithin(), true);
    assert.ok(logsOf('smtp.rejected').some((l) => l.ip === '198.51.100.1' && l.reason === 'connection limit'));
    const other = await Client.connect(h.port('mx'), { preface: proxyV2({ source: { address: '198.51.100.2', port: 1003 } }) });
    open.push(other);
    assert.match(await other.read(), /^220 /, 'another client behind the same balancer still gets in');
  } finally {
    for (const c of open) c.end();
  }
});

test('the per-IP connection limit counts an IPv6 client per /64 (thirty-first session), an IPv4-mapped one as IPv4', async () => {
  const open: Client[] = [];
  try {
    // Two addresses of one /64 fill its two slots; a third address of it is refused.
    for (const [i, address] of ['2001:db8:7:1::1', '2001:db8:7:1:ffff::2'].entries()) {
      open.push(await Client.connect(h.port('mx'), { preface: proxyV2({ source: { address, port: 2000 + i } }) }));
      assert.match(await open.at(-1)!.read(), /^220 /);
    }
    const third = await Client.connect(h.port('mx'), { preface: proxyV2({ source: { address: '2001:db8:7:1:aaaa:bbbb:cccc:dddd', port: 2002 } }) });
    assert.equal(await third.read(), '421 4.7.0 Too many connections, try again later\r\n');
    assert.equal(await third.isClosedWithin(), true);
    assert.ok(logsOf('smtp.rejected').some((l) => l.ip === '2001:db8:7:1:aaaa:bbbb:cccc:dddd' && l.reason === 'connection limit'));
    const nextPrefix = await Client.connect(h.port('mx'), { preface: proxyV2({ source: { address: '2001:db8:7:2::1', port: 2003 } }) });
    open.push(nextPrefix);
    assert.match(await nextPrefix.read(), /^220 /, 'the next /64 is another client');
    // The header's v1 form with an IPv4-mapped client: one client with its plain IPv4 address.
    open.push(await Client.connect(h.port('mx'), { preface: proxyV1('198.51.100.9', 2004) }));
    assert.match(await open.at(-1)!.read(), /^220 /);
    open.push(await Client.connect(h.port('mx'), { preface: proxyV1('::ffff:198.51.100.9', 2005, '::1') }));
    assert.match(await open.at(-1)!.read(), /^220 /);
    const mapped = await Client.connect(h.port('mx'), { preface: proxyV1('198.51.100.9', 2006) });
    assert.equal(await mapped.read(), '421 4.7.0 Too many connections, try again later\r\n');
    mapped.end();
  } finally {
    for (const c of open) c.end();
  }
});

test('relayNetworks applies to the client named, never to the balancer\'s own address', async () => {
  const inside = await Client.connect(h.port('alt'), { preface: proxyV1('198.51.100.9', 1) });
  await inside.read();
  await inside.cmd('EHLO client.test');
  const id = await submit(inside, 'someone@far.example'); // no TLS, no AUTH: 198.51.100.0/24 is a relay network
  inside.end();
  assert.deepEqual((await h.store.getMessage(id))?.origin, { listener: 'alt', clientIp: '198.51.100.9', user: null, helo: 'client.test' });

  const outside = await Client.connect(h.port('alt'), { preface: proxyV1('203.0.113.8', 2) });
  await outside.read();
  await outside.cmd('EHLO client.test');
  assert.equal(await outside.cmd('MAIL FROM:<alice@example.com>'), '530 5.7.0 Must issue a STARTTLS command first\r\n',
    'the balancer (127.0.0.1) is in relayNetworks, the client behind it is not');
  outside.end();
});

test('the AUTH limiter locks out the client named, not everyone behind the balancer', async () => {
  const attacker = await Client.connect(h.port('submissions'), { tls: true, preface: proxyV1('203.0.113.66', 3) });
  await attacker.read();
  await attacker.cmd('EHLO client.test');
  assert.equal(await attacker.cmd(`AUTH PLAIN ${b64('\0alice\0guess')}`), '535 5.7.8 Authentication credentials invalid\r\n');
  attacker.end();
  const again = await Client.connect(h.port('submissions'), { tls: true, preface: proxyV1('203.0.113.66', 4) });
  await again.read();
  await again.cmd('EHLO client.test');
  assert.equal(await again.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '421 4.7.0 Too many failed authentications, try again later\r\n');
  const honest = await Client.connect(h.port('submissions'), { tls: true, preface: proxyV1('203.0.113.67', 5) });
  await honest.read();
  await honest.cmd('EHLO client.test');
  assert.equal(await honest.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '235 2.7.0 Authentication successful\r\n');
  honest.end();
  assert.ok(logsOf('smtp.auth_locked').some((l) => l.ip === '203.0.113.66'));
});

test('an untrusted source cannot spoof: refused where required, a plain client (PROXY is a bad command) where not', async () => {
  const refused = await Client.connect(h.port('submission'), { localAddress: '127.0.0.5', preface: proxyV1('203.0.113.7', 6) });
  assert.equal(await refused.isClosedWithin(), true);
  assert.equal(refused.unread, '', 'closed without a reply');
  await eventually(() => logsOf('smtp.proxy_refused').some((l) => l.peer === '127.0.0.5' && l.listener === 'submission'));

  const direct = await Client.connect(h.port('mx'), { localAddress: '127.0.0.5', preface: proxyV1('203.0.113.7', 7) });
  assert.equal(await direct.read(), '220 relay.test Postlane ESMTP\r\n');
  assert.equal(await direct.read(), '500 Command unrecognized\r\n', 'the PROXY line is just an unknown command');
  await direct.cmd('EHLO client.test');
  const id = await submit(direct, 'postmaster@relay.test');
  direct.end();
  assert.match(await h.body(id), /^Received: from client\.test \(\[127\.0\.0\.5\]\)/);
  assert.equal((await h.store.getMessage(id))?.origin.clientIp, '127.0.0.5');
});

test('malformed, oversized or missing headers from the balancer: closed without a reply, logged', async () => {
  const bad: [string, string | Buffer][] = [
    ['SMTP instead of a header', 'EHLO client.test\r\n'],
    ['v1 with a bad address', 'PROXY TCP4 203.0.113.999 127.0.0.1 1 25\r\n'],
    ['v1 without CRLF in 107 bytes', 'PROXY UNKNOWN ' + 'x'.repeat(120)],
    ['v2 version 1', Buffer.concat([proxyV2().subarray(0, 12), Buffer.from([0x11]), proxyV2().subarray(13)])],
  ];
  for (const [name, preface] of bad) {
    const c = await Client.connect(h.port('mx'), { preface });
    assert.equal(await c.isClosedWithin(), true, name);
    assert.equal(c.unread, '', `${name}: no reply`);
  }
  const silent = await Client.connect(h.port('submission'));
  assert.equal(await silent.isClosedWithin(6000), true, 'no header within the deadline');
  assert.equal(silent.unread, '', 'not even a greeting');
  const reasons = logsOf('smtp.proxy_refused').filter((l) => l.peer === '127.0.0.1').map((l) => String(l.reason));
  for (const re of [/not a PROXY protocol header/, /v1 header: bad TCP4 address/, /longer than 107 bytes/, /v2 header: version 1/, /no complete PROXY header within 3000 ms/]) {
    assert.ok(reasons.some((r) => re.test(r)), `${re} in ${JSON.stringify(reasons)}`);
  }
});
