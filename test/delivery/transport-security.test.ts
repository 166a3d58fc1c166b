// Outbound transport security over real sockets: MTA-STS (policy served by a local HTTPS server
// with a certificate from a test CA), per-destination TLS policies, and DANE (TLSA records from
// the test DNS server, with and without the AD bit). Refusals must defer without the receiver
// ever getting the message, and every delivery records its TLS result.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { createFixture, enqueue, waitForLog, waitForMessage, waitForStates, type Fixture, type LogEntry } from './fixture.js';
import { createTestCa, issueCert, policyText, startPolicyServer, tlsaData, type PolicyServer } from './test-pki.js';

interface TlsLog { version: string | null; cipher: string | null; verified: boolean; policy: string; level: string; error?: string }

describe('outbound transport security', () => {
  let dns: DnsServer;
  let trusted: Receiver; // 127.0.3.2: STARTTLS, certificate from the test CA for the mx.* names below
  let plain: Receiver; // 127.0.3.3: no STARTTLS
  let untrusted: Receiver; // 127.0.3.4: STARTTLS, self-signed certificate (nobody's CA)
  let untrustedCert: string;
  let web: PolicyServer; // 127.0.3.10: https://mta-sts.<domain>/.well-known/mta-sts.txt
  let dir: string;
  let caFile: string;
  let f: Fixture | undefined;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-tls-'));
    const ca = await createTestCa();
    caFile = path.join(dir, 'ca.pem');
    await fs.writeFile(caFile, ca.cert);
    const mxCert = await issueCert(ca, ['mx.enforce.test', 'mx.other.test', 'mx.trusted.test', 'mx.testing.test']);
    const self = await issueCert(null, ['mx.selfsigned.test']);
    untrustedCert = self.cert;
    trusted = await startReceiver({ host: '127.0.3.2', tlsOptions: { cert: mxCert.cert, key: mxCert.key } });
    plain = await startReceiver({ host: '127.0.3.3', port: trusted.port, tls: false });
    untrusted = await startReceiver({ host: '127.0.3.4', port: trusted.port, tlsOptions: { cert: self.cert, key: self.key } });
    const policyDomains = ['enforce.test', 'mismatch.test', 'plainsts.test', 'testing.test'];
    web = await startPolicyServer({ host: '127.0.3.10', cert: await issueCert(ca, policyDomains.map((d) => `mta-sts.${d}`)) });
    dns = await startDnsServer();
    const mx = (host: string) => ({ MX: [{ exchange: host, priority: 10 }] });
    dns.setZone({
      'mx.enforce.test': { A: ['127.0.3.2'] }, 'mx.other.test': { A: ['127.0.3.2'] }, 'mx.trusted.test': { A: ['127.0.3.2'] },
      'mx.testing.test': { A: ['127.0.3.4'] }, 'mx.plainsts.test': { A: ['127.0.3.3'] }, 'mx.plain.test': { A: ['127.0.3.3'] },
      'mx.untrusted.test': { A: ['127.0.3.4'] },
      'enforce.test': mx('mx.enforce.test'), 'mismatch.test': mx('mx.other.test'), 'plainsts.test': mx('mx.plainsts.test'),
      'testing.test': mx('mx.testing.test'), 'plain.test': mx('mx.plain.test'), 'untrusted.test': mx('mx.untrusted.test'),
      'trusted.test': mx('mx.trusted.test'),
    });
    for (const d of policyDomains) {
      dns.set(`_mta-sts.${d}`, 'TXT', ['v=STSv1; id=20240101T000000;']);
      dns.set(`mta-sts.${d}`, 'A', ['127.0.3.10']);
    }
    web.policies.set('enforce.test', { body: policyText('enforce', ['mx.enforce.test']) });
    web.policies.set('mismatch.test', { body: policyText('enforce', ['mx.mismatch.test', '*.mismatch.test']) });
    web.policies.set('plainsts.test', { body: policyText('enforce', ['*.plainsts.test']) });
    web.policies.set('testing.test', { body: policyText('testing', ['mx.elsewhere.test']) });
  });
  after(async () => {
    await Promise.all([trusted.close(), plain.close(), untrusted.close(), web.close(), dns.close()]);
    await fs.rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => { await f?.close(); f = undefined; });

  const fixture = async (overrides: Record<string, unknown> = {}) => {
    f = await createFixture({
      port: trusted.port, dns,
      overrides: { 'delivery.tlsCaFile': caFile, 'delivery.mtaSts': { port: web.port, caFile }, ...overrides },
    });
    f.scheduler.start();
    return f;
  };
  const got = (r: Receiver, rcpt: string) => r.messages.filter((m) => m.rcptTo.includes(rcpt));
  const logOf = (fx: Fixture, event: string, rcpt: string) => waitForLog(fx, (l) => l.event === event && l.rcpt === rcpt);
  const tlsOf = (l: LogEntry) => l.tls as TlsLog;
  /** The first deferral of `rcpt`'s message; its last response must match `reason`. */
  const deferred = async (fx: Fixture, id: string, reason: RegExp) => {
    const m = await waitForMessage(fx, id, (x) => x.recipients[0]!.state === 'deferred' && x.recipients[0]!.attempts >= 1, 'a deferral');
    assert.match(m.recipients[0]!.lastResponse ?? '', reason);
    return m;
  };

  describe('MTA-STS', () => {
    it('enforce, MX in policy: delivers over TLS with a certificate verified for the MX name', async () => {
      const fx = await fixture();
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['bob@enforce.test'] });
      await waitForStates(fx, id, ['delivered']);
      assert.equal(got(trusted, 'bob@enforce.test')[0]?.tls, true);
      const tls = tlsOf(await logOf(fx, 'delivery.delivered', 'bob@enforce.test'));
      assert.deepEqual([tls.policy, tls.level, tls.verified], ['mta-sts', 'verify', true]);
      assert.match(tls.version ?? '', /^TLSv1\.[23]$/);
      assert.ok(tls.cipher);
      assert.ok(fx.logs.some((l) => l.event === 'mta_sts.policy_fetched' && l.domain === 'enforce.test' && l.mode === 'enforce'));
      const cache = JSON.parse(await fs.readFile(path.join(fx.dir, 'mta-sts', 'policies.json'), 'utf8')) as { policies: { domain: string }[] };
      assert.deepEqual(cache.policies.map((p) => p.domain), ['enforce.test']);
    });

    it('enforce, MX not in policy: deferred without connecting, then expired at maxQueueTime', async () => {
      const fx = await fixture();
      const sessions = trusted.sessions;
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['carol@mismatch.test'] });
      await deferred(fx, id, /^4\.7\.5 MTA-STS policy: mx\.other\.test not in policy$/);
      const old = await enqueue(fx, { from: '', to: ['dave@mismatch.test'], receivedAt: Date.now() - 6 * 86_400_000 });
      const m = await waitForStates(fx, old, ['expired']);
      assert.match(m.recipients[0]!.lastResponse ?? '', /MTA-STS policy: mx\.other\.test not in policy/);
      assert.equal(trusted.sessions, sessions, 'the unlisted MX was never contacted');
      assert.equal(got(trusted, 'carol@mismatch.test').length + got(trusted, 'dave@mismatch.test').length, 0);
    });

    it('enforce, receiver without STARTTLS: deferred, never sent in clear', async () => {
      const fx = await fixture();
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['erin@plainsts.test'] });
      await deferred(fx, id, /^4\.7\.5 MTA-STS policy: mx\.plainsts\.test does not offer STARTTLS$/);
      assert.equal(got(plain, 'erin@plainsts.test').length, 0);
    });

    it('testing: delivers anyway and logs each violation', async () => {
      const fx = await fixture();
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['frank@testing.test'] });
      await waitForStates(fx, id, ['delivered']);
      assert.equal(got(untrusted, 'frank@testing.test').length, 1);
      const violations = fx.logs.filter((l) => l.event === 'delivery.tls_violation' && l.domain === 'testing.test');
      assert.deepEqual(violations.map((v) => [v.policy, v.mode]), [['mta-sts', 'testing'], ['mta-sts', 'testing']]);
      assert.match(String(violations[0]!.violation), /mx\.testing\.test not in policy/);
      assert.match(String(violations[1]!.violation), /not trusted/);
      const tls = tlsOf(await logOf(fx, 'delivery.delivered', 'frank@testing.test'));
      assert.deepEqual([tls.verified, tls.level], [false, 'opportunistic']);
    });
  });

  describe('per-destination policy', () => {
    const policies = { 'delivery.tlsPolicies': [
      { match: 'plain.test', policy: 'required' }, { match: 'untrusted.test', policy: 'verify' }, { match: '.trusted.test', policy: 'none' },
      { match: 'trusted.test', policy: 'verify' },
    ] };

    it('required against a plaintext receiver: deferred, never sent in clear', async () => {
      const fx = await fixture(policies);
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['gina@plain.test'] });
      await deferred(fx, id, /^4\.7\.5 TLS policy: mx\.plain\.test does not offer STARTTLS$/);
      assert.equal(got(plain, 'gina@plain.test').length, 0);
    });

    it('verify with an untrusted certificate: deferred, nothing sent', async () => {
      const fx = await fixture(policies);
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['hank@untrusted.test'] });
      await deferred(fx, id, /^4\.7\.5 TLS policy: the certificate is not trusted \(\w+\)$/);
      assert.equal(got(untrusted, 'hank@untrusted.test').length, 0);
      const tls = tlsOf(await logOf(fx, 'delivery.deferred', 'hank@untrusted.test'));
      assert.deepEqual([tls.verified, tls.policy, tls.level], [false, 'policy', 'verify']);
      assert.match(tls.version ?? '', /^TLSv1\.[23]$/, 'the handshake happened; the certificate was refused');
    });

    it('verify with a certificate from the configured CA for the MX name: delivered', async () => {
      const fx = await fixture(policies);
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['ivy@trusted.test'] });
      await waitForStates(fx, id, ['delivered']);
      const tls = tlsOf(await logOf(fx, 'delivery.delivered', 'ivy@trusted.test'));
      assert.deepEqual([tls.verified, tls.policy, tls.level], [true, 'policy', 'verify']);
    });
  });

  describe('DANE', () => {
    const zone = (name: string, records: { usage: number; selector: number; matchingType: number; certificate: Buffer }[], secure: boolean) => {
      const host = `mx.${name}`;
      dns.setZone({ [name]: { MX: [{ exchange: host, priority: 10 }] }, [host]: { A: ['127.0.3.4'] } });
      dns.set(`_${trusted.port}._tcp.${host}`, 'TLSA', records);
      dns.secure(`_${trusted.port}._tcp.${host}`, secure);
    };

    it('TLSA 3 1 1 matching the key, with AD: delivered, authenticated by DANE (no CA involved)', async () => {
      zone('dane.test', [{ usage: 3, selector: 1, matchingType: 1, certificate: tlsaData(untrustedCert, 1, 1) }], true);
      const fx = await fixture();
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['jack@dane.test'] });
      await waitForStates(fx, id, ['delivered']);
      assert.equal(got(untrusted, 'jack@dane.test')[0]?.tls, true);
      const tls = tlsOf(await logOf(fx, 'delivery.delivered', 'jack@dane.test'));
      assert.deepEqual([tls.verified, tls.policy, tls.level], [true, 'dane', 'dane']);
      assert.ok(dns.queries.some((q) => q.type === 'TLSA' && q.name === `_${trusted.port}._tcp.mx.dane.test` && q.dnssecOk));
    });

    it('TLSA not matching, with AD: deferred, nothing sent', async () => {
      const other = await issueCert(null, ['someone.else.test']);
      zone('danebad.test', [{ usage: 3, selector: 1, matchingType: 1, certificate: tlsaData(other.cert, 1, 1) }], true);
      const fx = await fixture();
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['kate@danebad.test'] });
      await deferred(fx, id, /^4\.7\.5 DANE: no TLSA record matches the certificate$/);
      assert.equal(got(untrusted, 'kate@danebad.test').length, 0);
    });

    it('TLSA with AD for a host without STARTTLS: deferred, never sent in clear', async () => {
      dns.setZone({ 'daneplain.test': { MX: [{ exchange: 'mx.plain.test', priority: 10 }] } });
      dns.set(`_${trusted.port}._tcp.mx.plain.test`, 'TLSA', [{ usage: 3, selector: 1, matchingType: 1, certificate: tlsaData(untrustedCert, 1, 1) }]);
      dns.secure(`_${trusted.port}._tcp.mx.plain.test`);
      try {
        const fx = await fixture();
        const id = await enqueue(fx, { from: 'alice@sender.test', to: ['liam@daneplain.test'] });
        await deferred(fx, id, /^4\.7\.5 DANE: mx\.plain\.test does not offer STARTTLS$/);
        assert.equal(got(plain, 'liam@daneplain.test').length, 0);
      } finally {
        dns.secure(`_${trusted.port}._tcp.mx.plain.test`, false);
      }
    });

    it('TLSA without AD: ignored, delivered opportunistically', async () => {
      const other = await issueCert(null, ['someone.else.test']);
      zone('daneinsecure.test', [{ usage: 3, selector: 1, matchingType: 1, certificate: tlsaData(other.cert, 1, 1) }], false);
      const fx = await fixture();
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['mia@daneinsecure.test'] });
      await waitForStates(fx, id, ['delivered']);
      const tls = tlsOf(await logOf(fx, 'delivery.delivered', 'mia@daneinsecure.test'));
      assert.deepEqual([tls.verified, tls.policy, tls.level], [false, 'opportunistic', 'opportunistic']);
    });
  });
});
