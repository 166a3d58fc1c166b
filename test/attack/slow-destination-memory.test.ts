// Attack (left open by slot30, closed by helper slow31): the slow lane forgot a destination once its
// slow attempts ended, so every new attempt to a hostile domain (a retry, or new mail) held a
// normal slot of delivery.concurrency for its first delivery.slowAttemptAfter again, and an
// attacker with as many domains as concurrency filled every normal slot after each retry. Now a
// destination whose attempt crossed the threshold is remembered (delivery.slowMemory, per node,
// bounded, with a ttl): its next attempts start in the slow lane; one that ends within the
// threshold forgets it. Over real sockets: hostile MX hosts that greet, take EHLO and stall past
// the threshold before a 421, and a test DNS server.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { createFixture, enqueue, waitForLog, waitForStates, type Fixture } from '../delivery/fixture.js';
import { greetAndEhlo, startHostileMx, type HostileMx } from './hostile-mx.js';

const DNS = '127.0.71.11';
const STALL = '127.0.71.12'; // takes EHLO, stalls STALL_MS (past slowAttemptAfter), then 421 and closes
const FLAKY = '127.0.71.13'; // stalls like STALL, or delivers at once (`flakyMode`)
const GOOD = '127.0.71.14';
const SLOW_AFTER_MS = 1000;
const STALL_MS = 2500;
const EVIL = ['evil1.test', 'evil2.test', 'evil3.test'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('attack: a hostile domain retried, its slowness remembered (delivery.slowMemory)', () => {
  let dns: DnsServer;
  let stall: HostileMx;
  let flaky: HostileMx;
  let good: Receiver;
  let f: Fixture | undefined;
  let flakyMode: 'stall' | 'deliver' = 'stall';
  let flakyDelivered = 0;
  /** Every hostile session (STALL and FLAKY), in the order they opened. */
  const sessions: { socket: net.Socket; closed: boolean }[] = [];
  const openSessions = () => sessions.filter((s) => !s.closed);

  /** Greets, takes EHLO, waits STALL_MS, then refuses with 421 and closes (a temporary failure: retried). */
  async function stallThen421(s: Parameters<Parameters<typeof startHostileMx>[1]>[0]): Promise<void> {
    s.write('220 hostile.test ESMTP\r\n');
    if (await s.line() === null) return;
    await sleep(STALL_MS);
    s.write('421 4.3.2 try again later\r\n');
    s.socket.end();
  }

  before(async () => {
    dns = await startDnsServer({ host: DNS });
    const track = (socket: net.Socket) => {
      const entry = { socket, closed: false };
      sessions.push(entry);
      socket.once('close', () => { entry.closed = true; });
    };
    stall = await startHostileMx(STALL, async (s) => { track(s.socket); await stallThen421(s); });
    flaky = await startHostileMx(FLAKY, async (s) => {
      track(s.socket);
      if (flakyMode === 'stall') { await stallThen421(s); return; }
      if (!await greetAndEhlo(s, ['8BITMIME'])) return;
      let inData = false;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (inData) { if (l === '.') { inData = false; flakyDelivered++; s.write('250 2.0.0 queued\r\n'); } continue; }
        if (l.startsWith('MAIL') || l.startsWith('RCPT') || l.startsWith('RSET')) s.write('250 ok\r\n');
        else if (l === 'DATA') { inData = true; s.write('354 go\r\n'); }
        else if (l === 'QUIT') { s.write('221 bye\r\n'); s.socket.end(); return; }
      }
    }, stall.port);
    good = await startReceiver({ host: GOOD, port: stall.port });
    const zone: Parameters<DnsServer['setZone']>[0] = {
      'mx.stall.test': { A: [STALL] }, 'mx.flaky.test': { A: [FLAKY] }, 'mx.ok.test': { A: [GOOD] },
      'ok.test': { MX: [{ exchange: 'mx.ok.test', priority: 10 }] },
      'flaky.test': { MX: [{ exchange: 'mx.flaky.test', priority: 10 }] },
    };
    for (const d of EVIL) zone[d] = { MX: [{ exchange: 'mx.stall.test', priority: 10 }] };
    dns.setZone(zone);
  });
  after(async () => { await Promise.all([stall.close(), flaky.close(), good.close(), dns.close()]); });
  afterEach(async () => {
    await f?.close();
    f = undefined;
    good.messages.length = 0;
    for (const until = Date.now() + 3000; openSessions().length > 0 && Date.now() < until;) await sleep(20);
    sessions.length = 0;
    flakyMode = 'stall';
    flakyDelivered = 0;
  });

  const overrides = (o: Record<string, unknown> = {}) => ({
    'delivery.concurrency': 2, 'delivery.slowAttemptAfter': `${SLOW_AFTER_MS}ms`, 'delivery.commandTimeout': '10s', 'delivery.connectTimeout': '10s',
    'delivery.retrySchedule': { initial: '200ms', factor: 1, max: '200ms', jitter: 0 }, ...o,
  });

  /** Waits until `n` hostile sessions have opened in all and the last two are both open (the second wave). */
  async function secondWave(fx: Fixture, n: number): Promise<void> {
    for (const until = Date.now() + 10_000; !(sessions.length >= n && openSessions().length === 2);) {
      assert.ok(Date.now() < until, `${sessions.length} hostile sessions opened, ${openSessions().length} open`);
      await sleep(10);
    }
    void fx;
  }

  it('as many hostile domains as delivery.concurrency: their retries start in the slow lane, good mail flows at once', async () => {
    f = await createFixture({ port: stall.port, dns, overrides: overrides() });
    f.scheduler.start();
    for (const d of EVIL.slice(0, 2)) await enqueue(f, { from: 'a@sender.test', to: [`welcome@${d}`] });
    // First wave: both normal slots held until the attempts cross the threshold (remembered then),
    // then each MX refuses with 421; the retries (200 ms later) open the second wave.
    await waitForLog(f, (l) => l.event === 'delivery.slow_attempt' && l.domain === EVIL[0]);
    await waitForLog(f, (l) => l.event === 'delivery.slow_attempt' && l.domain === EVIL[1]);
    assert.equal(f.scheduler.slowDestinations, 2);
    await secondWave(f, 4);
    const wave2 = openSessions();
    // The second wave's attempts are younger than slowAttemptAfter, yet hold no normal slot.
    assert.deepEqual(f.scheduler.lanes, { fast: 0, slow: 2 });
    const id = await enqueue(f, { from: 'a@sender.test', to: ['reset@ok.test'] });
    await waitForStates(f, id, ['delivered'], 5000);
    assert.ok(wave2.every((s) => !s.closed), 'delivered while both hostile retries still hold their sessions');
    assert.equal(f.logs.filter((l) => l.event === 'delivery.slow_attempt').length, 2, 'before any retry crossed the threshold: no normal slot was needed from them');
    assert.equal(good.messages.length, 1);
  });

  it('control: with nothing remembered (slowMemory.destinations 0) the retries hold both normal slots again', async () => {
    f = await createFixture({ port: stall.port, dns, overrides: overrides({ 'delivery.slowMemory': { destinations: 0 } }) });
    f.scheduler.start();
    for (const d of EVIL.slice(0, 2)) await enqueue(f, { from: 'a@sender.test', to: [`welcome@${d}`] });
    await secondWave(f, 4);
    assert.deepEqual(f.scheduler.lanes, { fast: 2, slow: 0 }, 'the second wave holds every normal slot for its first slowAttemptAfter');
    assert.equal(f.scheduler.slowDestinations, 0);
    const id = await enqueue(f, { from: 'a@sender.test', to: ['reset@ok.test'] });
    await waitForStates(f, id, ['delivered'], 5000);
    // It got a slot only once a second-wave attempt crossed the threshold (the good mail waited for it).
    assert.ok(f.logs.filter((l) => l.event === 'delivery.slow_attempt').length >= 3);
  });

  it('a destination that answers fast again is forgotten', async () => {
    f = await createFixture({ port: stall.port, dns, overrides: overrides() });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'a@sender.test', to: ['user@flaky.test'] });
    await waitForLog(f, (l) => l.event === 'delivery.slow_attempt' && l.domain === 'flaky.test');
    assert.equal(f.scheduler.remembersSlow('flaky.test'), true);
    flakyMode = 'deliver'; // the stalled attempt gets its 421; the retry is delivered at once
    await waitForStates(f, id, ['delivered'], 10_000);
    await waitForLog(f, (l) => l.event === 'delivery.slow_destination_forgotten' && l.domain === 'flaky.test');
    assert.equal(f.scheduler.remembersSlow('flaky.test'), false);
    const id2 = await enqueue(f, { from: 'a@sender.test', to: ['other@flaky.test'] });
    await waitForStates(f, id2, ['delivered'], 5000);
    assert.equal(flakyDelivered, 2);
    assert.equal(f.scheduler.slowDestinations, 0);
    assert.equal(f.logs.filter((l) => l.event === 'delivery.slow_attempt').length, 1, 'only the stalled attempt crossed');
  });

  it('the memory is bounded (slowMemory.destinations): three slow domains, two remembered', async () => {
    f = await createFixture({ port: stall.port, dns, overrides: overrides({ 'delivery.concurrency': 4, 'delivery.slowMemory': { destinations: 2, ttl: '1h' } }) });
    f.scheduler.start();
    for (const d of EVIL) await enqueue(f, { from: 'a@sender.test', to: [`welcome@${d}`] });
    for (const d of EVIL) await waitForLog(f, (l) => l.event === 'delivery.slow_attempt' && l.domain === d);
    assert.equal(f.scheduler.slowDestinations, 2);
    assert.equal(EVIL.filter((d) => f!.scheduler.remembersSlow(d)).length, 2);
  });
});
