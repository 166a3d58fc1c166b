// Egress sources end to end on loopback: the relay binds each connection to its source's address
// (127.0.0.10, 127.0.0.11, …) and says its EHLO name; the receiving MX (127.0.0.2) records which
// source each message came from. Routing of an account to a pool; warmup caps holding per day with
// an injected clock; overflow to a warm source; deferral with no attempt counted; a paused source
// gets nothing. No bounce anywhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newQueueId } from '../../src/message/ids.js';
import type { MessageMeta } from '../../src/store/platform-store.js';
import { freePort } from '../helpers/free-port.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { createFixture, ManualClock, waitForStates, type Fixture } from './fixture.js';

const MX = '127.0.0.2';
const src = (name: string, address: string, pool: string, warmup: { schedule: string; start: string } | null = null) =>
  ({ name, address, ehlo: `${name}.relay.test`, pool, warmup });
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY = 86_400_000;

async function send(f: Fixture, to: string, meta?: Partial<MessageMeta>, now = f.clock.now()): Promise<string> {
  const id = newQueueId();
  const w = f.store.createBody(id);
  await w.write(Buffer.from(`From: a@sender.test\r\nTo: ${to}\r\nSubject: ${id}\r\n\r\nhello\r\n`));
  await w.finish();
  await f.store.put({
    id, mailFrom: 'a@sender.test', recipients: [to], size: w.bytesWritten, receivedAt: now,
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay',
    meta: { account: 'default', tags: [], metadata: {}, stream: 'transactional', ...meta },
  });
  f.scheduler.notify();
  return id;
}

const from = (mx: Receiver, address: string) => mx.messages.filter((m) => m.remoteAddress === address);

describe('egress sources', () => {
  let dns: DnsServer;
  let mx: Receiver;
  let port: number;
  before(async () => {
    port = await freePort();
    mx = await startReceiver({ host: MX, port, tls: false });
    dns = await startDnsServer();
    for (const d of ['example.test', 'acme.test', 'gmail.com']) dns.set(d, 'MX', [{ exchange: 'mx.example.test', priority: 10 }]);
    dns.set('mx.example.test', 'A', [MX]);
  });
  after(async () => { await mx.close(); await dns.close(); });

  it('binds to the source of the pool its account is routed to, says its EHLO name, and records the source on the event', async () => {
    const f = await createFixture({ port, dns, overrides: { egress: {
      sources: [src('mta1', '127.0.0.10', 'transactional'), src('mta2', '127.0.0.11', 'bulk')],
      routes: [{ account: 'acme', pool: 'bulk' }], defaultPool: 'transactional',
    } } });
    try {
      await f.store.addAccount({ name: 'acme', createdAt: Date.now(), limits: {} });
      mx.messages.length = 0;
      const a = await send(f, 'r1@example.test');
      const b = await send(f, 'r2@acme.test', { account: 'acme' });
      f.scheduler.start();
      await waitForStates(f, a, ['delivered']);
      await waitForStates(f, b, ['delivered']);
      const first = mx.messages.find((m) => m.rcptTo[0] === 'r1@example.test')!;
      const second = mx.messages.find((m) => m.rcptTo[0] === 'r2@acme.test')!;
      assert.deepEqual([first.remoteAddress, first.ehlo], ['127.0.0.10', 'mta1.relay.test']);
      assert.deepEqual([second.remoteAddress, second.ehlo], ['127.0.0.11', 'mta2.relay.test']);
      const ev = await f.store.listEvents({ account: 'default', messageId: a, types: ['delivered'] });
      assert.equal(ev[0]?.data.source, 'mta1');
      assert.deepEqual((await f.store.getMessage(b))!.attempts.map((x) => [x.status, x.source]), [['delivered', 'mta2']], 'and on the attempt history');
    } finally { await f.close(); }
  });

  it('warmup: a warming source takes its cap per provider and day; the rest overflows to the warm source of the pool', async () => {
    const clock = new ManualClock(Date.parse('2026-12-04T10:00:00Z'));
    const f = await createFixture({ port, dns, clock, overrides: { egress: {
      sources: [src('fresh', '127.0.0.12', 'p', { schedule: 'tiny', start: isoDay(clock.ms) }), src('warm', '127.0.0.13', 'p')],
      defaultPool: 'p', warmupSchedules: { tiny: [{ day: 1, perProvider: 2 }, { day: 2, perProvider: 4 }] },
    } } });
    try {
      mx.messages.length = 0;
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await send(f, `g${i}@gmail.com`));
      f.scheduler.start();
      for (const id of ids) assert.equal((await waitForStates(f, id, ['delivered'])).recipients[0]!.attempts, 1);
      assert.equal(from(mx, '127.0.0.12').length, 2, 'the warming source took exactly its day-1 cap for gmail');
      assert.equal(from(mx, '127.0.0.13').length, 4, 'the rest overflowed to the warm source');
      assert.deepEqual(await f.store.readWarmup(Math.floor(clock.ms / DAY)), [{ source: 'fresh', provider: 'gmail', day: Math.floor(clock.ms / DAY), n: 2 }]);
    } finally { await f.close(); }
  });

  it('warmup without overflow: the job waits for the next day, no attempt counted, never a bounce; the next day\'s cap holds', async () => {
    const clock = new ManualClock(Date.parse('2026-12-04T10:00:00Z'));
    const f = await createFixture({ port, dns, clock, overrides: { egress: {
      sources: [src('fresh', '127.0.0.14', 'p', { schedule: 'tiny', start: isoDay(clock.ms) })],
      pools: [{ name: 'p', overflow: false }], defaultPool: 'p', warmupSchedules: { tiny: [{ day: 1, perProvider: 2 }, { day: 2, perProvider: 4 }] },
    } } });
    try {
      mx.messages.length = 0;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push(await send(f, `w${i}@gmail.com`));
      f.scheduler.start();
      await mx.waitFor(2, 10_000);
      const waiting = await waitUntil(async () => {
        const views = await Promise.all(ids.map((id) => f.store.getMessage(id)));
        const w = views.filter((m) => m!.recipients[0]!.state !== 'delivered');
        return w.length === 5 && w.every((m) => m!.recipients[0]!.nextAttemptAt! >= Date.parse('2026-12-05T00:00:00Z')) ? w : null;
      });
      for (const m of waiting) {
        assert.equal(m!.recipients[0]!.attempts, 0, 'no attempt counted');
        assert.equal(m!.recipients[0]!.state, 'queued');
      }
      assert.equal(mx.messages.length, 2);
      clock.ms = Date.parse('2026-12-05T00:00:01Z'); // day 2: cap 4
      f.scheduler.notify();
      await mx.waitFor(6, 10_000);
      const delivered = async () => (await Promise.all(ids.map((id) => f.store.getMessage(id)))).filter((m) => m!.recipients[0]!.state === 'delivered').length;
      await waitUntil(async () => (await delivered()) === 6 && f.logs.filter((l) => l.event === 'delivery.source_wait').length >= 6 ? true : null);
      assert.equal(mx.messages.length, 6, 'day 2 took 4 more, not 5');
      clock.ms = Date.parse('2026-12-06T00:00:01Z'); // day 3: past the schedule, warm
      f.scheduler.notify();
      for (const id of ids) assert.equal((await waitForStates(f, id, ['delivered'])).recipients[0]!.attempts, 1);
      assert.equal(from(mx, '127.0.0.14').length, 7);
      assert.equal(f.logs.some((l) => l.event === 'delivery.bounced' || l.event === 'delivery.deferred'), false, 'no bounce, no deferral counted');
    } finally { await f.close(); }
  });

  it('a paused source gets nothing; a pool with only paused sources waits, then sends once resumed', async () => {
    const f = await createFixture({ port, dns, overrides: { egress: {
      sources: [src('a', '127.0.0.15', 'p'), src('b', '127.0.0.16', 'p'), src('solo', '127.0.0.17', 'q')],
      routes: [{ stream: 'broadcast', pool: 'q' }], defaultPool: 'p', refreshInterval: '50ms',
    } } });
    try {
      mx.messages.length = 0;
      await f.store.setSourceState('b', 'paused', Date.now());
      await f.store.setSourceState('solo', 'draining', Date.now());
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await send(f, `p${i}@example.test`));
      const held = await send(f, 'news@example.test', { stream: 'broadcast' });
      f.scheduler.start();
      for (const id of ids) await waitForStates(f, id, ['delivered']);
      assert.equal(from(mx, '127.0.0.15').length, 4);
      assert.equal(from(mx, '127.0.0.16').length, 0, 'the paused source sent nothing');
      await waitUntil(async () => f.logs.some((l) => l.event === 'delivery.source_wait' && l.id === held) ? true : null);
      const m = await f.store.getMessage(held);
      assert.equal(m!.recipients[0]!.attempts, 0);
      assert.notEqual(m!.recipients[0]!.state, 'bounced');
      await f.store.setSourceState('solo', 'active', Date.now());
      await waitForStates(f, held, ['delivered'], 15_000);
      assert.equal(from(mx, '127.0.0.17').length, 1);
    } finally { await f.close(); }
  });
});

async function waitUntil<T>(check: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}
