// Attack (twenty-ninth session, a hostile recipient domain; fixed by helper lease29): an MX that
// accepts MAIL/RCPT/DATA and then reads the body a few KB at a time is never silent, so
// delivery.commandTimeout (an idle timer) never fires: a large message held the connection and a
// delivery slot for as long as the MX liked, and past delivery.leaseTime another node of a cluster
// could claim the message and deliver it again. Now every attempt ends before its lease does
// (attempt-deadline.ts): at leaseUntil less a margin the session is destroyed and the recipient is
// deferred (4.4.2, temporary, an attempt counted), the slot is free for the next message.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { createFixture, enqueue, ManualClock, waitForLog, waitForStates, type Fixture } from '../delivery/fixture.js';
import { attemptDeadline } from '../../src/delivery/attempt-deadline.js';
import { greetAndEhlo, startHostileMx, type HostileMx } from './hostile-mx.js';

const SLOW = '127.0.74.2';
const GOOD = '127.0.74.3';
const BODY_BYTES = 16 * 1024 * 1024; // more than the loopback socket buffers (~4 MB) and the reader take before the deadline

/** A body of `bytes`, plain lines (no dot-stuffing needed). */
function bigBody(bytes: number): Buffer {
  const line = 'x'.repeat(998) + '\r\n';
  const head = 'From: a@sender.test\r\nTo: b@slow.test\r\nSubject: big\r\n\r\n';
  return Buffer.from(head + line.repeat(Math.ceil(bytes / line.length)));
}

describe('attack: an MX that reads the message body slowly', () => {
  let dns: DnsServer;
  let slow: HostileMx;
  let good: Receiver;
  let f: Fixture | undefined;
  /** Per session: when DATA was answered, when the server saw the socket close, bytes read after DATA. */
  const sessions: { dataAt: number; closedAt?: number; read: number }[] = [];

  before(async () => {
    dns = await startDnsServer({ host: '127.0.74.1' });
    slow = await startHostileMx(SLOW, async (s) => {
      if (!await greetAndEhlo(s, ['8BITMIME', 'SIZE 100000000'])) return;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (l.startsWith('MAIL') || l.startsWith('RCPT')) s.write('250 ok\r\n');
        else if (l === 'DATA') {
          s.write('354 go\r\n');
          const entry: { dataAt: number; closedAt?: number; read: number } = { dataAt: Date.now(), read: 0 };
          sessions.push(entry);
          const socket = s.socket;
          socket.pause(); // from here the kernel's buffers fill and the client's writes wait
          socket.once('close', () => { entry.closedAt = Date.now(); });
          // 32 KB every 50 ms: the client's writes complete in steps of about 1.5 s (window updates),
          // within commandTimeout, so it never fires; the body would take 20 s
          const timer = setInterval(() => {
            if (socket.destroyed) { clearInterval(timer); return; }
            const chunk = socket.read(Math.min(32_768, socket.readableLength || 32_768)) as Buffer | null;
            if (chunk) entry.read += chunk.length;
          }, 50);
          return;
        }
      }
    });
    good = await startReceiver({ host: GOOD, port: slow.port });
    dns.setZone({
      'slow.test': { MX: [{ exchange: 'mx.slow.test', priority: 10 }] },
      'mx.slow.test': { A: [SLOW] },
      'ok.test': { MX: [{ exchange: 'mx.ok.test', priority: 10 }] },
      'mx.ok.test': { A: [GOOD] },
    });
  });
  after(async () => { await Promise.all([slow.close(), good.close(), dns.close()]); });
  afterEach(async () => { await f?.close(); f = undefined; good.messages.length = 0; sessions.length = 0; });

  it('the attempt is cut before its lease ends: deferred 4.4.2, the socket destroyed, the slot free for the next message', async () => {
    const leaseMs = 5000;
    f = await createFixture({
      port: slow.port, dns, overrides: {
        'delivery.leaseTime': `${leaseMs}ms`, 'delivery.commandTimeout': '3s', 'delivery.concurrency': 1,
        'delivery.retrySchedule': { initial: '10m', factor: 1, max: '10m', jitter: 0 },
      },
    });
    f.scheduler.start();
    const started = Date.now();
    const a = await enqueue(f, { from: 'a@sender.test', to: ['b@slow.test'], body: bigBody(BODY_BYTES) });
    const b = await enqueue(f, { from: 'a@sender.test', to: ['c@ok.test'] }); // waits: delivery.concurrency is 1
    const m = await waitForStates(f, a, ['deferred'], 15_000);
    const took = Date.now() - started;
    const r = m.recipients[0]!;
    assert.match(r.lastResponse ?? '', /^4\.4\.2 the attempt reached its deadline/);
    assert.equal(r.attempts, 1);
    assert.ok((r.nextAttemptAt ?? 0) > Date.now() + 60_000, 'retried under the retry schedule');
    // Deadline: a fifth of the lease before its end (4 s); recorded before the lease ends.
    assert.ok(took >= leaseMs * 0.8 - 100 && took < leaseMs, `deferred after ${took} ms`);
    const cut = await waitForLog(f, (l) => l.event === 'delivery.attempt_deadline' && l.id === a);
    assert.equal(cut.deadline, attemptDeadline(Number(cut.leaseUntil), leaseMs));
    assert.equal(sessions.length, 1, 'one DATA');
    assert.ok(sessions[0]!.read < BODY_BYTES, `the MX read ${sessions[0]!.read} bytes: the body was still being sent`);
    // The next message (the one slot) is delivered to a normal MX; the hostile socket was destroyed, not kept.
    await waitForStates(f, b, ['delivered'], 5000);
    assert.equal(good.messages.length, 1);
    // Reset, not ended: a FIN would wait behind the MBs the kernel still held to send (the MX sees it at its next read).
    for (const until = Date.now() + 1000; sessions[0]!.closedAt === undefined && Date.now() < until;) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(sessions[0]!.closedAt !== undefined, 'the hostile MX saw its connection closed');
    assert.ok(sessions[0]!.closedAt! - started < leaseMs + 200, `closed ${sessions[0]!.closedAt! - started} ms after the message was queued`);
    assert.equal(f.scheduler.inFlight, 0);
    assert.ok(!f.logs.some((l) => l.event === 'delivery.lease_overrun'));
  });

  it('the deadline follows the lease on the injected clock (delivery.leaseTime 10m): cut once the clock passes it', async () => {
    const clock = new ManualClock();
    f = await createFixture({
      port: slow.port, dns, clock, overrides: { 'delivery.commandTimeout': '30s', 'delivery.retrySchedule': { initial: '10m', factor: 1, max: '10m', jitter: 0 } },
    });
    f.scheduler.start();
    const a = await enqueue(f, { from: 'a@sender.test', to: ['b@slow.test'], body: bigBody(BODY_BYTES) });
    const deadline0 = Date.now() + 10_000;
    while (sessions.length === 0) { // the body is being sent
      assert.ok(Date.now() < deadline0, 'DATA reached');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await f.store.getMessage(a))!.recipients[0]!.state, 'delivering', 'not cut before the deadline');
    clock.advance(10 * 60_000 - 30_000 + 1); // the default lease (10 min) less its 30 s margin
    const m = await waitForStates(f, a, ['deferred'], 5000);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^4\.4\.2 the attempt reached its deadline/);
    const cut = await waitForLog(f, (l) => l.event === 'delivery.attempt_deadline' && l.id === a);
    assert.equal(Number(cut.leaseUntil) - Number(cut.deadline), 30_000);
  });
});
