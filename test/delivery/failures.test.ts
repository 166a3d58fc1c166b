// Delivery failures over real sockets: null MX, NXDOMAIN, 4xx then success, 5xx with a DSN that
// is itself delivered to the sender's MX, expiry after maxQueueTime, no bounce for a bounce, and
// TLS 'required' against a server without STARTTLS.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser, type ParsedMail } from 'mailparser';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver, type SmtpReply } from '../helpers/smtp-receiver.js';
import { bounceMessages, createFixture, enqueue, ManualClock, waitForMessage, waitForStates, type Fixture } from './fixture.js';

const unfold = (b: Buffer) => b.toString().replace(/\r\n[ \t]/g, ' ').replace(/\r\n/g, '\n');

async function parseDsn(raw: Buffer): Promise<{ mail: ParsedMail; status: string; headers: string }> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true });
  const ct = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
  assert.equal(ct.value, 'multipart/report');
  assert.equal(ct.params['report-type'], 'delivery-status');
  const status = mail.attachments.find((a) => a.contentType === 'message/delivery-status');
  const headers = mail.attachments.find((a) => a.contentType === 'text/rfc822-headers');
  assert.ok(status && headers, 'has delivery-status and rfc822-headers parts');
  return { mail, status: unfold(status.content), headers: unfold(headers.content) };
}

describe('delivery failures', () => {
  let dns: DnsServer;
  let senderMx: Receiver; // 127.0.0.2: the original sender's MX, receives the DSNs
  let rejecting: Receiver; // 127.0.0.3
  let plain: Receiver; // 127.0.0.4: no STARTTLS
  let f: Fixture | undefined;
  let rcptReply: SmtpReply | null = null;

  before(async () => {
    dns = await startDnsServer();
    senderMx = await startReceiver({ host: '127.0.0.2' });
    rejecting = await startReceiver({ host: '127.0.0.3', port: senderMx.port, behaviour: { rcpt: () => rcptReply } });
    plain = await startReceiver({ host: '127.0.0.4', port: senderMx.port, tls: false });
    dns.setZone({
      'sender.test': { MX: [{ exchange: 'mx.sender.test', priority: 10 }] },
      'mx.sender.test': { A: ['127.0.0.2'] },
      'strict.test': { MX: [{ exchange: 'mx.strict.test', priority: 10 }] },
      'mx.strict.test': { A: ['127.0.0.3'] },
      'plain.test': { MX: [{ exchange: 'mx.plain.test', priority: 10 }] },
      'mx.plain.test': { A: ['127.0.0.4'] },
      'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
    });
  });
  after(async () => { await Promise.all([senderMx.close(), rejecting.close(), plain.close(), dns.close()]); });
  afterEach(async () => {
    await f?.close();
    f = undefined;
    rcptReply = null;
    for (const r of [senderMx, rejecting, plain]) r.messages.length = 0;
  });

  it('bounces at once for a null MX, with a DSN (5.1.10) to the sender', async () => {
    f = await createFixture({ port: senderMx.port, dns });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@nullmx.test'] });
    const m = await waitForStates(f, id, ['bounced']);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^5\.1\.10 /);
    const [dsn] = await senderMx.waitFor(1, 10_000);
    assert.equal(dsn!.mailFrom, '');
    assert.deepEqual(dsn!.rcptTo, ['alice@sender.test']);
    const { status } = await parseDsn(dsn!.body);
    assert.match(status, /^Final-Recipient: rfc822; bob@nullmx\.test$/m);
    assert.match(status, /^Status: 5\.1\.10$/m);
    assert.doesNotMatch(status, /Diagnostic-Code/);
  });

  it('bounces for a domain that does not exist (NXDOMAIN)', async () => {
    f = await createFixture({ port: senderMx.port, dns });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@nowhere.test'] });
    const m = await waitForStates(f, id, ['bounced']);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^5\.1\.2 /);
    const [dsn] = await senderMx.waitFor(1, 10_000);
    assert.match((await parseDsn(dsn!.body)).status, /^Status: 5\.1\.2$/m);
  });

  it('defers on 4xx, retries, and delivers once the server accepts', async () => {
    f = await createFixture({ port: senderMx.port, dns });
    rcptReply = { code: 451, message: '4.7.1 Greylisted, try again' };
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@strict.test'] });
    const deferred = await waitForStates(f, id, ['deferred']);
    assert.match(deferred.recipients[0]!.lastResponse ?? '', /^451 4\.7\.1 Greylisted/);
    assert.ok(deferred.recipients[0]!.nextAttemptAt! > deferred.receivedAt);
    rcptReply = null;
    const m = await waitForStates(f, id, ['delivered']);
    // 2 attempts, or more if a retry (200 ms apart here) came before the 451 was lifted on a slow machine
    assert.ok(m.recipients[0]!.attempts >= 2, `attempts ${m.recipients[0]!.attempts}`);
    assert.equal(rejecting.messages.length, 1);
    assert.ok(f.logs.some((l) => l.event === 'delivery.deferred' && l.attempt === 1 && l.rcpt === 'bob@strict.test'));
    assert.equal(senderMx.messages.length, 0, 'no DSN for a deferral');
  });

  it('bounces on 5xx and delivers a multipart/report DSN to the sender', async () => {
    f = await createFixture({ port: senderMx.port, dns });
    rcptReply = { code: 550, message: '5.1.1 No such user here' };
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@strict.test'] });
    await waitForStates(f, id, ['bounced']);
    const [dsn] = await senderMx.waitFor(1, 10_000);
    assert.equal(dsn!.mailFrom, '');
    const { mail, status, headers } = await parseDsn(dsn!.body);
    assert.equal(mail.subject, 'Undelivered Mail Returned to Sender');
    assert.equal(mail.from?.value[0]?.address, 'MAILER-DAEMON@relay.test');
    assert.equal(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : null, 'alice@sender.test');
    assert.match(status, /^Reporting-MTA: dns; relay\.test$/m);
    assert.match(status, /^Action: failed$/m);
    assert.match(status, /^Status: 5\.1\.1$/m);
    assert.match(status, /^Remote-MTA: dns; mx\.strict\.test$/m);
    assert.match(status, /^Diagnostic-Code: smtp; 550 5\.1\.1 No such user here$/m);
    assert.match(headers, /^Subject: test /m);
    assert.equal(rejecting.messages.length, 0);
    const [bounce] = await bounceMessages(f);
    assert.ok(bounce, 'the DSN was queued as a bounce');
    assert.equal(bounce.mailFrom, '');
  });

  it('expires a recipient after maxQueueTime and sends a DSN', async () => {
    const clock = new ManualClock();
    f = await createFixture({ port: senderMx.port, dns, clock, overrides: { 'delivery.maxQueueTime': '1h' } });
    rcptReply = { code: 450, message: '4.2.1 Mailbox busy' };
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@strict.test'] });
    await waitForStates(f, id, ['deferred']);
    clock.advance(2 * 3600_000);
    f.scheduler.notify();
    const m = await waitForStates(f, id, ['expired']);
    // 2 attempts, or more if a retry (200 ms apart here) came before the 451 was lifted on a slow machine
    assert.ok(m.recipients[0]!.attempts >= 2, `attempts ${m.recipients[0]!.attempts}`);
    const [dsn] = await senderMx.waitFor(1, 10_000);
    const { status } = await parseDsn(dsn!.body);
    assert.match(status, /^Action: failed$/m);
    assert.match(status, /^Status: 4\.2\.1$/m);
    assert.match(status, /^Diagnostic-Code: smtp; 450 4\.2\.1 Mailbox busy$/m);
    assert.ok(f.logs.some((l) => l.event === 'delivery.expired'));
  });

  it('sends one "delayed" DSN after delayWarning, never a second', async () => {
    const clock = new ManualClock();
    f = await createFixture({ port: senderMx.port, dns, clock, overrides: { 'delivery.delayWarning': '30m', 'delivery.maxQueueTime': '1d' } });
    rcptReply = { code: 451, message: '4.3.0 Try later' };
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@strict.test'] });
    await waitForStates(f, id, ['deferred']);
    assert.equal(senderMx.messages.length, 0);
    for (const [minutes, attempts] of [[40, 2], [10, 3]] as const) {
      clock.advance(minutes * 60_000);
      f.scheduler.notify();
      await waitForMessage(f, id, (m) => m.recipients[0]!.state === 'deferred' && m.recipients[0]!.attempts === attempts, `attempt ${attempts}`);
    }
    const [dsn] = await senderMx.waitFor(1, 10_000);
    const { mail, status } = await parseDsn(dsn!.body);
    assert.equal(mail.subject, 'Delayed Mail (still being retried)');
    assert.match(status, /^Action: delayed$/m);
    assert.match(status, /^Will-Retry-Until: /m);
    assert.equal((await bounceMessages(f)).length, 1, 'exactly one delay notification');
  });

  it('never bounces a bounce (null sender or isBounce)', async () => {
    f = await createFixture({ port: senderMx.port, dns });
    rcptReply = { code: 550, message: '5.1.1 No such user here' };
    f.scheduler.start();
    const a = await enqueue(f, { from: '', to: ['bob@strict.test'] });
    const b = await enqueue(f, { from: 'alice@sender.test', to: ['carol@strict.test'], isBounce: true });
    await waitForStates(f, a, ['bounced']);
    await waitForStates(f, b, ['bounced']);
    assert.deepEqual(await bounceMessages(f), [await f.store.getMessage(b)].filter((x) => x!.isBounce));
    assert.equal(senderMx.messages.length, 0);
  });

  it("with tls 'required', defers instead of sending in clear to a server without STARTTLS", async () => {
    f = await createFixture({ port: senderMx.port, dns, overrides: { 'delivery.tls': 'required' } });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@plain.test'] });
    const m = await waitForStates(f, id, ['deferred']);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^4\./);
    assert.ok(plain.sessions > 0, 'the server was contacted');
    assert.equal(plain.messages.length, 0, 'but never got the message');
  });
});
