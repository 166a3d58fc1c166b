// Delivery over real sockets, happy paths: exact envelope and body, STARTTLS, MX preference and
// fallback, implicit MX, connection reuse, and the per-destination concurrency limit.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { body, createFixture, enqueue, waitForStates, type Fixture } from './fixture.js';

describe('delivery to MX hosts', () => {
  let dns: DnsServer;
  let mx1: Receiver; // 127.0.0.2
  let mx2: Receiver; // 127.0.0.3, same port
  let down: Receiver; // 127.0.0.4: refuses connections
  let f: Fixture | undefined;

  before(async () => {
    dns = await startDnsServer();
    mx1 = await startReceiver({ host: '127.0.0.2' });
    mx2 = await startReceiver({ host: '127.0.0.3', port: mx1.port });
    down = await startReceiver({ host: '127.0.0.4', port: mx1.port, behaviour: { refuse: true } });
    dns.setZone({
      'example.test': { MX: [{ exchange: 'mx2.example.test', priority: 20 }, { exchange: 'mx1.example.test', priority: 10 }] },
      'mx1.example.test': { A: ['127.0.0.2'] },
      'mx2.example.test': { A: ['127.0.0.3'] },
      'fallback.test': { MX: [{ exchange: 'down.fallback.test', priority: 5 }, { exchange: 'mx2.example.test', priority: 10 }] },
      'down.fallback.test': { A: ['127.0.0.4'] },
      'implicit.test': { A: ['127.0.0.3'] },
    });
  });
  after(async () => { await Promise.all([mx1.close(), mx2.close(), down.close(), dns.close()]); });
  afterEach(async () => { await f?.close(); f = undefined; mx1.messages.length = 0; mx2.messages.length = 0; });

  it('delivers with the exact envelope and body, over STARTTLS, to the preferred MX', async () => {
    f = await createFixture({ port: mx1.port, dns });
    f.scheduler.start();
    const data = body('exact', '..two dots\r\nlast line');
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@example.test', 'carol@example.test'], body: data });
    const m = await waitForStates(f, id, ['delivered']);
    assert.equal(mx1.messages.length, 1);
    assert.equal(mx2.messages.length, 0);
    const got = mx1.messages[0]!;
    assert.equal(got.mailFrom, 'alice@sender.test');
    assert.deepEqual(got.rcptTo, ['bob@example.test', 'carol@example.test']);
    assert.ok(got.body.equals(data), 'body arrives byte for byte');
    assert.equal(got.tls, true);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^250 /);
    const log = f.logs.find((l) => l.event === 'delivery.delivered' && l.rcpt === 'bob@example.test')!;
    assert.equal(log.id, id);
    assert.equal(log.host, 'mx1.example.test');
    assert.equal(log.attempt, 1);
    assert.equal(typeof log.delayMs, 'number');
    const tls = log.tls as { version: string; verified: boolean; policy: string };
    assert.match(tls.version, /^TLSv1\.[23]$/);
    assert.deepEqual([tls.verified, tls.policy], [false, 'opportunistic']);
    assert.equal(m.attempts[0]!.host, 'mx1.example.test');
    assert.deepEqual(m.attempts.map((a) => a.tls), [tls, tls], 'each attempt keeps its TLS result');
  });

  it('falls back to the next MX when the first refuses connections', async () => {
    f = await createFixture({ port: mx1.port, dns });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['dave@fallback.test'] });
    await waitForStates(f, id, ['delivered']);
    assert.deepEqual(mx2.messages.map((x) => x.rcptTo), [['dave@fallback.test']]);
    assert.ok(f.logs.some((l) => l.event === 'delivery.host_failed' && l.host === 'down.fallback.test'));
  });

  it('uses the A record of a domain without MX (implicit MX)', async () => {
    f = await createFixture({ port: mx1.port, dns });
    f.scheduler.start();
    const id = await enqueue(f, { from: '', to: ['erin@implicit.test'] });
    await waitForStates(f, id, ['delivered']);
    assert.deepEqual(mx2.messages.map((x) => [x.mailFrom, x.rcptTo]), [['', ['erin@implicit.test']]]);
  });

  it('reuses connections: N messages take fewer than N sessions', async () => {
    f = await createFixture({ port: mx1.port, dns, overrides: { 'delivery.maxConnectionsPerDestination': 1 } });
    const sessionsBefore = mx1.sessions;
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await enqueue(f, { from: 'alice@sender.test', to: [`user${i}@example.test`] }));
    f.scheduler.start();
    for (const id of ids) await waitForStates(f, id, ['delivered']);
    assert.equal(mx1.messages.length, 6);
    assert.equal(mx1.sessions - sessionsBefore, 1, 'one session carried all six messages');
  });

  it('never opens more connections to one domain than maxConnectionsPerDestination', async () => {
    const limit = 2;
    f = await createFixture({ port: mx1.port, dns, overrides: { 'delivery.maxConnectionsPerDestination': limit, 'delivery.concurrency': 10 } });
    const busy = await startReceiver({ host: '127.0.0.5', port: mx1.port });
    dns.setZone({ 'busy.test': { MX: [{ exchange: 'mx.busy.test', priority: 10 }] }, 'mx.busy.test': { A: ['127.0.0.5'] } });
    try {
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push(await enqueue(f, { from: 'alice@sender.test', to: [`u${i}@busy.test`] }));
      f.scheduler.start();
      for (const id of ids) await waitForStates(f, id, ['delivered']);
      assert.equal(busy.messages.length, 20);
      // Both slots were used, and never more.
      assert.equal(busy.maxConcurrentSessions, limit);
    } finally {
      await busy.close();
    }
  });
});
