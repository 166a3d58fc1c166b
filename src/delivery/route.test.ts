import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { LocalFailure } from './classify.js';
import { DnsLookupError, type MxRecord, type MxResolver } from './resolver.js';
import { MAX_MX_HOSTS, orderByPreference, Router } from './route.js';

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

const config = (overrides: Record<string, unknown> = {}) => loadConfig({ env: {}, overrides: { 'delivery.port': 2525, 'delivery.mxAddresses': 'any', ...overrides } });
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

describe('Router: delivery.mxAddresses (the recipient domain\'s DNS is not trusted)', () => {
  const zone: Zone = {
    'mixed.test': { MX: [{ exchange: 'lo.mixed.test', priority: 10 }, { exchange: 'lan.mixed.test', priority: 20 }, { exchange: 'net.mixed.test', priority: 30 }] },
    'lo.mixed.test': { A: ['127.0.0.1'], AAAA: ['::ffff:127.0.0.1'] },
    'lan.mixed.test': { A: ['10.1.2.3'], AAAA: ['fd00::25'] },
    'net.mixed.test': { A: ['192.0.2.1', '8.8.8.8'], AAAA: ['2606:4700::1111'] },
    'metadata.test': { A: ['169.254.169.254'] },
    'lan.test': { MX: [{ exchange: 'lan.mixed.test', priority: 10 }] },
    'loop.test': { MX: [{ exchange: '127.0.0.1', priority: 10 }, { exchange: 'zero.test', priority: 20 }] },
    'zero.test': { A: ['0.0.0.0'], AAAA: ['::'] },
  };
  const route = (domain: string, mxAddresses: string) => router(zone, { 'delivery.mxAddresses': mxAddresses }).route(domain);

  it('"private" (the default) skips loopback, link-local, unspecified and reserved addresses, keeps private and public ones', async () => {
    assert.equal(loadConfig({ env: {} }).delivery.mxAddresses, 'private');
    const logs: unknown[] = [];
    const hosts = await new Router({ config: config({ 'delivery.mxAddresses': 'private' }), resolver: fakeResolver(zone), logger: { warn: (o: unknown) => logs.push(o) } as never }).route('mixed.test');
    assert.deepEqual(hosts.map((h) => [h.host, h.addresses]), [['lan.mixed.test', ['10.1.2.3', 'fd00::25']], ['net.mixed.test', ['8.8.8.8', '2606:4700::1111']]]);
    assert.deepEqual(logs.map((l) => (l as { address: string }).address), ['127.0.0.1', '::ffff:127.0.0.1', '192.0.2.1']);
    assert.equal((logs[0] as { event: string }).event, 'delivery.address_refused');
  });

  it('"public" also skips private networks', async () => {
    const hosts = await route('mixed.test', 'public');
    assert.deepEqual(hosts.map((h) => [h.host, h.addresses]), [['net.mixed.test', ['8.8.8.8', '2606:4700::1111']]]);
    assert.deepEqual(await failure(route('lan.test', 'public')), { kind: 'permanent', status: '5.4.4' });
  });

  it('a domain whose mail servers all have refused addresses bounces 5.4.4 (implicit MX, IP-literal MX, 0.0.0.0, ::)', async () => {
    assert.deepEqual(await failure(route('metadata.test', 'private')), { kind: 'permanent', status: '5.4.4' });
    assert.deepEqual(await failure(route('loop.test', 'private')), { kind: 'permanent', status: '5.4.4' });
    const err = await route('loop.test', 'private').catch((e: Error) => e);
    assert.match((err as Error).message, /127\.0\.0\.1 → 127\.0\.0\.1, zero\.test → 0\.0\.0\.0, zero\.test → ::; delivery\.mxAddresses: private/);
  });

  it('"any" keeps every address; the smarthost (configured by the operator) is never checked', async () => {
    assert.equal((await route('metadata.test', 'any'))[0]!.addresses[0], '169.254.169.254');
    const hosts = await router(zone, { 'delivery.mxAddresses': 'public', 'delivery.smarthost': '127.0.0.9:2526' }).route('x.test');
    assert.deepEqual(hosts[0]!.addresses, ['127.0.0.9']);
  });

  it(`looks up at most ${MAX_MX_HOSTS} MX hosts of a domain publishing hundreds`, async () => {
    const many: Zone = { 'many.test': { MX: Array.from({ length: 500 }, (_, i) => ({ exchange: `mx${i}.many.test`, priority: i })) } };
    for (let i = 0; i < 500; i++) many[`mx${i}.many.test`] = { A: [`8.8.${i >> 8}.${i & 255}`] };
    let lookups = 0;
    const resolver = fakeResolver(many);
    const counting: MxResolver = { ...resolver, resolve4: (h) => { lookups++; return resolver.resolve4(h); }, resolve6: (h) => { lookups++; return resolver.resolve6(h); } };
    const hosts = await new Router({ config: config(), resolver: counting }).route('many.test');
    assert.equal(hosts.length, MAX_MX_HOSTS);
    assert.equal(hosts[0]!.host, 'mx0.many.test');
    assert.equal(lookups, 2 * MAX_MX_HOSTS);
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
