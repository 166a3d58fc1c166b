import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { LocalFailure } from './classify.js';
import { DnsLookupError, type MxRecord, type MxResolver } from './resolver.js';
import { orderByPreference, Router } from './route.js';

type Zone = Record<string, { MX?: MxRecord[]; A?: string[]; AAAA?: string[]; fail?: 'temporary' }>;

/** An in-memory MxResolver: unknown names NXDOMAIN, known names without the type NODATA. */
function fakeResolver(zone: Zone): MxResolver {
  const lookup = (name: string, type: 'MX' | 'A' | 'AAAA') => {
    const entry = zone[name];
    if (!entry) return Promise.reject(new DnsLookupError('nxdomain', name, type, 'ENOTFOUND'));
    if (entry.fail) return Promise.reject(new DnsLookupError('temporary', name, type, 'ESERVFAIL'));
    const recs = entry[type];
    if (!recs || recs.length === 0) return Promise.reject(new DnsLookupError('nodata', name, type, 'ENODATA'));
    return Promise.resolve(recs);
  };
  return {
    resolveMx: (d) => lookup(d, 'MX') as Promise<MxRecord[]>,
    resolve4: (h) => lookup(h, 'A') as Promise<string[]>,
    resolve6: (h) => lookup(h, 'AAAA') as Promise<string[]>,
  };
}

const config = (overrides: Record<string, unknown> = {}) => loadConfig({ env: {}, overrides: { 'delivery.port': 2525, ...overrides } });
const router = (zone: Zone, overrides: Record<string, unknown> = {}, random = () => 0) => new Router({ config: config(overrides), resolver: fakeResolver(zone), random });

async function failure(p: Promise<unknown>): Promise<{ kind: string; status: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof LocalFailure, `expected LocalFailure, got ${String(err)}`);
  return { kind: err.kind, status: err.status };
}

describe('Router', () => {
  const zone: Zone = {
    'example.test': { MX: [{ exchange: 'mx2.example.test', priority: 20 }, { exchange: 'MX1.example.test.', priority: 10 }] },
    'mx1.example.test': { A: ['127.0.0.2'], AAAA: ['::1'] },
    'mx2.example.test': { A: ['127.0.0.3'] },
    'implicit.test': { A: ['127.0.0.4'] },
    'null.test': { MX: [{ exchange: '', priority: 0 }] },
    'noaddr.test': { MX: [{ exchange: 'gone.test', priority: 10 }] },
    'halfbroken.test': { MX: [{ exchange: 'sick.test', priority: 10 }, { exchange: 'gone.test', priority: 20 }] },
    'sick.test': { fail: 'temporary' },
    'bare.test': {},
    'servfail.test': { fail: 'temporary' },
  };

  it('orders MX hosts by preference, with both address families', async () => {
    const hosts = await router(zone).route('example.test');
    // MX hosts carry no TLS requirement: the destination's policies decide it (transport-security.ts).
    assert.deepEqual(hosts.map((h) => [h.host, h.addresses, h.port, h.security]), [
      ['mx1.example.test', ['127.0.0.2', '::1'], 2525, null],
      ['mx2.example.test', ['127.0.0.3'], 2525, null],
    ]);
  });

  it('leaves out IPv6 addresses when delivery.ipv6 is false', async () => {
    const hosts = await router(zone, { 'delivery.ipv6': false }).route('example.test');
    assert.deepEqual(hosts[0]!.addresses, ['127.0.0.2']);
  });

  it('uses the domain itself when it has no MX (implicit MX)', async () => {
    const hosts = await router(zone).route('implicit.test');
    assert.deepEqual(hosts.map((h) => [h.host, h.addresses]), [['implicit.test', ['127.0.0.4']]]);
  });

  it('fails permanently for a null MX, a missing domain or a domain without mail server', async () => {
    assert.deepEqual(await failure(router(zone).route('null.test')), { kind: 'permanent', status: '5.1.10' });
    assert.deepEqual(await failure(router(zone).route('nowhere.test')), { kind: 'permanent', status: '5.1.2' });
    assert.deepEqual(await failure(router(zone).route('bare.test')), { kind: 'permanent', status: '5.1.2' });
    assert.deepEqual(await failure(router(zone).route('noaddr.test')), { kind: 'permanent', status: '5.4.4' });
  });

  it('fails temporarily when DNS fails', async () => {
    assert.deepEqual(await failure(router(zone).route('servfail.test')), { kind: 'temporary', status: '4.4.3' });
    assert.deepEqual(await failure(router(zone).route('halfbroken.test')), { kind: 'temporary', status: '4.4.3' });
  });

  it('routes everything to the smarthost in smarthost mode', async () => {
    const r = router(zone, { 'delivery.smarthost': { host: 'mx2.example.test', port: 587, tls: 'required', auth: { user: 'u', pass: 'p' } } });
    const hosts = await r.route('anything.test');
    assert.deepEqual(hosts, [{
      host: 'mx2.example.test', addresses: ['127.0.0.3'], port: 587, auth: { user: 'u', pass: 'p' },
      security: { level: 'verify', source: 'policy', names: ['mx2.example.test'], tlsa: [] },
    }]);
    const byIp = await router(zone, { 'delivery.smarthost': '127.0.0.9:2526' }).route('x.test');
    assert.deepEqual(byIp.map((h) => [h.addresses, h.port, h.security?.level, h.auth]), [[['127.0.0.9'], 2526, 'opportunistic', null]]);
    const implicit = await router(zone, { 'delivery.smarthost': { host: 'mx2.example.test', port: 465, tls: 'implicit' } }).route('x.test');
    assert.deepEqual(implicit[0]!.security, { level: 'verify', source: 'policy', names: ['mx2.example.test'], tlsa: [], implicit: true });
    assert.deepEqual(await failure(router(zone, { 'delivery.smarthost': 'nowhere.test' }).route('x.test')), { kind: 'temporary', status: '4.4.3' });
  });
});

describe('orderByPreference', () => {
  const recs = [
    { exchange: 'c', priority: 20 }, { exchange: 'a', priority: 10 }, { exchange: 'b', priority: 10 }, { exchange: 'd', priority: 5 },
  ];
  it('sorts ascending and shuffles equal preferences with the injected random', () => {
    assert.deepEqual(orderByPreference(recs, () => 0.99).map((r) => r.exchange), ['d', 'a', 'b', 'c']);
    assert.deepEqual(orderByPreference(recs, () => 0).map((r) => r.exchange), ['d', 'b', 'a', 'c']);
  });
});
