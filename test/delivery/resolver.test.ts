// The node:dns resolver against the test DNS server: records over UDP and TCP, and the mapping
// of NXDOMAIN / NODATA / SERVFAIL / timeout / REFUSED onto delivery meanings.
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver, DnsLookupError, formatServer, type MxResolver } from '../../src/delivery/resolver.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';

describe('createResolver (node:dns against the test DNS server)', () => {
  let dns: DnsServer;
  let resolver: MxResolver;

  before(async () => {
    dns = await startDnsServer();
    resolver = createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 150 });
    dns.setZone({
      'example.test': { MX: [{ exchange: 'mx1.example.test', priority: 10 }, { exchange: 'mx2.example.test', priority: 20 }], TXT: ['v=spf1 -all', ['part1', 'part2']] },
      'mx1.example.test': { A: ['127.0.0.2', '127.0.0.3'], AAAA: ['::1'] },
      'null.test': { MX: [{ exchange: '.', priority: 0 }] },
      'big.test': { A: Array.from({ length: 60 }, (_, i) => `127.0.1.${i + 1}`) },
    });
  });
  after(() => dns.close());

  const failureOf = async (p: Promise<unknown>) => {
    const err = await p.then(() => null, (e: unknown) => e);
    assert.ok(err instanceof DnsLookupError, `expected DnsLookupError, got ${String(err)}`);
    return { failure: err.failure, code: err.errorCode };
  };

  it('answers MX, A and AAAA records', async () => {
    const mx = await resolver.resolveMx('example.test');
    assert.deepEqual(mx.sort((a, b) => a.priority - b.priority), [{ exchange: 'mx1.example.test', priority: 10 }, { exchange: 'mx2.example.test', priority: 20 }]);
    assert.deepEqual((await resolver.resolve4('MX1.example.test')).sort(), ['127.0.0.2', '127.0.0.3']);
    assert.deepEqual(await resolver.resolve6('mx1.example.test'), ['::1']);
  });

  it('returns a null MX as an empty exchange', async () => {
    assert.deepEqual(await resolver.resolveMx('null.test'), [{ exchange: '', priority: 0 }]);
  });

  it('falls back to TCP for answers too large for UDP', async () => {
    const before = dns.queries.filter((q) => q.transport === 'tcp').length;
    assert.equal((await resolver.resolve4('big.test')).length, 60);
    assert.ok(dns.queries.filter((q) => q.transport === 'tcp').length > before);
  });

  it('maps NXDOMAIN to nxdomain and an existing name without the type to nodata', async () => {
    assert.deepEqual(await failureOf(resolver.resolveMx('nowhere.test')), { failure: 'nxdomain', code: 'ENOTFOUND' });
    assert.deepEqual(await failureOf(resolver.resolveMx('mx1.example.test')), { failure: 'nodata', code: 'ENODATA' });
    assert.deepEqual(await failureOf(resolver.resolve6('mx2.example.test')), { failure: 'nxdomain', code: 'ENOTFOUND' });
  });

  it('maps SERVFAIL, REFUSED and timeouts to temporary', async () => {
    dns.fail('sf.test', 'servfail');
    dns.fail('ref.test', 'refused');
    dns.fail('slow.test', 'timeout');
    assert.deepEqual(await failureOf(resolver.resolveMx('sf.test')), { failure: 'temporary', code: 'ESERVFAIL' });
    assert.equal((await failureOf(resolver.resolveMx('ref.test'))).failure, 'temporary');
    assert.deepEqual(await failureOf(resolver.resolveMx('slow.test')), { failure: 'temporary', code: 'ETIMEOUT' });
  });

  it('serves TXT records (for DKIM/SPF tests), chunks of one record kept apart', async () => {
    const r = new Resolver();
    r.setServers([formatServer(dns)]);
    const txt = (await r.resolveTxt('example.test')).map((chunks) => chunks.join('|')).sort();
    assert.deepEqual(txt, ['part1|part2', 'v=spf1 -all']);
  });

  it('formats servers for setServers', () => {
    assert.equal(formatServer({ host: '127.0.0.1', port: 5353 }), '127.0.0.1:5353');
    assert.equal(formatServer({ host: '::1', port: 53 }), '[::1]:53');
  });
});
