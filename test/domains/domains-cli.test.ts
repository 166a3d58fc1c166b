// `postlane domains …` and `postlane users add --domain / allow` as child processes against a
// generated config whose resolver is the test DNS server: add prints the records, check reports
// correct / missing / wrong with exit codes, a key is imported, rotation switches once the new
// record is seen (promoteRotations, as the relay runs it), users get domain grants.
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createResolver } from '../../src/delivery/resolver.js';
import { promoteRotations } from '../../src/domains/key-rotation.js';
import type { ExpectedRecord } from '../../src/domains/dns-records.js';
import { createLogger } from '../../src/events/log.js';
import { SqliteQueueStore } from '../../src/store/sqlite/sqlite-store.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { RelayProcess } from '../helpers/relay-process.js';
import { cliFixture } from '../helpers/cli-fixture.js';

const D = 'example.test';
const chunked = (v: string) => [v.slice(0, 255), v.slice(255)].filter(Boolean);

describe('postlane domains / users allow (CLI)', () => {
  let dns: DnsServer;
  let relay: RelayProcess;
  const { cli } = cliFixture(() => relay);
  /** Publish every TXT record exactly as printed. */
  const publish = (records: ExpectedRecord[]) => {
    for (const r of records) if (r.type === 'TXT') dns.set(r.name, 'TXT', [chunked(r.value)]);
  };

  before(async () => {
    dns = await startDnsServer();
    relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`], timeout: '1s' }, domains: { spf: 'ip4:192.0.2.10', tlsRpt: true } });
  });
  after(async () => { await relay.cleanup(); await dns.close(); });

  it('domains add prints the records; check: missing (exit 4), correct (exit 0), wrong (exit 4)', async () => {
    const add = await cli('domains', 'add', 'Example.TEST', '--key', 'both', '--selector', 's1', '--json');
    assert.equal(add.code, 0, add.stderr);
    const { domain, records } = JSON.parse(add.stdout) as { domain: { name: string; keys: { selector: string; state: string }[] }; records: ExpectedRecord[] };
    assert.deepEqual(domain.keys.map((k) => [k.selector, k.state]), [['s1-rsa', 'active'], ['s1-ed25519', 'active']]);
    assert.ok(!add.stdout.includes('PRIVATE KEY'), 'private keys are never printed');
    assert.deepEqual(records.map((r) => r.name), [`s1-rsa._domainkey.${D}`, `s1-ed25519._domainkey.${D}`, D, `_dmarc.${D}`, `_smtp._tls.${D}`]);

    const missing = await cli('domains', 'check', D);
    assert.equal(missing.code, 4, missing.stdout + missing.stderr);
    assert.match(missing.stdout, new RegExp(`^MISSING +DKIM s1-rsa +TXT s1-rsa\\._domainkey\\.${D}\\n +fix: publish TXT`, 'm'));
    assert.match(missing.stdout, /^MISSING +SPF +TXT example\.test\n +fix: publish TXT example\.test "v=spf1 ip4:192\.0\.2\.10 ~all"/m);

    publish(records);
    const ok = await cli('domains', 'check', D);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout.match(/^OK /gm)?.length, 5, ok.stdout);
    assert.match(ok.stdout, /note: p=none only monitors/);

    dns.set(D, 'TXT', ['v=spf1 mx -all']);
    dns.set(`_dmarc.${D}`, 'TXT', ['v=DMARC1; p=none', 'v=DMARC1; p=reject']);
    const wrong = await cli('domains', 'check', D, '--json');
    assert.equal(wrong.code, 4);
    const checks = (JSON.parse(wrong.stdout) as { checks: { status: string; record: { purpose: string }; fix: string | null }[] }).checks;
    assert.deepEqual(checks.map((c) => [c.record.purpose, c.status]),
      [['dkim', 'ok'], ['dkim', 'ok'], ['spf', 'wrong'], ['dmarc', 'wrong'], ['tls-rpt', 'ok']]);
    assert.equal(checks[2]!.fix, `add ip4:192.0.2.10 to the SPF record at ${D}: "v=spf1 mx ip4:192.0.2.10 -all"`);
    publish(records);
  });

  it('records prints zone lines; list; an unknown domain is flagged by check and refused by records', async () => {
    const recs = await cli('domains', 'records', D);
    assert.equal(recs.code, 0, recs.stderr);
    assert.match(recs.stdout, /^s1-rsa\._domainkey\.example\.test\.\t3600\tIN\tTXT\t"v=DKIM1; k=rsa; p=[^"]{237}" "[^"]+"$/m);
    assert.match(recs.stdout, /^_dmarc\.example\.test\.\t3600\tIN\tTXT\t"v=DMARC1; p=none; rua=mailto:dmarc-reports@example\.test"$/m);
    const list = await cli('domains', 'list');
    assert.match(list.stdout, /^example\.test\ts1-rsa\(rsa,active\) s1-ed25519\(ed25519,active\)\t/m);
    const unknown = await cli('domains', 'check', 'other.test');
    assert.equal(unknown.code, 4);
    assert.match(unknown.stdout, /other\.test is NOT a configured sending domain: its mail is relayed unsigned\./);
    assert.equal((await cli('domains', 'add', 'relay.test', '--key', 'ed25519')).code, 0);
    assert.match((await cli('domains', 'check', 'other.test')).stdout,
      /other\.test is NOT a configured sending domain: its mail is signed as relay\.test \(not aligned for DMARC\)\./);
    assert.equal((await cli('domains', 'remove', 'relay.test')).code, 0);
    assert.equal((await cli('domains', 'records', 'other.test')).code, 3);
    assert.equal((await cli('domains', 'add', 'not a domain')).code, 2);
    const dup = await cli('domains', 'add', D);
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /already exists/);
  });

  it('imports an existing private key (--private-key), keeping its public key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const file = path.join(relay.dir, 'old.pem');
    await fs.writeFile(file, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    const add = await cli('domains', 'add', 'moved.test', '--selector', 'legacy', '--private-key', file, '--json');
    assert.equal(add.code, 0, add.stderr);
    const dkim = (JSON.parse(add.stdout) as { records: ExpectedRecord[] }).records[0]!;
    assert.equal(dkim.name, 'legacy._domainkey.moved.test');
    assert.equal(dkim.value, `v=DKIM1; k=rsa; p=${createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64')}`);
    assert.equal((await cli('domains', 'add', 'bad.test', '--private-key', path.join(relay.dir, 'nope.pem'))).code, 2);
    assert.equal((await cli('domains', 'remove', 'moved.test')).code, 0);
    assert.equal((await cli('domains', 'remove', 'moved.test')).code, 3);
  });

  it('rotate-key adds pending keys; promoteRotations switches once their records are in DNS', async () => {
    const rot = await cli('domains', 'rotate-key', D, '--selector', 's2');
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, /^s2-rsa\._domainkey\.example\.test\.\t3600\tIN\tTXT\t"v=DKIM1; k=rsa; p=/m);
    assert.equal((await cli('domains', 'rotate-key', D)).code, 2, 'one rotation at a time');

    const store = new SqliteQueueStore({ dataDir: path.join(relay.dir, 'data'), logger: createLogger('silent') });
    await store.open();
    try {
      const resolver = createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 1000 });
      const deps = { store, resolver, logger: createLogger('silent') };
      assert.deepEqual(await promoteRotations(deps), [], 'nothing published yet');
      const pending = (await store.getDomain(D))!.keys.filter((k) => k.state === 'pending');
      const ed = pending.find((k) => k.algorithm === 'ed25519')!;
      dns.set(`${ed.selector}._domainkey.${D}`, 'TXT', [`v=DKIM1; k=ed25519; p=${ed.publicKey}`]);
      assert.deepEqual(await promoteRotations(deps), [{ domain: D, selector: 's2-ed25519', algorithm: 'ed25519' }]);
      const states = Object.fromEntries((await store.getDomain(D))!.keys.map((k) => [k.selector, k.state]));
      assert.deepEqual(states, { 's1-rsa': 'active', 's1-ed25519': 'retired', 's2-rsa': 'pending', 's2-ed25519': 'active' });
    } finally {
      await store.close();
    }
  });

  it('users add --domain, users allow / --any / --revoke, users list', async () => {
    const add = await cli('users', 'add', 'alice', '--password', 'long enough', '--domain', 'Example.TEST', 'shop.test');
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /user alice added \(may send as example\.test, shop\.test\)/);
    assert.match((await cli('users', 'allow', 'alice', 'other.test')).stdout, /may send as example\.test, shop\.test, other\.test/);
    assert.match((await cli('users', 'allow', 'alice', 'shop.test', '--revoke')).stdout, /may send as example\.test, other\.test/);
    assert.match((await cli('users', 'allow', 'alice', '--any')).stdout, /may send as any domain/);
    assert.equal((await cli('users', 'allow', 'bob', 'x.test')).code, 3);
    assert.equal((await cli('users', 'allow', 'alice')).code, 2);
    const list = JSON.parse((await cli('users', 'list', '--json')).stdout) as { name: string; allowedDomains: string[]; anyDomain: boolean }[];
    assert.deepEqual(list.map((u) => [u.name, u.allowedDomains, u.anyDomain]), [['alice', ['example.test', 'other.test'], true]]);
  });
});

// CNAMEs as real DNS serves them (the test DNS server answers CNAME queries, and follows the
// alias for TXT like a recursive resolver): the bounce domain must be a CNAME of the configured
// target, and a DKIM key published through a CNAME at the selector (a provider-hosted key) is found.
describe('postlane domains check: CNAME records through the test DNS server', () => {
  const C = 'cname.test';
  let dns: DnsServer;
  let relay: RelayProcess;
  const { cli } = cliFixture(() => relay);

  before(async () => {
    dns = await startDnsServer();
    relay = await RelayProcess.create({
      dns: { servers: [`127.0.0.1:${dns.port}`], timeout: '1s' },
      domains: { spf: 'ip4:192.0.2.10', bounceDomain: { label: 'rp', target: 'bounces.relay.test' } },
    });
  });
  after(async () => { await relay.cleanup(); await dns.close(); });

  it('bounce CNAME ok / wrong / missing; a DKIM key behind a CNAME verifies', async () => {
    const add = await cli('domains', 'add', C, '--key', 'ed25519', '--selector', 's1', '--json');
    assert.equal(add.code, 0, add.stderr);
    const { records } = JSON.parse(add.stdout) as { records: ExpectedRecord[] };
    const bounce = records.find((r) => r.type === 'CNAME' && r.purpose === 'bounce')!;
    assert.deepEqual([bounce.name, bounce.value.replace(/\.$/, '')], [`rp.${C}`, 'bounces.relay.test']);
    const dkim = records.find((r) => r.purpose === 'dkim')!;
    // Everything but DKIM as printed; the DKIM key lives at a provider, the selector is an alias.
    for (const r of records) if (r.type === 'TXT' && r.purpose !== 'dkim') dns.set(r.name, 'TXT', [chunked(r.value)]);
    dns.set(dkim.name, 'CNAME', ['s1.keys.provider.test']);
    dns.set('s1.keys.provider.test', 'TXT', [chunked(dkim.value)]);
    dns.set(bounce.name, 'CNAME', ['Bounces.Relay.Test.']);

    const ok = await cli('domains', 'check', C, '--json');
    const verdicts = (out: string) => (JSON.parse(out) as { checks: { status: string; record: { purpose: string; type: string } }[] }).checks
      .map((c) => `${c.record.purpose} ${c.record.type}: ${c.status}`);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.ok(verdicts(ok.stdout).includes('bounce CNAME: ok'), ok.stdout);
    assert.ok(verdicts(ok.stdout).includes('dkim TXT: ok'), 'the key is read through the CNAME');
    assert.ok(dns.queries.some((q) => q.name === bounce.name && q.type === 'CNAME'), 'asked DNS for the CNAME itself');

    dns.set(bounce.name, 'CNAME', ['elsewhere.test']);
    const wrong = await cli('domains', 'check', C, '--json');
    assert.equal(wrong.code, 4, wrong.stdout);
    const w = (JSON.parse(wrong.stdout) as { checks: { status: string; found: string[]; fix: string | null; record: { purpose: string } }[] }).checks
      .find((c) => c.record.purpose === 'bounce')!;
    assert.deepEqual([w.status, w.found], ['wrong', ['elsewhere.test']]);
    assert.equal(w.fix, `replace the CNAME record at rp.${C} with "bounces.relay.test"`);

    dns.setZone({ [bounce.name]: { A: ['192.0.2.7'] } }); // the name exists, without a CNAME
    const missing = await cli('domains', 'check', C);
    assert.equal(missing.code, 4, missing.stdout);
    assert.match(missing.stdout, new RegExp(`^MISSING .*CNAME +rp\\.cname\\.test\\n +fix: publish CNAME rp\\.cname\\.test "bounces\\.relay\\.test"`, 'm'));
  });
});
