// What a message needs of its next hop, over real sockets (test DNS server, real TLS with a test
// CA, smtp-server receivers offering or hiding SMTPUTF8 and REQUIRETLS):
//   REQUIRETLS (RFC 8689): only to a verified, REQUIRETLS-offering host, with MAIL … REQUIRETLS;
//     otherwise bounced (5.7.30 / 5.7.10) with a DSN that is itself sent with REQUIRETLS.
//   SMTPUTF8 (RFC 6531/6532): UTF-8 in the envelope only, in the header only, in both → only to a
//     host offering SMTPUTF8, with MAIL … SMTPUTF8; otherwise bounced (5.6.7 / 5.6.9). RFC 2047
//     encoded headers with an ASCII envelope need nothing.
//   TLS-Required: No (RFC 8689): the operator's verify policy is not applied (opportunistic TLS).
// The transport needs are computed by the acceptance code's own function (transportNeeds).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { transportNeeds } from '../../src/message/transport-needs.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type ReceivedMessage, type Receiver } from '../helpers/smtp-receiver.js';
import { body, createFixture, enqueue, waitForLog, waitForStates, type Fixture } from './fixture.js';
import { createTestCa, issueCert } from './test-pki.js';

const needs = (from: string, _to: string[], message: Buffer, requireTls = false) =>
  transportNeeds({ mailFrom: from, header: message, requireTls });

const message = (headers: string[], text = 'Secret body text.') => Buffer.from([...headers, '', text, ''].join('\r\n'), 'utf8');

describe('next-hop needs: REQUIRETLS, SMTPUTF8, TLS-Required: No', () => {
  let dns: DnsServer;
  let full: Receiver;     // 127.0.4.2: CA-signed certificate, offers SMTPUTF8 and REQUIRETLS
  let bare: Receiver;     // 127.0.4.3: CA-signed certificate, offers neither
  let badCert: Receiver;  // 127.0.4.4: self-signed certificate, offers both
  let dir: string;
  let caFile: string;
  let f: Fixture | undefined;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-needs-'));
    const ca = await createTestCa();
    caFile = path.join(dir, 'ca.pem');
    await fs.writeFile(caFile, ca.cert);
    const leaf = await issueCert(ca, ['mx.full.test', 'mx.bare.test', 'mx.sender.test']);
    const self = await issueCert(null, ['mx.badcert.test']);
    full = await startReceiver({ host: '127.0.4.2', tlsOptions: { cert: leaf.cert, key: leaf.key } });
    bare = await startReceiver({ host: '127.0.4.3', port: full.port, tlsOptions: { cert: leaf.cert, key: leaf.key }, hide: ['SMTPUTF8', 'REQUIRETLS'] });
    badCert = await startReceiver({ host: '127.0.4.4', port: full.port, tlsOptions: { cert: self.cert, key: self.key } });
    dns = await startDnsServer();
    const mx = (host: string) => ({ MX: [{ exchange: host, priority: 10 }] });
    dns.setZone({
      'mx.full.test': { A: ['127.0.4.2'] }, 'mx.sender.test': { A: ['127.0.4.2'] }, 'mx.bare.test': { A: ['127.0.4.3'] },
      'mx.badcert.test': { A: ['127.0.4.4'] }, 'mx.strict.test': { A: ['127.0.4.4'] },
      'full.test': mx('mx.full.test'), 'sender.test': mx('mx.sender.test'), 'bare.test': mx('mx.bare.test'),
      'badcert.test': mx('mx.badcert.test'), 'strict.test': mx('mx.strict.test'),
    });
  });
  after(async () => {
    await Promise.all([full.close(), bare.close(), badCert.close(), dns.close()]);
    await fs.rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => { await f?.close(); f = undefined; });

  const fixture = async () => {
    f = await createFixture({
      port: full.port, dns,
      overrides: { 'delivery.tlsCaFile': caFile, 'delivery.tlsPolicies': [{ match: 'strict.test', policy: 'verify' }] },
    });
    f.scheduler.start();
    return f;
  };
  const got = (r: Receiver, rcpt: string) => r.messages.filter((m) => m.rcptTo.includes(rcpt));
  /** The DSN sent to alice@sender.test about `rcpt` (the sender's MX is `full`). */
  const dsnAbout = async (rcpt: string): Promise<ReceivedMessage> => {
    for (let i = 0; i < 200; i++) {
      const dsn = full.messages.find((m) => m.mailFrom === '' && m.rcptTo.includes('alice@sender.test') && m.body.toString('utf8').includes(rcpt));
      if (dsn) return dsn;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no DSN about ${rcpt}`);
  };
  const bounced = async (fx: Fixture, id: string, status: RegExp) => {
    const m = await waitForStates(fx, id, ['bounced']);
    assert.match(m.recipients[0]!.lastResponse ?? '', status);
    assert.equal(m.recipients[0]!.attempts, 1, 'bounced at the first attempt, not retried');
  };

  describe('REQUIRETLS', () => {
    it('a verified next hop that offers REQUIRETLS gets the message with MAIL … REQUIRETLS', async () => {
      const fx = await fixture();
      const msg = body('rtls ok');
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['bob@full.test'], body: msg, transport: needs('alice@sender.test', ['bob@full.test'], msg, true) });
      await waitForStates(fx, id, ['delivered']);
      const [m] = got(full, 'bob@full.test');
      assert.deepEqual([m?.tls, m?.requireTls], [true, true]);
      const log = await waitForLog(fx, (l) => l.event === 'delivery.delivered' && l.rcpt === 'bob@full.test');
      assert.deepEqual([(log.tls as { verified: boolean }).verified, (log.tls as { level: string }).level], [true, 'verify']);
    });

    it('a verified next hop without REQUIRETLS: nothing sent, bounced 5.7.30; the DSN goes with REQUIRETLS and without the body', async () => {
      const fx = await fixture();
      const msg = message(['From: alice@sender.test', 'To: carol@bare.test', 'Subject: confidential'], 'Top secret body.');
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['carol@bare.test'], body: msg, transport: needs('alice@sender.test', ['carol@bare.test'], msg, true) });
      await bounced(fx, id, /^5\.7\.30 REQUIRETLS support required: mx\.bare\.test does not offer REQUIRETLS$/);
      assert.equal(got(bare, 'carol@bare.test').length, 0);
      const dsn = await dsnAbout('carol@bare.test');
      assert.equal(dsn.requireTls, true, 'the DSN of a REQUIRETLS message is sent with REQUIRETLS');
      const text = dsn.body.toString('utf8');
      assert.match(text, /Status: 5\.7\.30/);
      assert.match(text, /Subject: confidential/, 'the original header section is returned');
      assert.doesNotMatch(text, /Top secret body/, 'the body is never returned');
    });

    it('a next hop whose certificate does not verify: nothing sent, bounced 5.7.10', async () => {
      const fx = await fixture();
      const msg = body('rtls bad cert');
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['dave@badcert.test'], body: msg, transport: needs('alice@sender.test', ['dave@badcert.test'], msg, true) });
      await bounced(fx, id, /^5\.7\.10 REQUIRETLS: no verified TLS session with mx\.badcert\.test/);
      assert.equal(got(badCert, 'dave@badcert.test').length, 0);
      assert.equal((await dsnAbout('dave@badcert.test')).requireTls, true);
    });

    it('without REQUIRETLS the same hops take the message as before (no REQUIRETLS parameter)', async () => {
      const fx = await fixture();
      const msg = body('no rtls');
      const a = await enqueue(fx, { from: 'alice@sender.test', to: ['erin@bare.test'], body: msg, transport: needs('alice@sender.test', ['erin@bare.test'], msg) });
      const b = await enqueue(fx, { from: 'alice@sender.test', to: ['erin@badcert.test'], body: msg, transport: needs('alice@sender.test', ['erin@badcert.test'], msg) });
      await waitForStates(fx, a, ['delivered']);
      await waitForStates(fx, b, ['delivered']);
      assert.equal(got(bare, 'erin@bare.test')[0]?.requireTls, false);
      assert.equal(got(badCert, 'erin@badcert.test')[0]?.requireTls, false);
    });
  });

  describe('SMTPUTF8', () => {
    const utf8Header = ['From: alice@sender.test', 'To: x@example.test', 'Subject: Grüße aus Köln'];
    const asciiHeader = ['From: alice@sender.test', 'To: x@example.test', 'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?='];
    const cases = [
      { what: 'UTF-8 in the envelope only (decided per job: not stored with the message)', local: 'josé', header: asciiHeader, status: /^5\.6\.7 non-ASCII address: mx\.bare\.test does not offer SMTPUTF8$/ },
      { what: 'UTF-8 in the header only', local: 'frank', header: utf8Header, status: /^5\.6\.9 UTF-8 header fields: mx\.bare\.test does not offer SMTPUTF8$/ },
      { what: 'UTF-8 in both', local: 'günter', header: utf8Header, status: /^5\.6\.7 non-ASCII address/ },
    ];
    for (const c of cases) {
      it(`${c.what}: refused by a host without SMTPUTF8 (bounced, nothing sent); sent with MAIL … SMTPUTF8 to one that offers it`, async () => {
        const fx = await fixture();
        const msg = message(c.header);
        const [to, toFull] = [`${c.local}@bare.test`, `${c.local}@full.test`];
        const t = needs('alice@sender.test', [to], msg);
        const refused = await enqueue(fx, { from: 'alice@sender.test', to: [to], body: msg, transport: t });
        const sent = await enqueue(fx, { from: 'alice@sender.test', to: [toFull], body: msg, transport: needs('alice@sender.test', [toFull], msg) });
        await bounced(fx, refused, c.status);
        assert.equal(bare.messages.filter((m) => m.rcptTo.some((r) => r.normalize() === to.normalize())).length, 0);
        await waitForStates(fx, sent, ['delivered']);
        const m = full.messages.find((x) => x.rcptTo.some((r) => r.normalize() === toFull.normalize()));
        assert.equal(m?.smtpUtf8, true, 'MAIL carried SMTPUTF8');
        assert.ok(m?.body.includes(msg), 'the message arrived byte for byte');
      });
    }

    it('a UTF-8 recipient of one domain does not hold the ASCII recipients of another to SMTPUTF8', async () => {
      const fx = await fixture();
      const msg = message(asciiHeader);
      const to = ['jürgen@full.test', 'kim@bare.test'];
      const id = await enqueue(fx, { from: 'alice@sender.test', to, body: msg, transport: needs('alice@sender.test', to, msg) });
      await waitForStates(fx, id, ['delivered']);
      assert.equal(got(bare, 'kim@bare.test')[0]?.smtpUtf8, false, 'the ASCII transaction went without SMTPUTF8');
      assert.equal(full.messages.find((m) => m.rcptTo.some((r) => r.normalize() === 'jürgen@full.test'.normalize()))?.smtpUtf8, true);
    });

    it('RFC 2047 encoded headers and an ASCII envelope need no SMTPUTF8: delivered to a host without it', async () => {
      const fx = await fixture();
      const msg = message(asciiHeader, 'Grüße im Körper (8-bit body: 8BITMIME, not SMTPUTF8)');
      const t = needs('alice@sender.test', ['gina@bare.test'], msg);
      assert.equal(t.smtpUtf8, false);
      const id = await enqueue(fx, { from: 'alice@sender.test', to: ['gina@bare.test'], body: msg, transport: t });
      await waitForStates(fx, id, ['delivered']);
      assert.equal(got(bare, 'gina@bare.test')[0]?.smtpUtf8, false);
    });
  });

  describe('TLS-Required: No', () => {
    it('the operator\'s verify policy is not applied: delivered over opportunistic TLS; without the field: deferred', async () => {
      const fx = await fixture();
      const strict = message(['From: alice@sender.test', 'To: hank@strict.test', 'Subject: strict']);
      const relaxed = message(['From: alice@sender.test', 'To: ivan@strict.test', 'TLS-Required: No', 'Subject: relaxed']);
      const a = await enqueue(fx, { from: 'alice@sender.test', to: ['hank@strict.test'], body: strict, transport: needs('alice@sender.test', ['hank@strict.test'], strict) });
      const b = await enqueue(fx, { from: 'alice@sender.test', to: ['ivan@strict.test'], body: relaxed, transport: needs('alice@sender.test', ['ivan@strict.test'], relaxed) });
      await waitForStates(fx, b, ['delivered']);
      const log = await waitForLog(fx, (l) => l.event === 'delivery.delivered' && l.rcpt === 'ivan@strict.test');
      const tls = log.tls as { verified: boolean; level: string; version: string | null };
      assert.deepEqual([tls.verified, tls.level], [false, 'opportunistic']);
      assert.ok(tls.version, 'TLS is still used when offered');
      const held = await waitForLog(fx, (l) => l.event === 'delivery.deferred' && l.rcpt === 'hank@strict.test');
      assert.match(String(held.response), /^4\.7\.5/);
      assert.equal(got(badCert, 'hank@strict.test').length, 0);
      void a;
    });

    it('REQUIRETLS wins over TLS-Required: No', () => {
      const both = message(['From: a@sender.test', 'TLS-Required: No']);
      assert.deepEqual(needs('a@sender.test', ['b@full.test'], both, true), { requireTls: true, smtpUtf8: false, tlsOptional: false });
      assert.deepEqual(needs('a@sender.test', ['b@full.test'], both, false), { requireTls: false, smtpUtf8: false, tlsOptional: true });
    });
  });
});
