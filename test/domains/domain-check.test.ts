// checkRecords through createResolver against the test DNS server: every record correct, then
// missing, then wrong, then a failing lookup. CNAME records (bounce, MTA-STS host) are checked
// with an in-memory resolver here; against the test DNS server (which serves CNAMEs) in domains-cli.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { createResolver } from '../../src/delivery/resolver.js';
import { checkRecords, hasProblems, type RecordCheck, type RecordResolver } from '../../src/domains/domain-check.js';
import { expectedRecords } from '../../src/domains/dns-records.js';
import type { DkimKey } from '../../src/store/store.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';

const D = 'example.test';
const RSA_P = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' + 'x'.repeat(300);
const ED_P = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
const keys: DkimKey[] = [
  { selector: 's1-rsa', algorithm: 'rsa', privateKey: '', publicKey: RSA_P, createdAt: 0, state: 'active' },
  { selector: 's1-ed25519', algorithm: 'ed25519', privateKey: '', publicKey: ED_P, createdAt: 0, state: 'active' },
];
const domains = configSchema.parse({ domains: { spf: 'ip4:192.0.2.10', tlsRpt: true, mtaSts: { policyHost: 'sts.relay.test' } } }).domains;
const records = expectedRecords(D, keys, Date.UTC(2025, 0, 2), { hostname: 'relay.test', domains });

const chunked = (v: string) => [v.slice(0, 255), v.slice(255)].filter(Boolean);
const summary = (checks: RecordCheck[]) => checks.map((c) => `${c.record.type} ${c.record.name}: ${c.status}`);

describe('checkRecords against the test DNS server', () => {
  let dns: DnsServer;
  let resolver: RecordResolver;
  const txtOnly = () => checkRecords(records.filter((r) => r.type === 'TXT'), resolver);

  before(async () => {
    dns = await startDnsServer();
    resolver = createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 300 });
  });
  after(() => dns.close());

  it('all records published correctly: ok (DMARC p=none gets a note)', async () => {
    dns.setZone({
      [`s1-rsa._domainkey.${D}`]: { TXT: [chunked(`v=DKIM1; k=rsa; p=${RSA_P}`)] },
      [`s1-ed25519._domainkey.${D}`]: { TXT: [`v=DKIM1;k=ed25519;p=${ED_P.slice(0, 20)} ${ED_P.slice(20)}`] },
      [D]: { TXT: ['google-site-verification=abc', 'v=spf1 mx +ip4:192.0.2.10 include:_spf.google.com -all'], MX: [{ exchange: 'mx.example.test', priority: 10 }] },
      [`_dmarc.${D}`]: { TXT: ['v=DMARC1; p=none; rua=mailto:d@example.test'] },
      [`_mta-sts.${D}`]: { TXT: ['v=STSv1; id=20240101T000000'] },
      [`_smtp._tls.${D}`]: { TXT: ['v=TLSRPTv1; rua=mailto:tls@example.test'] },
    });
    const checks = await txtOnly();
    assert.deepEqual(checks.map((c) => c.status), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'], summary(checks).join('\n'));
    assert.deepEqual(checks[2]!.found, ['v=spf1 mx +ip4:192.0.2.10 include:_spf.google.com -all'], 'only the SPF record is reported');
    assert.match(checks[3]!.detail!, /p=none/);
    assert.equal(hasProblems(checks), false);
  });

  it('nothing published: each record missing, the fix is the record to publish', async () => {
    dns.setZone({ [D]: { MX: [{ exchange: 'mx.example.test', priority: 10 }] } }); // names exist or not: NODATA and NXDOMAIN
    for (const name of [`s1-rsa._domainkey.${D}`, `s1-ed25519._domainkey.${D}`, `_dmarc.${D}`, `_mta-sts.${D}`, `_smtp._tls.${D}`]) dns.setZone({ [name]: {} });
    dns.setZone({ [`_dmarc.${D}`]: { MX: [] } });
    const checks = await txtOnly();
    assert.deepEqual(checks.map((c) => c.status), ['missing', 'missing', 'missing', 'missing', 'missing', 'missing'], summary(checks).join('\n'));
    assert.equal(checks[0]!.fix, `publish TXT s1-rsa._domainkey.${D} "v=DKIM1; k=rsa; p=${RSA_P}"`);
    assert.equal(checks[2]!.fix, `publish TXT ${D} "v=spf1 ip4:192.0.2.10 ~all"`);
    assert.equal(hasProblems(checks), true);
    assert.equal(hasProblems(checks.filter((c) => !c.record.required)), false, 'optional records never fail the check');
  });

  it('wrong records: another key, SPF without our mechanism, two DMARC records, records without their tags', async () => {
    dns.setZone({
      [`s1-rsa._domainkey.${D}`]: { TXT: [chunked(`v=DKIM1; k=rsa; p=${RSA_P.replace('x', 'y')}`)] },
      [`s1-ed25519._domainkey.${D}`]: { TXT: [`v=DKIM1; k=rsa; p=${ED_P}`] },
      [D]: { TXT: ['v=spf1 include:_spf.google.com ~all'] },
      [`_dmarc.${D}`]: { TXT: ['v=DMARC1; p=none', 'v=DMARC1; p=reject'] },
      [`_mta-sts.${D}`]: { TXT: ['v=STSv1;'] },
      [`_smtp._tls.${D}`]: { TXT: ['v=TLSRPTv1; rua=mailto:a@x.test', 'v=TLSRPTv1; rua=mailto:b@x.test'] },
    });
    const checks = await txtOnly();
    assert.deepEqual(checks.map((c) => c.status), ['wrong', 'wrong', 'wrong', 'wrong', 'wrong', 'wrong'], summary(checks).join('\n'));
    assert.match(checks[0]!.fix!, /^replace the TXT record at s1-rsa\._domainkey\.example\.test with "v=DKIM1; k=rsa; p=MIIB/);
    assert.equal(checks[1]!.found[0], `v=DKIM1; k=rsa; p=${ED_P}`, 'right key, wrong k=');
    assert.equal(checks[2]!.fix, `add ip4:192.0.2.10 to the SPF record at ${D}: "v=spf1 include:_spf.google.com ip4:192.0.2.10 ~all"`);
    assert.match(checks[3]!.fix!, /single DMARC record/);
    assert.match(checks[4]!.fix!, /id= is missing/);
  });

  it('two SPF records are wrong (permerror at receivers); a DMARC record with a bad p= is wrong', async () => {
    dns.setZone({
      [D]: { TXT: ['v=spf1 ip4:192.0.2.10 -all', 'v=spf1 -all'] },
      [`_dmarc.${D}`]: { TXT: ['v=DMARC1; p=monitor'] },
    });
    const [spf, dmarc] = await checkRecords(records.filter((r) => r.purpose === 'spf' || r.purpose === 'dmarc'), resolver);
    assert.deepEqual([spf!.status, dmarc!.status], ['wrong', 'wrong']);
    assert.match(spf!.fix!, /merge the 2 SPF records/);
    assert.match(dmarc!.fix!, /p= must be none, quarantine or reject/);
  });

  it('a failing lookup is an error (not "missing"), and fails the check', async () => {
    dns.fail(`_dmarc.${D}`, 'servfail');
    const [dmarc] = await checkRecords(records.filter((r) => r.purpose === 'dmarc'), resolver);
    assert.equal(dmarc!.status, 'error');
    assert.match(dmarc!.fix!, /DNS lookup failed \(ESERVFAIL\)/);
    assert.equal(hasProblems([dmarc!]), true);
    dns.fail(`_dmarc.${D}`, null);
  });
});

describe('checkRecords: CNAME records (bounce domain, MTA-STS host)', () => {
  const cnames = new Map<string, string[]>();
  const resolver: RecordResolver = {
    resolveTxt: async () => [],
    resolveCname: async (name) => {
      const v = cnames.get(name);
      if (!v) throw Object.assign(new Error('nodata'), { code: 'ENODATA' });
      return v;
    },
  };
  const withBounce = configSchema.parse({ domains: { bounceDomain: { label: 'rp', target: 'bounces.relay.test' }, mtaSts: { policyHost: 'sts.relay.test' } } }).domains;
  const cnameRecords = expectedRecords(D, [], 0, { hostname: 'relay.test', domains: withBounce }).filter((r) => r.type === 'CNAME');

  it('ok when the target matches (any case, trailing dot), wrong otherwise, missing when absent', async () => {
    cnames.set(`rp.${D}`, ['Bounces.Relay.Test.']);
    cnames.set(`mta-sts.${D}`, ['elsewhere.test']);
    const checks = await checkRecords(cnameRecords, resolver);
    assert.deepEqual(summary(checks), [`CNAME rp.${D}: ok`, `CNAME mta-sts.${D}: wrong`]);
    assert.equal(checks[1]!.fix, `replace the CNAME record at mta-sts.${D} with "sts.relay.test"`);
    cnames.clear();
    assert.deepEqual((await checkRecords(cnameRecords, resolver)).map((c) => c.status), ['missing', 'missing']);
  });
});
