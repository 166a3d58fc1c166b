// Attack (thirtieth session, a hostile recipient domain; fixed by helper slot30): MX hosts that
// greet and then stay silent (or go silent after the end of data) just within commandTimeout hold
// an attempt, its connection and a delivery slot for up to the attempt deadline (9.5 min by
// default) on every retry. delivery.concurrency caps all attempts (default 100) and
// maxConnectionsPerDestination each domain (10): mail to ~10 domains of an attacker's (a sign-up
// on a website with addresses there is enough) held every slot, and every other mail waited.
// Now an attempt past delivery.slowAttemptAfter moves out of delivery.concurrency into the slow
// lane (delivery.maxSlowAttempts; slow-lane.ts), so fresh mail finds free slots; a control with
// the slow lane off (maxSlowAttempts 0) shows the good mail waiting behind the hostile attempts.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { createFixture, enqueue, waitForStates, type Fixture } from '../delivery/fixture.js';
import { greetAndEhlo, startHostileMx, type HostileMx } from './hostile-mx.js';

const SILENT = '127.0.61.2'; // greets, then never answers EHLO
const SILENT_AT_DOT = '127.0.61.4'; // a whole transaction, then silence after the end of data
const GOOD = '127.0.61.3';
const HOSTILE_DOMAINS = ['evil1.test', 'evil2.test', 'evil3.test', 'evil4.test', 'evil5.test', 'evil6.test'];
const CONCURRENCY = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('attack: MX hosts that hold their sessions open (slots of delivery.concurrency)', () => {
  let dns: DnsServer;
  let silent: HostileMx;
  let silentAtDot: HostileMx;
  let good: Receiver;
  let f: Fixture | undefined;
  /** Hostile sessions open now, and the most at once. */
  const open = new Set<net.Socket>();
  let maxOpen = 0;
  const track = (socket: net.Socket) => {
    open.add(socket);
    maxOpen = Math.max(maxOpen, open.size);
    socket.once('close', () => open.delete(socket));
  };

  before(async () => {
    dns = await startDnsServer({ host: '127.0.61.1' });
    silent = await startHostileMx(SILENT, async (s) => {
      track(s.socket);
      s.write('220 hostile.test ESMTP\r\n');
      while (await s.line() !== null); // never answers
    });
    // Every MX listens on one port (delivery.port), each on its own address.
    silentAtDot = await startHostileMx(SILENT_AT_DOT, async (s) => {
      track(s.socket);
      if (!await greetAndEhlo(s, ['8BITMIME'])) return;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (l.startsWith('MAIL') || l.startsWith('RCPT')) s.write('250 ok\r\n');
        else if (l === 'DATA') s.write('354 go\r\n');
        // the body's lines, then '.': never answered
      }
    }, silent.port);
    good = await startReceiver({ host: GOOD, port: silent.port });
    const zone: Parameters<DnsServer['setZone']>[0] = {
      'mx.silent.test': { A: [SILENT] }, 'mx.dot.test': { A: [SILENT_AT_DOT] },
      'ok.test': { MX: [{ exchange: 'mx.ok.test', priority: 10 }] }, 'mx.ok.test': { A: [GOOD] },
    };
    HOSTILE_DOMAINS.forEach((d, i) => { zone[d] = { MX: [{ exchange: i % 2 === 0 ? 'mx.silent.test' : 'mx.dot.test', priority: 10 }] }; });
    dns.setZone(zone);
  });
  after(async () => { await Promise.all([silent.close(), silentAtDot.close(), good.close(), dns.close()]); });
  afterEach(async () => {
    await f?.close();
    f = undefined;
    good.messages.length = 0;
    for (const until = Date.now() + 2000; open.size > 0 && Date.now() < until;) await sleep(20);
    maxOpen = 0;
  });

  /** Queues one message to each hostile domain and waits until `n` hostile sessions are open. */
  async function holdSlots(fx: Fixture, n: number): Promise<void> {
    for (const d of HOSTILE_DOMAINS) await enqueue(fx, { from: 'a@sender.test', to: [`welcome@${d}`] });
    for (const until = Date.now() + 5000; open.size < n;) {
      assert.ok(Date.now() < until, `${open.size} hostile sessions open, expected ${n}`);
      await sleep(20);
    }
  }

  const overrides = (o: Record<string, unknown>) => ({
    'delivery.concurrency': CONCURRENCY, 'delivery.slowAttemptAfter': '1s', 'delivery.commandTimeout': '30s',
    'delivery.connectTimeout': '30s', 'delivery.retrySchedule': { initial: '10m', factor: 1, max: '10m', jitter: 0 }, ...o,
  });

  it('mail to a good domain is delivered within seconds while six hostile domains hold their sessions', async (t) => {
    f = await createFixture({ port: good.port, dns, overrides: overrides({}) }); // maxSlowAttempts: concurrency
    f.scheduler.start();
    await holdSlots(f, CONCURRENCY); // every slot of delivery.concurrency is held
    // Past slowAttemptAfter the four move to the slow lane, the other two hostile attempts start,
    // and the good mail finds a slot.
    const queued = Date.now();
    const id = await enqueue(f, { from: 'a@sender.test', to: ['reset@ok.test'] });
    await waitForStates(f, id, ['delivered'], 5000);
    const waited = Date.now() - queued;
    t.diagnostic(`the good mail waited ${waited} ms`);
    assert.ok(waited < 3000, `the good mail waited ${waited} ms`);
    for (const until = Date.now() + 3000; open.size < HOSTILE_DOMAINS.length;) { assert.ok(Date.now() < until, `${open.size} hostile sessions`); await sleep(20); }
    // All six held now (four slow, two overdue keeping their fast slots): fresh mail still gets one of the two free slots at once.
    await sleep(1500);
    assert.deepEqual(f.scheduler.lanes, { fast: 2, slow: 4 });
    const again = Date.now();
    const id2 = await enqueue(f, { from: 'a@sender.test', to: ['receipt@ok.test'] });
    await waitForStates(f, id2, ['delivered'], 5000);
    t.diagnostic(`the second good mail waited ${Date.now() - again} ms`);
    assert.ok(Date.now() - again < 1000, `the second good mail waited ${Date.now() - again} ms`);
    assert.equal(good.messages.length, 2);
    assert.ok(maxOpen <= CONCURRENCY * 2, `${maxOpen} hostile sessions at once: at most concurrency + maxSlowAttempts`);
    const moved = f.logs.filter((l) => l.event === 'delivery.slow_attempt');
    assert.equal(moved.length, HOSTILE_DOMAINS.length);
    assert.deepEqual(moved.map((l) => l.lane).sort(), ['full', 'full', 'slow', 'slow', 'slow', 'slow']);
    assert.ok(moved.every((l) => HOSTILE_DOMAINS.includes(String(l.domain)) && Number(l.runningMs) >= 1000));
  });

  it('control: with the slow lane off (maxSlowAttempts 0) the good mail waits behind the hostile attempts', async () => {
    f = await createFixture({ port: good.port, dns, overrides: overrides({ 'delivery.maxSlowAttempts': 0 }) });
    f.scheduler.start();
    await holdSlots(f, CONCURRENCY);
    const id = await enqueue(f, { from: 'a@sender.test', to: ['reset@ok.test'] });
    await sleep(4000);
    assert.equal((await f.store.getMessage(id))!.recipients[0]!.state, 'queued', 'still waiting for a slot (until commandTimeout, 30 s here; 5 min by default)');
    assert.equal(good.messages.length, 0);
    assert.equal(open.size, CONCURRENCY, 'no hostile attempt beyond delivery.concurrency');
    assert.deepEqual(f.scheduler.lanes, { fast: CONCURRENCY, slow: 0 });
  });

  it('one hostile domain with many messages holds at most its slow attempts and one fast slot', async () => {
    f = await createFixture({ port: good.port, dns, overrides: overrides({}) });
    f.scheduler.start();
    for (let i = 0; i < 12; i++) await enqueue(f, { from: 'a@sender.test', to: [`user${i}@evil1.test`] }); // per destination: 10
    for (const until = Date.now() + 5000; open.size < CONCURRENCY;) { assert.ok(Date.now() < until); await sleep(20); }
    await sleep(3500); // the four cross to the slow lane; one new attempt starts and crosses (overdue: the lane is full)
    assert.equal(open.size, CONCURRENCY + 1, 'no more: evil1.test has one attempt counted against concurrency');
    assert.deepEqual(f.scheduler.lanes, { fast: 1, slow: 4 });
    const queued = Date.now();
    const id = await enqueue(f, { from: 'a@sender.test', to: ['reset@ok.test'] });
    await waitForStates(f, id, ['delivered'], 5000);
    assert.ok(Date.now() - queued < 1000, `the good mail waited ${Date.now() - queued} ms`);
  });
});
