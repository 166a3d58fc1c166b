// The webhook dispatcher against an in-memory outbox (the store contract's webhook methods) and a
// real HTTP receiver on 127.0.0.1 that checks every signature.
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createLogger } from './log.js';
import { verifySignature } from './webhook-signature.js';
import { WebhookDispatcher, type WebhookPayload, type WebhookStore } from './webhooks.js';
import type { MessageEvent, Webhook, WebhookAttempt, WebhookBatch } from '../store/platform-store.js';

const SECRET = 'whsec_unit';

/** A minimal outbox with the contract's semantics: one leased batch per webhook, seq order, retryAt null drops. */
class FakeOutbox implements WebhookStore {
  webhooks = new Map<string, Webhook>();
  pending: { webhookId: string; event: MessageEvent; dueAt: number; attempts: number; lease: number }[] = [];
  attempts: WebhookAttempt[] = [];
  appended: MessageEvent[] = [];
  failClaims = 0;
  claims = 0;
  #seq = 0;

  addWebhook(id: string, url: string, over: Partial<Webhook> = {}): Webhook {
    const w: Webhook = { id, account: 'acme', url, events: [], secret: SECRET, enabled: true, createdAt: 0, disabledAt: null, disabledReason: null, ...over };
    this.webhooks.set(id, w);
    return w;
  }

  emit(webhookId: string, at: number, type: MessageEvent['type'] = 'delivered', messageId = 'M1', recipient = 'bob@example.net'): MessageEvent {
    const seq = ++this.#seq;
    const event: MessageEvent = { id: `ev_${seq}`, seq, at, account: 'acme', type, messageId, recipient, data: { code: 250 } };
    this.pending.push({ webhookId, event, dueAt: at, attempts: 0, lease: 0 });
    return event;
  }

  async claimWebhookBatches(o: { now: number; limit: number; batchSize: number; leaseMs: number; owner: string }): Promise<WebhookBatch[]> {
    this.claims++;
    if (this.failClaims > 0) { this.failClaims--; throw new Error('database is locked'); }
    const out: WebhookBatch[] = [];
    for (const w of this.webhooks.values()) {
      if (out.length >= o.limit) break;
      if (!w.enabled) continue;
      const mine = this.pending.filter((p) => p.webhookId === w.id).sort((a, b) => a.event.seq - b.event.seq);
      if (mine.some((p) => p.lease > o.now)) continue;
      const due = mine.filter((p) => p.dueAt <= o.now).slice(0, o.batchSize);
      if (due.length === 0) continue;
      for (const p of due) p.lease = o.now + o.leaseMs;
      out.push({ webhook: { ...w }, events: due.map((p) => p.event), attempts: due[0]!.attempts, firstDueAt: due[0]!.event.at, leaseUntil: o.now + o.leaseMs });
    }
    return out;
  }

  async recordWebhookAttempt(a: WebhookAttempt, retryAt: number | null): Promise<void> {
    this.attempts.push(a);
    const ids = new Set(a.eventIds);
    for (const p of this.pending.filter((x) => x.webhookId === a.webhookId && ids.has(x.event.id))) {
      p.lease = 0;
      if (a.ok || retryAt === null) this.pending.splice(this.pending.indexOf(p), 1);
      else { p.dueAt = retryAt; p.attempts++; }
    }
  }

  async setWebhookEnabled(account: string, id: string, enabled: boolean, reason: string | null, at: number): Promise<boolean> {
    const w = this.webhooks.get(id);
    if (!w || w.account !== account) return false;
    Object.assign(w, { enabled, disabledReason: enabled ? null : reason, disabledAt: enabled ? null : at });
    return true;
  }

  async appendEvents(events: Omit<MessageEvent, 'id' | 'seq'>[]): Promise<MessageEvent[]> {
    const out = events.map((e) => { const seq = ++this.#seq; return { ...e, id: `ev_${seq}`, seq }; });
    this.appended.push(...out);
    return out;
  }

  async listWebhookAttempts(account: string, webhookId: string, limit: number): Promise<WebhookAttempt[]> {
    return this.attempts.filter((a) => a.webhookId === webhookId && this.webhooks.get(webhookId)?.account === account).reverse().slice(0, limit);
  }
}

interface Received { headers: http.IncomingHttpHeaders; raw: string; payload: WebhookPayload; verified: boolean }

/** An HTTP receiver: answers with `respond(req)` (status) after `delayMs`; verifies each signature. */
async function startReceiver(respond: () => number = () => 200, delayMs = 0) {
  const received: Received[] = [];
  let open = 0, maxOpen = 0;
  const server = http.createServer((req, res) => {
    open++; maxOpen = Math.max(maxOpen, open);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const verified = verifySignature(SECRET, req.headers['postlane-signature'] as string, raw, Date.now()).ok;
      received.push({ headers: req.headers, raw, payload: JSON.parse(raw) as WebhookPayload, verified });
      setTimeout(() => { open--; res.writeHead(respond(), { 'content-type': 'text/plain' }).end('receiver says no'); }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=abc`;
  return {
    url, received, get maxOpen() { return maxOpen; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } }));
  return { lines, logger };
}

const config = (over: Partial<Record<string, number>> = {}) => ({
  // the test receivers listen on loopback: allowed here; the guard itself is tested in webhook-destination.test.ts
  webhooks: { timeout: 2000, batchSize: 100, concurrency: 4, retryFor: 24 * 3600_000, disableAfter: 24 * 3600_000, pollInterval: 50, allowPrivateDestinations: true, concurrencyPerAccount: 100, maxPerAccount: 20, ...over },
});

async function until<T>(fn: () => T, ms = 5000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0)) await c(); });

function dispatcher(store: FakeOutbox, logger = captureLogs().logger, over: Partial<Record<string, number>> = {}, extra: Partial<ConstructorParameters<typeof WebhookDispatcher>[0]> = {}) {
  const d = new WebhookDispatcher({ store, config: config(over), logger, nodeId: 'node-1', random: () => 0.5, ...extra });
  cleanups.push(() => d.stop(1000));
  d.start();
  return d;
}

describe('WebhookDispatcher', () => {
  it('POSTs signed JSON batches in seq order with the idempotency key of the first event', async () => {
    const rx = await startReceiver();
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_1', rx.url);
    const now = Date.now();
    const evs = [store.emit('wh_1', now, 'accepted'), store.emit('wh_1', now, 'deferred'), store.emit('wh_1', now, 'delivered')];
    const seen: WebhookAttempt[] = [];
    dispatcher(store, undefined, {}, { onAttempt: (_w, a) => seen.push(a) });
    await until(() => store.attempts.length === 1);
    assert.equal(rx.received.length, 1);
    const r = rx.received[0]!;
    assert.equal(r.verified, true, 'the signature verifies');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(String(r.headers['user-agent']), /^Postlane\//);
    assert.equal(r.headers['idempotency-key'], evs[0]!.id);
    assert.equal(r.headers['postlane-webhook-id'], 'wh_1');
    assert.deepEqual(r.payload, {
      version: 1, webhook_id: 'wh_1',
      events: evs.map((e) => ({ id: e.id, type: e.type, at: new Date(e.at).toISOString(), message_id: 'M1', recipient: 'bob@example.net', data: { code: 250 } })),
    });
    assert.deepEqual(store.attempts[0]!.eventIds, evs.map((e) => e.id));
    assert.equal(store.attempts[0]!.ok, true);
    assert.equal(store.attempts[0]!.status, 200);
    assert.equal(store.pending.length, 0);
    assert.equal(seen.length, 1);
  });

  it('splits into batches of batchSize and is notified of new events', async () => {
    const rx = await startReceiver();
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_1', rx.url);
    for (let i = 0; i < 5; i++) store.emit('wh_1', Date.now(), 'accepted', `M${i}`);
    const d = dispatcher(store, undefined, { batchSize: 2, pollInterval: 60_000 });
    await until(() => store.pending.length === 0);
    assert.deepEqual(rx.received.map((r) => r.payload.events.length), [2, 2, 1]);
    assert.deepEqual(rx.received.flatMap((r) => r.payload.events.map((e) => e.id)), ['ev_1', 'ev_2', 'ev_3', 'ev_4', 'ev_5'], 'in seq order');
    store.emit('wh_1', Date.now(), 'delivered');
    d.notify();
    await until(() => rx.received.length === 4);
  });

  it('a failure (HTTP 500, refused connection, timeout) is retried with backoff; the response is kept', async () => {
    const rx = await startReceiver(() => 500);
    cleanups.push(rx.close);
    const slow = await startReceiver(() => 200, 1500);
    cleanups.push(slow.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_500', rx.url);
    const closed = await startReceiver();
    await closed.close(); // nothing listens there any more: ECONNREFUSED
    store.addWebhook('wh_refused', closed.url);
    store.addWebhook('wh_slow', slow.url);
    const now = Date.now();
    store.emit('wh_500', now); store.emit('wh_refused', now); store.emit('wh_slow', now);
    const { lines, logger } = captureLogs();
    dispatcher(store, logger, { timeout: 300 });
    await until(() => store.attempts.length === 3);
    const by = (id: string) => store.attempts.find((a) => a.webhookId === id)!;
    assert.equal(by('wh_500').ok, false);
    assert.equal(by('wh_500').status, 500);
    assert.match(by('wh_500').error!, /^HTTP 500: receiver says no/);
    assert.equal(by('wh_refused').status, null);
    assert.match(by('wh_refused').error!, /ECONNREFUSED/);
    assert.equal(by('wh_slow').error, 'timeout');
    for (const p of store.pending) {
      assert.equal(p.attempts, 1);
      const a = store.attempts.find((x) => x.webhookId === p.webhookId)!;
      assert.equal(p.dueAt, a.at + 5000, 'first retry after 5 s (no jitter)');
    }
    const failed = lines.filter((l) => l.event === 'webhook.failed');
    assert.equal(failed.length, 3);
    assert.ok(!JSON.stringify(lines).includes('token=abc'), 'URL query strings are not logged');
  });

  it('gives up on events older than retryFor (webhook.gave_up)', async () => {
    const rx = await startReceiver(() => 503);
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_1', rx.url);
    store.emit('wh_1', Date.now() - 10_000);
    store.emit('wh_1', Date.now() - 10_000);
    const { lines, logger } = captureLogs();
    dispatcher(store, logger, { retryFor: 5_000 });
    const gaveUp = await until(() => lines.find((l) => l.event === 'webhook.gave_up'));
    assert.equal(gaveUp.events, 2);
    assert.equal(gaveUp.webhookId, 'wh_1');
    assert.equal(store.pending.length, 0, 'dropped from the outbox');
    assert.equal(store.attempts.length, 1, 'kept in the attempt log');
    assert.equal(store.webhooks.get('wh_1')!.enabled, true, 'not disabled: it has not failed for disableAfter');
  });

  it('disables a webhook failing continuously for disableAfter: event and log line', async () => {
    const rx = await startReceiver(() => 500);
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_1', rx.url);
    const now = Date.now();
    store.attempts.push(
      { webhookId: 'wh_1', at: now - 60_000, ok: true, status: 200, error: null, durationMs: 1, eventIds: [] },
      { webhookId: 'wh_1', at: now - 20_000, ok: false, status: 500, error: 'HTTP 500', durationMs: 1, eventIds: [] },
    );
    store.emit('wh_1', now);
    const { lines, logger } = captureLogs();
    dispatcher(store, logger, { disableAfter: 10_000 });
    const line = await until(() => lines.find((l) => l.event === 'webhook.disabled'));
    assert.equal(line.level, 40, 'a warning');
    assert.equal(line.failingSince, now - 20_000);
    const w = store.webhooks.get('wh_1')!;
    assert.equal(w.enabled, false);
    assert.match(w.disabledReason!, /HTTP 500/);
    assert.equal(store.appended.length, 1);
    const ev = store.appended[0]!;
    assert.equal(ev.type, 'webhook.disabled');
    assert.equal(ev.account, 'acme');
    assert.equal(ev.data.webhookId, 'wh_1');
    assert.equal(store.pending.length, 1, 'its events stay pending until it is enabled again');
  });

  it('a webhook whose last attempt succeeded is not disabled by one failure', async () => {
    const rx = await startReceiver(() => 500);
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_1', rx.url);
    store.attempts.push({ webhookId: 'wh_1', at: Date.now() - 60_000, ok: true, status: 200, error: null, durationMs: 1, eventIds: [] });
    store.emit('wh_1', Date.now());
    const { lines, logger } = captureLogs();
    const d = dispatcher(store, logger, { disableAfter: 10_000 });
    await until(() => store.attempts.length === 2);
    // The attempt's handling (record, then the disable decision) is over once nothing is in flight.
    await until(() => d.inFlight === 0);
    assert.equal(store.webhooks.get('wh_1')!.enabled, true);
    assert.ok(!lines.some((l) => l.event === 'webhook.disabled'));
  });

  it('bounds concurrent POSTs by webhooks.concurrency', async () => {
    const rx = await startReceiver(() => 200, 100);
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    for (let i = 0; i < 8; i++) { store.addWebhook(`wh_${i}`, rx.url); store.emit(`wh_${i}`, Date.now()); }
    dispatcher(store, undefined, { concurrency: 3 });
    await until(() => store.attempts.length === 8);
    assert.ok(rx.maxOpen <= 3, `at most 3 at once (saw ${rx.maxOpen})`);
    assert.ok(rx.maxOpen >= 2, 'in parallel');
  });

  it('a store that fails is logged once and retried at the next poll; nothing rejects', async () => {
    const rx = await startReceiver();
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_1', rx.url);
    store.emit('wh_1', Date.now());
    store.failClaims = 3;
    let unhandled: unknown = null;
    const onUnhandled = (e: unknown) => { unhandled = e; };
    process.on('unhandledRejection', onUnhandled);
    try {
      const { lines, logger } = captureLogs();
      store.recordWebhookAttempt = async () => { throw new Error('disk I/O error'); };
      dispatcher(store, logger);
      await until(() => lines.some((l) => l.event === 'webhooks.record_failed'));
      assert.equal(lines.filter((l) => l.event === 'webhooks.claim_failed').length, 1, 'logged once per outage');
      assert.ok(lines.some((l) => l.event === 'webhooks.resumed'));
      assert.equal(rx.received.length, 1);
      assert.equal(unhandled, null);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('stop() waits for POSTs in flight, then claims nothing more', async () => {
    const rx = await startReceiver(() => 200, 200);
    cleanups.push(rx.close);
    const store = new FakeOutbox();
    store.addWebhook('wh_1', rx.url);
    store.emit('wh_1', Date.now());
    const d = dispatcher(store);
    await until(() => rx.received.length === 1);
    await d.stop(5000);
    assert.equal(store.attempts.length, 1, 'the POST in flight finished and was recorded');
    const claims = store.claims;
    store.emit('wh_1', Date.now());
    d.notify();
    // A stopped dispatcher has nothing in flight, and a notify() (which would claim after the
    // 100 ms coalescing delay) claims nothing. A correct dispatcher cannot fail this on a slow
    // machine; the wait only gives a wrong one the time to show itself.
    assert.equal(d.inFlight, 0);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(store.claims, claims);
  });
});

describe('WebhookDispatcher and a URL with credentials (secret31)', () => {
  it('keeps no password in the attempt error or the log: fetch refuses such a URL quoting it whole', async () => {
    const store = new FakeOutbox();
    store.addWebhook('wh_creds', 'https://hookuser:CANARYstoredPass@hooks.example.com/in'); // stored before they were refused
    store.emit('wh_creds', Date.now());
    const { lines, logger } = captureLogs();
    dispatcher(store, logger);
    await until(() => store.attempts.length === 1);
    const error = store.attempts[0]!.error!;
    assert.match(error, /credentials: https:\/\/\[redacted\]@hooks\.example\.com\/in/);
    await until(() => lines.some((l) => l.event === 'webhook.failed' || l.event === 'webhook.gave_up'));
    assert.doesNotMatch(JSON.stringify(lines) + error, /CANARY/);
  });
});
