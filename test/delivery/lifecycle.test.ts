// The scheduler's lifecycle over real sockets: smarthost mode with AUTH, graceful stop (in-flight
// work finishes; stuck work is aborted and its lease released), a job that throws is deferred and
// retried rather than lost, and 'local' jobs are stored under dataDir/inbound.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { INLINE_MAX_BYTES } from '../../src/store/sqlite/inline-body.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { body, createFixture, enqueue, waitForLog, waitForMessage, waitForStates, type Fixture } from './fixture.js';

describe('delivery lifecycle', () => {
  let dns: DnsServer;
  let mx: Receiver; // 127.0.0.2
  let relay: Receiver; // 127.0.0.3: smarthost with AUTH
  let silent: net.Server; // 127.0.0.4: accepts connections, never greets
  const held = new Set<net.Socket>();
  let f: Fixture | undefined;

  before(async () => {
    dns = await startDnsServer();
    mx = await startReceiver({ host: '127.0.0.2' });
    relay = await startReceiver({ host: '127.0.0.3', auth: { user: 'relayuser', pass: 's3cret' } });
    silent = net.createServer((s) => { held.add(s); s.on('error', () => undefined); });
    await new Promise<void>((resolve) => silent.listen(mx.port, '127.0.0.4', () => resolve()));
    dns.setZone({
      'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
      'mx.example.test': { A: ['127.0.0.2'] },
      'stuck.test': { MX: [{ exchange: 'mx.stuck.test', priority: 10 }] },
      'mx.stuck.test': { A: ['127.0.0.4'] },
    });
  });
  after(async () => {
    for (const s of held) s.destroy();
    await Promise.all([mx.close(), relay.close(), new Promise((r) => silent.close(r)), dns.close()]);
  });
  afterEach(async () => { await f?.close(); f = undefined; mx.messages.length = 0; relay.messages.length = 0; });

  const smarthost = (pass: string) => ({ 'delivery.smarthost': { host: '127.0.0.3', port: relay.port, auth: { user: 'relayuser', pass }, tls: 'opportunistic' } });

  it('sends everything through the smarthost, authenticated over STARTTLS', async () => {
    f = await createFixture({ port: mx.port, dns, overrides: smarthost('s3cret') });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@anywhere.test', 'carol@example.test'] });
    await waitForStates(f, id, ['delivered']);
    const got = relay.messages.filter((m) => m.mailFrom === 'alice@sender.test');
    assert.deepEqual(got.map((m) => m.rcptTo).flat().sort(), ['bob@anywhere.test', 'carol@example.test']);
    assert.ok(got.every((m) => m.user === 'relayuser' && m.tls));
    assert.equal(mx.messages.length, 0, 'MX hosts are not used');
    assert.ok(!JSON.stringify(f.logs).includes('s3cret'), 'the password is never logged');
  });

  it('sends a message for several domains through the smarthost in one transaction; each recipient has its own result', async () => {
    // 127.0.0.5: a smarthost that refuses one recipient (the others' domains do not matter to it)
    const hub = await startReceiver({ host: '127.0.0.5', behaviour: { rcpt: (a: string) => (a === 'gone@b.test' ? { code: 550, message: '5.1.1 No such user here' } : null) } });
    try {
      f = await createFixture({ port: mx.port, dns, overrides: { 'delivery.smarthost': `127.0.0.5:${hub.port}` } });
      f.scheduler.start();
      const to = ['one@a.test', 'two@b.test', 'three@a.test', 'gone@b.test', 'four@c.test'];
      const id = await enqueue(f, { from: 'alice@sender.test', to });
      const m = await waitForStates(f, id, ['delivered', 'bounced']);
      const sent = hub.messages.filter((x) => x.mailFrom === 'alice@sender.test');
      assert.equal(sent.length, 1, 'one transaction for the three domains');
      assert.deepEqual(sent[0]!.rcptTo, ['one@a.test', 'two@b.test', 'three@a.test', 'four@c.test'], 'every accepted RCPT, in the message\'s order');
      assert.equal(hub.sessions, 1);
      for (const r of m.recipients) {
        assert.equal(r.attempts, 1, r.address);
        assert.equal(r.state, r.address === 'gone@b.test' ? 'bounced' : 'delivered', r.address);
      }
      assert.match(m.recipients.find((r) => r.address === 'gone@b.test')!.lastResponse ?? '', /^550 5\.1\.1 /);
      // One DSN, for the refused recipient only (it goes out through the smarthost too).
      await hub.waitFor(2, 5000);
      const dsns = hub.messages.filter((x) => x.mailFrom === '');
      assert.equal(dsns.length, 1);
      const report = dsns[0]!.body.toString();
      assert.match(report, /Final-Recipient: rfc822; ?gone@b\.test/);
      assert.doesNotMatch(report, /Final-Recipient: rfc822; ?(one|two|three|four)@/);
      const delivered = f.logs.filter((l) => l.event === 'delivery.delivered' && l.id === id).map((l) => l.rcpt).sort();
      assert.deepEqual(delivered, ['four@c.test', 'one@a.test', 'three@a.test', 'two@b.test'], 'each recipient logged once');
    } finally {
      await f?.close();
      f = undefined;
      await hub.close();
    }
  });

  it('defers (never bounces) when the smarthost refuses our credentials', async () => {
    f = await createFixture({ port: mx.port, dns, overrides: smarthost('wrong') });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@anywhere.test'] });
    const m = await waitForStates(f, id, ['deferred']);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^4\.7\.8 .*535/);
  });

  it('graceful stop lets an in-flight delivery finish', async () => {
    f = await createFixture({ port: mx.port, dns });
    f.scheduler.start();
    const sessionsBefore = mx.sessions;
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@example.test'] });
    // In flight: the attempt has reached the MX (claimed alone is not: a job claimed but not yet
    // started when stop() comes, e.g. while its MX is looked up for shaping, is given back instead).
    await waitForMessage(f, id, (m) => m.recipients[0]!.state !== 'queued' && mx.sessions > sessionsBefore, 'in flight');
    await f.scheduler.stop(5000);
    const m = await f.store.getMessage(id);
    assert.equal(m!.recipients[0]!.state, 'delivered');
  });

  it('graceful stop aborts a stuck attempt after the timeout and releases its lease', async () => {
    f = await createFixture({ port: mx.port, dns, overrides: { 'delivery.connectTimeout': '30s' } });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@stuck.test'] });
    await waitForMessage(f, id, (m) => m.recipients[0]!.state === 'delivering', 'leased');
    // The connect would take 30 s to time out (and count an attempt): an aborted one counts none.
    await f.scheduler.stop(300);
    const m = await f.store.getMessage(id);
    assert.equal(m!.recipients[0]!.state, 'queued', 'lease released: due again at once');
    assert.equal(m!.recipients[0]!.attempts, 0, 'an aborted attempt is not counted');
    assert.ok(f.logs.some((l) => l.event === 'delivery.stopped' && l.released === 1));
  });

  it('defers a job that throws unexpectedly, then retries it', async () => {
    f = await createFixture({ port: mx.port, dns });
    // A body above the inline limit, so it lives in a spool file the test can take away.
    const big = body('vanishing', 'x'.repeat(INLINE_MAX_BYTES));
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['postmaster@relay.test'], route: 'local', body: big });
    const spool = path.join(f.dir, 'spool', id);
    const saved = await fs.readFile(spool);
    await fs.rm(spool); // the body vanished: LocalDelivery throws
    f.scheduler.start();
    const m = await waitForStates(f, id, ['deferred']);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^4\.3\.0 /);
    assert.equal(m.recipients[0]!.attempts, 1);
    await waitForLog(f, (l) => l.event === 'delivery.crashed' && l.id === id);
    await fs.writeFile(spool, saved);
    await waitForStates(f, id, ['delivered']);
  });

  it("stores 'local' jobs under dataDir/inbound and marks them delivered", async () => {
    f = await createFixture({ port: mx.port, dns });
    f.scheduler.start();
    const data = body('inbound report');
    const id = await enqueue(f, { from: 'mailer@remote.test', to: ['bounces@relay.test', 'abuse@relay.test'], body: data, route: 'local' });
    const m = await waitForStates(f, id, ['delivered']);
    assert.ok(m.recipients.every((r) => r.lastResponse === 'local'));
    // Stored byte for byte, after the trace headers inbound verification prepends (src/delivery/inbound-auth.ts).
    const stored = await fs.readFile(path.join(f.dir, 'inbound', `${id}.eml`));
    assert.ok(stored.subarray(stored.length - data.length).equals(data));
    assert.match(stored.subarray(0, stored.length - data.length).toString(), /^Received-SPF: [^]*\r\nAuthentication-Results: relay\.test;[^]*\r\n$/);
    const log = await waitForLog(f, (l) => l.event === 'inbound.stored' && l.id === id);
    assert.deepEqual(log.rcpts, ['bounces@relay.test', 'abuse@relay.test']);
    assert.equal(mx.messages.length, 0);
  });
});
