// The dns-packet resolver used for DANE against the test DNS server: the DO bit goes out, the AD
// bit comes back only for names marked secure, TLSA records decode, big answers come over TCP,
// failures surface as rcodes, and a silent server is a timeout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureResolver, type SecureResolver } from '../../src/delivery/secure-resolver.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';

describe('createSecureResolver (dns-packet against the test DNS server)', () => {
  let dns: DnsServer;
  let resolver: SecureResolver;
  const tlsa = (n: number) => ({ usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, n) });

  before(async () => {
    dns = await startDnsServer();
    resolver = createSecureResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 200 });
    dns.set('_25._tcp.mx.signed.test', 'TLSA', [tlsa(1), tlsa(2)]);
    dns.secure('_25._tcp.mx.signed.test');
    dns.set('_25._tcp.mx.unsigned.test', 'TLSA', [tlsa(3)]);
    dns.set('_25._tcp.mx.big.test', 'TLSA', Array.from({ length: 40 }, (_, i) => tlsa(i)));
    dns.secure('_25._tcp.mx.big.test');
    dns.setZone({ 'mx.signed.test': { A: ['127.0.0.2'] } });
    dns.secure('mx.signed.test');
  });
  after(() => dns.close());

  it('returns TLSA records with the AD bit for a secure name, and sends DO', async () => {
    const r = await resolver.query('_25._tcp.mx.signed.test', 'TLSA');
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.authenticated, true);
    assert.deepEqual(r.answers.map((a) => (a.type === 'TLSA' ? a.data.certificate[0] : null)), [1, 2]);
    const q = dns.queries.find((x) => x.name === '_25._tcp.mx.signed.test')!;
    assert.deepEqual([q.type, q.transport, q.dnssecOk], ['TLSA', 'udp', true]);
  });

  it('no AD bit for names not marked secure', async () => {
    const r = await resolver.query('_25._tcp.mx.unsigned.test', 'TLSA');
    assert.deepEqual([r.rcode, r.authenticated, r.answers.length], ['NOERROR', false, 1]);
  });

  it('reports NODATA and NXDOMAIN (with AD where secure) and A records', async () => {
    assert.deepEqual(await resolver.query('mx.signed.test', 'A').then((r) => [r.rcode, r.authenticated, r.answers.length]), ['NOERROR', true, 1]);
    assert.deepEqual(await resolver.query('_25._tcp.mx.nowhere.test', 'TLSA').then((r) => [r.rcode, r.authenticated]), ['NXDOMAIN', false]);
    assert.deepEqual(await resolver.query('mx.signed.test', 'AAAA').then((r) => [r.rcode, r.authenticated, r.answers.length]), ['NOERROR', true, 0]);
  });

  it('retries a truncated answer over TCP', async () => {
    const r = await resolver.query('_25._tcp.mx.big.test', 'TLSA');
    assert.deepEqual([r.authenticated, r.answers.length], [true, 40]);
    assert.ok(dns.queries.some((q) => q.name === '_25._tcp.mx.big.test' && q.transport === 'tcp'));
  });

  it('surfaces SERVFAIL as an rcode, and rejects when the server stays silent', async () => {
    dns.fail('_25._tcp.mx.broken.test', 'servfail');
    assert.equal((await resolver.query('_25._tcp.mx.broken.test', 'TLSA')).rcode, 'SERVFAIL');
    dns.fail('_25._tcp.mx.slow.test', 'timeout');
    await assert.rejects(resolver.query('_25._tcp.mx.slow.test', 'TLSA'), (e: unknown) => (e as { code?: string }).code === 'ETIMEOUT');
  });
});
