// Attack (twenty-ninth session, a hostile recipient domain): the recipient domain's DNS is chosen
// by whoever picks the recipient, so an MX (or the implicit-MX A/AAAA fallback, or the MTA-STS
// policy host) pointing at 127.0.0.1, 169.254.169.254 or ::ffff:127.0.0.1 made the relay connect
// there: an SMTP session into a local MTA that relays for localhost (Postfix mynetworks), or the
// cloud metadata address. Now delivery.mxAddresses ('private' by default) skips such addresses
// like absent hosts: nothing connects, the recipient bounces 5.4.4 naming the setting, and the
// refusal is logged (delivery.address_refused). 'any' (what the tests' relays set) restores it,
// and the smarthost, configured by the operator, is never checked.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHttpsPolicyFetcher } from '../../src/delivery/mta-sts-fetch.js';
import { mxAddressAllowed } from '../../src/delivery/route.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { createFixture, enqueue, waitForStates, type Fixture } from '../delivery/fixture.js';
import { createResolver } from '../../src/delivery/resolver.js';

const HOST = '127.0.72.2';

describe('attack: a recipient domain whose MX points at this host or cloud metadata', () => {
  let dns: DnsServer;
  let mx: Receiver; // a local MTA on loopback, which would take anything
  let f: Fixture | undefined;

  before(async () => {
    dns = await startDnsServer({ host: '127.0.72.1' });
    mx = await startReceiver({ host: HOST });
    dns.setZone({
      'loop.test': { MX: [{ exchange: 'mx.loop.test', priority: 10 }] },
      'mx.loop.test': { A: [HOST] },
      'metadata.test': { A: ['169.254.169.254'] }, // no MX: the implicit MX is the domain's own A
      'mapped.test': { MX: [{ exchange: 'v6.mapped.test', priority: 10 }] },
      'v6.mapped.test': { AAAA: [`::ffff:${HOST}`] },
      'literal.test': { MX: [{ exchange: HOST, priority: 10 }] }, // an IP literal as MX name
    });
  });
  after(async () => { await Promise.all([mx.close(), dns.close()]); });
  afterEach(async () => { await f?.close(); f = undefined; mx.messages.length = 0; });

  it('by default nothing connects to loopback, link-local or IPv4-mapped loopback; each recipient bounces 5.4.4', async () => {
    f = await createFixture({ port: mx.port, dns, overrides: { 'delivery.mxAddresses': 'private' } });
    f.scheduler.start();
    const id = await enqueue(f, { from: '', to: ['a@loop.test', 'b@metadata.test', 'c@mapped.test', 'd@literal.test'] });
    const m = await waitForStates(f, id, ['bounced']);
    for (const r of m.recipients) assert.match(r.lastResponse ?? '', /^5\.4\.4 .*no address this relay may deliver to.*delivery\.mxAddresses: private/, r.address);
    assert.equal(mx.sessions, 0, 'no session was opened on the loopback MTA');
    const refused = f.logs.filter((l) => l.event === 'delivery.address_refused').map((l) => `${String(l.host)} ${String(l.address)} ${String(l.scope)}`);
    assert.deepEqual([...new Set(refused)].sort(), [`${HOST} ${HOST} special`, 'metadata.test 169.254.169.254 special', `mx.loop.test ${HOST} special`, `v6.mapped.test ::ffff:${HOST} special`]);
  });

  it('delivery.mxAddresses: any (a relay whose MX is on this host; the tests) delivers there', async () => {
    f = await createFixture({ port: mx.port, dns, overrides: { 'delivery.mxAddresses': 'any' } });
    f.scheduler.start();
    const id = await enqueue(f, { from: '', to: ['a@loop.test'] });
    await waitForStates(f, id, ['delivered']);
    assert.equal(mx.messages.length, 1);
  });

  it('the smarthost, configured by the operator, is not checked', async () => {
    f = await createFixture({ port: mx.port, dns, overrides: { 'delivery.mxAddresses': 'public', 'delivery.smarthost': `${HOST}:${mx.port}` } });
    f.scheduler.start();
    const id = await enqueue(f, { from: '', to: ['a@metadata.test'] });
    await waitForStates(f, id, ['delivered']);
    assert.equal(mx.messages.length, 1);
  });

  it('the MTA-STS policy host (mta-sts.<domain>) is not fetched from a refused address', async () => {
    let connections = 0;
    const https = net.createServer((s) => { connections++; s.destroy(); });
    await new Promise<void>((resolve) => https.listen(0, HOST, resolve));
    try {
      dns.set('mta-sts.loop.test', 'A', [HOST]);
      const port = (https.address() as net.AddressInfo).port;
      const resolver = createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 1000 });
      const guarded = createHttpsPolicyFetcher({ resolver, port, timeoutMs: 2000, allow: (a) => mxAddressAllowed('private', a) });
      await assert.rejects(guarded('loop.test'), /policy fetch failed: mta-sts\.loop\.test has no address delivery\.mxAddresses allows \(127\.0\.72\.2\)/);
      assert.equal(connections, 0);
      const open = createHttpsPolicyFetcher({ resolver, port, timeoutMs: 2000, allow: (a) => mxAddressAllowed('any', a) });
      await assert.rejects(open('loop.test'), /policy fetch failed/);
      assert.equal(connections, 1, '"any" connects (and the TLS handshake then fails here)');
    } finally {
      await new Promise((resolve) => https.close(resolve));
    }
  });
});
