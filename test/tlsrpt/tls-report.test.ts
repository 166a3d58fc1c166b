// TLS reporting (RFC 8460) end to end over real sockets: a day of deliveries under MTA-STS
// policies (policy files from a local HTTPS server with a test CA; receivers with a trusted
// certificate, a self-signed one and no STARTTLS) is counted, then, the next day (injected clock),
// each domain publishing `_smtp._tls` TXT gets one report: by mail (queued and delivered by the
// relay to an SMTP receiver; parsed with mailparser, gunzipped, checked against the RFC's schema
// constraints) and by HTTPS POST (a local HTTPS server with a test certificate). A failed POST is
// retried an hour later without mailing the report twice; finished reports are never sent again.
import fs from 'node:fs/promises';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { createResolver } from '../../src/delivery/resolver.js';
import { createLogger } from '../../src/events/log.js';
import { TlsOutcomeRecorder, DAY_MS, dayOf } from '../../src/tlsrpt/outcomes.js';
import { TlsReporter } from '../../src/tlsrpt/reporter.js';
import type { TlsrptJson } from '../../src/tlsrpt/report.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { createFixture, enqueue, ManualClock, waitForStates, type Fixture } from '../delivery/fixture.js';
import { createTestCa, issueCert, policyText, startPolicyServer, tlsaData, type PolicyServer } from '../delivery/test-pki.js';
import { assertValidTlsrpt } from './tlsrpt-schema.js';
import { runCli } from '../cli/cli-run.js';
import { MessageSigner } from '../../src/domains/message-signer.js';
import { newSendingDomain } from '../../src/domains/sending-domain.js';
import { dkimRecordValue } from '../../src/domains/dkim-keys.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { skipUnless, TOOLS } from '../helpers/require-tool.js';

interface Post { contentType: string; body: Buffer; path: string }

/** An HTTPS report endpoint: records each POST; answers 500 while `failing` > 0. */
async function startReportEndpoint(host: string, cert: { cert: string; key: string }) {
  const posts: Post[] = [];
  const state = { failing: 0 };
  const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.failing > 0) { state.failing--; res.writeHead(500).end(); return; }
      posts.push({ contentType: String(req.headers['content-type']), body: Buffer.concat(chunks), path: req.url ?? '' });
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, () => resolve()); });
  return {
    posts, state, port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('TLS reporting (RFC 8460)', () => {
  let dns: DnsServer;
  let trusted: Receiver; // 127.0.13.2: STARTTLS with a certificate from the test CA
  let plain: Receiver; // 127.0.13.3: no STARTTLS
  let untrusted: Receiver; // 127.0.13.4: STARTTLS, self-signed
  let web: PolicyServer; // 127.0.13.10: MTA-STS policies
  let endpoint: Awaited<ReturnType<typeof startReportEndpoint>>; // 127.0.13.11: https report endpoint
  let dir: string;
  let caFile: string;
  let caPem: string;
  let f: Fixture;
  let clock: ManualClock;
  let recorder: TlsOutcomeRecorder;
  let reporter: TlsReporter;
  let day: number;
  let self: { cert: string; key: string };

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-tlsrpt-'));
    const ca = await createTestCa();
    caPem = ca.cert;
    caFile = path.join(dir, 'ca.pem');
    await fs.writeFile(caFile, ca.cert);
    const mxCert = await issueCert(ca, ['mx.enforce.test', 'mx.trusted.test']);
    self = await issueCert(null, ['mx.testing.test']);
    trusted = await startReceiver({ host: '127.0.13.2', tlsOptions: { cert: mxCert.cert, key: mxCert.key } });
    plain = await startReceiver({ host: '127.0.13.3', port: trusted.port, tls: false });
    untrusted = await startReceiver({ host: '127.0.13.4', port: trusted.port, tlsOptions: { cert: self.cert, key: self.key } });
    const policyDomains = ['enforce.test', 'mismatch.test', 'plainsts.test', 'testing.test'];
    web = await startPolicyServer({ host: '127.0.13.10', cert: await issueCert(ca, policyDomains.map((d) => `mta-sts.${d}`)) });
    endpoint = await startReportEndpoint('127.0.13.11', await issueCert(ca, ['tlsrpt.reports.test']));
    dns = await startDnsServer();
    const mx = (host: string) => ({ MX: [{ exchange: host, priority: 10 }] });
    dns.setZone({
      'mx.enforce.test': { A: ['127.0.13.2'] }, 'mx.trusted.test': { A: ['127.0.13.2'] }, 'mx.other.test': { A: ['127.0.13.2'] },
      'mx.testing.test': { A: ['127.0.13.4'] }, 'mx.plainsts.test': { A: ['127.0.13.3'] },
      'enforce.test': mx('mx.enforce.test'), 'mismatch.test': mx('mx.other.test'), 'plainsts.test': mx('mx.plainsts.test'),
      'testing.test': mx('mx.testing.test'), 'reports.test': mx('mx.trusted.test'), 'tlsrpt.reports.test': { A: ['127.0.13.11'] },
    });
    for (const d of policyDomains) {
      dns.set(`_mta-sts.${d}`, 'TXT', ['v=STSv1; id=20260101T000000;']);
      dns.set(`mta-sts.${d}`, 'A', ['127.0.13.10']);
    }
    web.policies.set('enforce.test', { body: policyText('enforce', ['mx.enforce.test']) });
    web.policies.set('mismatch.test', { body: policyText('enforce', ['mx.mismatch.test']) });
    web.policies.set('plainsts.test', { body: policyText('enforce', ['*.plainsts.test']) });
    web.policies.set('testing.test', { body: policyText('testing', ['mx.elsewhere.test']) });
    // stsfail.test announces a policy, but the policy host's certificate is not valid for it: sts-webpki-invalid.
    dns.set('_mta-sts.stsfail.test', 'TXT', ['v=STSv1; id=20260101T000000;']);
    dns.set('mta-sts.stsfail.test', 'A', ['127.0.13.10']);
    dns.setZone({ 'stsfail.test': mx('mx.trusted.test') });
    // DANE (TLSA with the AD bit) for MX hosts at 127.0.13.4 (self-signed: only DANE can vouch for it).
    const other = await issueCert(null, ['other.test']);
    const dane = (domain: string, tlsa: Buffer | 'servfail') => {
      const host = `mx.${domain}`;
      dns.setZone({ [domain]: mx(host), [host]: { A: ['127.0.13.4'] } });
      dns.secure(host);
      const name = `_${trusted.port}._tcp.${host}`;
      if (tlsa === 'servfail') dns.fail(name, 'servfail');
      else { dns.set(name, 'TLSA', [{ usage: 3, selector: 1, matchingType: 1, certificate: tlsa }]); dns.secure(name); }
    };
    dane('dane.test', tlsaData(self.cert, 1, 1));
    dane('danebad.test', tlsaData(other.cert, 1, 1));
    dane('danefail.test', 'servfail');

    clock = new ManualClock(Date.now());
    day = dayOf(clock.now());
    // The fixture opens the store and the scheduler together: the recorder reaches the store through f.
    recorder = new TlsOutcomeRecorder({ store: { addTlsOutcomes: (rows) => f.store.addTlsOutcomes(rows) }, clock, logger: createLogger('silent') });
    f = await createFixture({
      port: trusted.port, dns, clock,
      overrides: { 'delivery.tlsCaFile': caFile, 'delivery.mtaSts': { port: web.port, caFile }, 'tlsReporting.organization': 'Postlane Test', 'tlsReporting.allowPrivateDestinations': true },
      scheduler: { tlsOutcomes: recorder },
    });
    // Reports are signed as the relay's hostname, a sending domain here (as main.ts wires DSNs).
    const relayDomain = await newSendingDomain('relay.test', { key: 'rsa2048', selector: 's1', now: clock.now() });
    await f.store.addDomain(relayDomain);
    for (const k of relayDomain.keys) dns.set(`${k.selector}._domainkey.relay.test`, 'TXT', [dkimRecordValue(k).match(/.{1,250}/g)!]);
    // Signed at wall-clock time (the report day is the injected clock's; dkimpy refuses a t= in the future).
    const signer = new MessageSigner({ store: f.store, hostname: 'relay.test', domains: f.config.domains, clock: { now: () => Date.now() }, logger: f.logger });
    reporter = new TlsReporter({
      config: f.config, store: f.store, logger: f.logger, clock, nodeId: 'node-test', dns: createResolver(f.config.dns), ca: caPem,
      onQueued: () => f.scheduler.notify(), sign: (mail, id) => signer.sign(mail, 'relay.test', { id }).then((r) => r.headers),
    });
    f.scheduler.start();
  });
  after(async () => {
    await f?.close();
    await Promise.all([trusted.close(), plain.close(), untrusted.close(), web.close(), endpoint.close(), dns.close()]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('counts a day of TLS sessions per policy domain, policy and result type', async () => {
    const ids = {
      enforce: [await enqueue(f, { from: 'a@sender.test', to: ['x@enforce.test'] }), await enqueue(f, { from: 'a@sender.test', to: ['y@enforce.test'] })],
      testing: await enqueue(f, { from: 'a@sender.test', to: ['x@testing.test'] }),
      plainsts: await enqueue(f, { from: 'a@sender.test', to: ['x@plainsts.test'] }),
      mismatch: await enqueue(f, { from: 'a@sender.test', to: ['x@mismatch.test'] }),
      stsfail: await enqueue(f, { from: 'a@sender.test', to: ['x@stsfail.test'] }),
      dane: await enqueue(f, { from: 'a@sender.test', to: ['x@dane.test'] }),
      danebad: await enqueue(f, { from: 'a@sender.test', to: ['x@danebad.test'] }),
      danefail: await enqueue(f, { from: 'a@sender.test', to: ['x@danefail.test'] }),
    };
    for (const id of ids.enforce) await waitForStates(f, id, ['delivered']);
    await waitForStates(f, ids.testing, ['delivered']); // testing mode: delivered despite the untrusted certificate
    await waitForStates(f, ids.plainsts, ['deferred']);
    await waitForStates(f, ids.mismatch, ['deferred']);
    await waitForStates(f, ids.stsfail, ['delivered']); // no policy could be had: opportunistic
    await waitForStates(f, ids.dane, ['delivered']);
    await waitForStates(f, ids.danebad, ['deferred']);
    await waitForStates(f, ids.danefail, ['deferred']);
    await recorder.flush();
    const counts = await f.store.readTlsOutcomes(day);
    const of = (domain: string) => counts.filter((c) => c.domain === domain).map((c) => [c.policyType, c.resultType, c.mx, c.reason, c.n]);
    assert.deepEqual(of('enforce.test'), [['sts', 'success', '', '', 2]]);
    assert.deepEqual(of('testing.test'), [['sts', 'certificate-not-trusted', 'mx.testing.test', 'DEPTH_ZERO_SELF_SIGNED_CERT', 1]]);
    assert.deepEqual(of('plainsts.test'), [['sts', 'starttls-not-supported', 'mx.plainsts.test', 'STARTTLS not offered', 1]]);
    assert.deepEqual(of('mismatch.test'), [['sts', 'validation-failure', 'mx.other.test', 'mx-not-in-policy', 1]]);
    assert.deepEqual(of('stsfail.test'), [['sts', 'sts-webpki-invalid', '', 'policy fetch failed: ERR_TLS_CERT_ALTNAME_INVALID', 1]]);
    assert.deepEqual(of('dane.test'), [['tlsa', 'success', '', '', 1]]);
    assert.deepEqual(of('danebad.test'), [['tlsa', 'tlsa-invalid', 'mx.danebad.test', 'no TLSA record matches the certificate', 1]]);
    assert.deepEqual(of('danefail.test'), [['tlsa', 'dnssec-invalid', 'mx.danefail.test', 'TLSA lookup for mx.danefail.test failed (SERVFAIL)', 1]]);
    const tlsa = JSON.parse(counts.find((c) => c.domain === 'dane.test')!.policy) as { strings: string[]; mxHost: string[] };
    assert.deepEqual(tlsa, { strings: [`3 1 1 ${tlsaData(self.cert, 1, 1).toString('hex')}`], mxHost: ['mx.dane.test'] });
  });

  it('the next day sends each domain with a TLSRPT record one report, by mail and by HTTPS', async () => {
    dns.set('_smtp._tls.enforce.test', 'TXT', ['v=TLSRPTv1; rua=mailto:tlsrpt@reports.test']);
    dns.set('_smtp._tls.testing.test', 'TXT', [`v=TLSRPTv1;rua=https://tlsrpt.reports.test:${endpoint.port}/v1/tlsrpt`]);
    dns.set('_smtp._tls.plainsts.test', 'TXT', [`v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,https://tlsrpt.reports.test:${endpoint.port}/plain`]);
    // mismatch.test, stsfail.test and the DANE domains publish no TLSRPT record: no report.
    assert.deepEqual(await reporter.runDue(), { sent: 0, skipped: 0, retried: 0, failed: 0 }, 'nothing before the day is over');

    clock.advance(DAY_MS - (clock.now() - day) + 2 * 3_600_000); // 02:00 UTC the next day (tlsReporting.hour 1)
    const received = trusted.messages.length;
    endpoint.state.failing = 1; // the first POST (plainsts.test's, in domain order) fails
    assert.deepEqual(await reporter.runDue(), { sent: 2, skipped: 5, retried: 1, failed: 0 });
    assert.equal(endpoint.posts.length, 1);

    // The mailed reports are delivered by the relay itself.
    const mails = await trusted.waitFor(received + 2, 10_000).then((all) => all.filter((m) => m.rcptTo.includes('tlsrpt@reports.test')));
    assert.equal(mails.length, 2, 'enforce.test and plainsts.test reports');
    const reports = new Map<string, TlsrptJson>();
    const noDkim = await skipUnless(TOOLS.pythonDkim);
    for (const m of mails) {
      assert.equal(m.mailFrom, '', 'null reverse-path, like a DSN');
      assert.match(m.body.toString('latin1'), /^DKIM-Signature:[^\r]*d=relay\.test/m);
      if (!noDkim) assert.deepEqual(await pythonVerify(dns.port, m.body, 1), ['pass'], 'python3-dkim verifies the report mail');
      const mail = await simpleParser(m.body);
      const domain = String(mail.headers.get('tls-report-domain'));
      assert.equal(mail.headers.get('tls-report-submitter'), 'relay.test');
      const ct = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
      assert.equal(ct.value, 'multipart/report');
      assert.equal(ct.params['report-type'], 'tlsrpt');
      assert.match(String(mail.subject), new RegExp(`^Report Domain: ${domain.replace('.', '\\.')} Submitter: relay\\.test Report-ID: <`));
      const att = mail.attachments.find((a) => a.contentType === 'application/tlsrpt+gzip');
      assert.ok(att, 'the gzip report is attached');
      const begin = day / 1000;
      assert.equal(att.filename, `relay.test!${domain}!${begin}!${begin + 86_399}.json.gz`);
      const json = JSON.parse(gunzipSync(att.content).toString('utf8')) as TlsrptJson;
      assertValidTlsrpt(json);
      reports.set(domain, json);
    }
    const enforce = reports.get('enforce.test')!;
    assert.equal(enforce['organization-name'], 'Postlane Test');
    assert.equal(enforce['contact-info'], 'postmaster@relay.test');
    assert.deepEqual(enforce['date-range'], { 'start-datetime': new Date(day).toISOString().replace('.000', ''), 'end-datetime': new Date(day + DAY_MS - 1000).toISOString().replace('.000', '') });
    assert.deepEqual(enforce.policies, [{
      policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce', 'mx: mx.enforce.test', 'max_age: 86400'], 'policy-domain': 'enforce.test', 'mx-host': ['mx.enforce.test'] },
      summary: { 'total-successful-session-count': 2, 'total-failure-session-count': 0 },
    }]);
    assert.deepEqual(reports.get('plainsts.test')!.policies[0]!['failure-details'], [
      { 'result-type': 'starttls-not-supported', 'receiving-mx-hostname': 'mx.plainsts.test', 'receiving-ip': '127.0.13.3', 'failed-session-count': 1, 'failure-reason-code': 'STARTTLS not offered' },
    ]);

    // The HTTPS report of testing.test.
    const post = endpoint.posts[0]!;
    assert.equal(post.path, '/v1/tlsrpt');
    assert.equal(post.contentType, 'application/tlsrpt+gzip');
    const testing = JSON.parse(gunzipSync(post.body).toString('utf8')) as TlsrptJson;
    assertValidTlsrpt(testing);
    assert.equal(testing.policies[0]!.policy['policy-domain'], 'testing.test');
    assert.deepEqual(testing.policies[0]!.summary, { 'total-successful-session-count': 0, 'total-failure-session-count': 1 });
    assert.equal(testing.policies[0]!['failure-details']![0]!['result-type'], 'certificate-not-trusted');

    // An hour later the failed POST is retried (by whichever node runs first); the mail is not sent again.
    assert.deepEqual(await reporter.runDue(), { sent: 0, skipped: 0, retried: 0, failed: 0 }, 'not before its retry time');
    clock.advance(3_600_000 + 1000);
    assert.deepEqual(await reporter.runDue(), { sent: 1, skipped: 0, retried: 0, failed: 0 });
    assert.equal(endpoint.posts.length, 2);
    assert.equal(endpoint.posts[1]!.path, '/plain');
    assertValidTlsrpt(JSON.parse(gunzipSync(endpoint.posts[1]!.body).toString('utf8')));
    const queuedReports = (await f.store.listRecipients({ includeFinal: true, limit: 1000 })).filter((r) => r.address === 'tlsrpt@reports.test');
    assert.equal(queuedReports.length, 2, 'each mailed report queued once');
    const claims = (await f.store.listTlsReports(10)).map((r) => [r.domain, r.state]);
    assert.deepEqual(claims.sort(), [
      ['dane.test', 'skipped'], ['danebad.test', 'skipped'], ['danefail.test', 'skipped'], ['enforce.test', 'sent'], ['mismatch.test', 'skipped'],
      ['plainsts.test', 'sent'], ['stsfail.test', 'skipped'], ['testing.test', 'sent'],
    ]);
    assert.deepEqual(await reporter.runDue(), { sent: 0, skipped: 0, retried: 0, failed: 0 }, 'finished reports are never sent again');
  });

  it('postlane tls-reports shows the reports and the counters', async () => {
    const file = path.join(dir, 'postlane.yaml');
    await fs.writeFile(file, JSON.stringify({ hostname: 'relay.test', dataDir: f.dir }));
    const sent = await runCli(['tls-reports', 'sent', '--json', '--config', file]);
    assert.equal(sent.code, 0, sent.stderr);
    const rows = JSON.parse(sent.stdout) as { domain: string; day: string; state: string }[];
    const d = new Date(day).toISOString().slice(0, 10);
    assert.deepEqual(rows.map((r) => [r.day, r.domain, r.state]), [
      [d, 'dane.test', 'skipped'], [d, 'danebad.test', 'skipped'], [d, 'danefail.test', 'skipped'], [d, 'enforce.test', 'sent'],
      [d, 'mismatch.test', 'skipped'], [d, 'plainsts.test', 'sent'], [d, 'stsfail.test', 'skipped'], [d, 'testing.test', 'sent'],
    ]);
    const counts = await runCli(['tls-reports', 'counts', '--day', new Date(day).toISOString().slice(0, 10), '--domain', 'testing.test', '--config', file]);
    assert.equal(counts.code, 0, counts.stderr);
    assert.match(counts.stdout, /testing\.test\s+sts\s+certificate-not-trusted\s+mx\.testing\.test\s+127\.0\.13\.4\s+DEPTH_ZERO_SELF_SIGNED_CERT\s+1/);
    const bad = await runCli(['tls-reports', 'counts', '--day', 'yesterday', '--config', file]);
    assert.equal(bad.code, 2, 'a usage error');
    assert.match(bad.stderr, /--day must be a date/);
  });
});
