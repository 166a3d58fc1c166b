// End to end: signed webhooks from a real relay process. A test DNS server and a receiving MX that
// answers 4xx/5xx for some recipients produce delivered, deferred and bounced outcomes; a local
// HTTP receiver (node:http on 127.0.0.1) has every request verified by python3, independently of
// Postlane's code: the documented Postlane-Signature recipe and a Standard Webhooks verifier
// written from the specification (test/helpers/webhook-verifiers.ts). The receiver then fails (500, then connection refused)
// and recovers: every stored event still arrives. A receiver failing for webhooks.disableAfter gets
// its webhook disabled (event + log line) while mail keeps being delivered. /metrics moves.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';
import { PythonWebhookVerifier, pythonVerifies } from '../helpers/webhook-verifiers.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

// Without python3 nothing here is verified independently: required (a failure under CI).
const skip = await skipUnless(TOOLS.python3);
let verifier: PythonWebhookVerifier;

const PASSWORD = 'correct horse battery';

interface ReceivedEvent { id: string; type: string; at: string; message_id: string | null; recipient: string | null; data: Record<string, unknown> }
interface ReceivedPost {
  raw: Buffer; header: string; idempotencyKey: string; standardId: string;
  /** python3's verdicts: the documented Postlane-Signature recipe, and Standard Webhooks. */
  verified: boolean; standardVerified: boolean; events: ReceivedEvent[];
}

/**
 * A webhook receiver: answers `status` (200 by default); `down()` closes the port (connection
 * refused) and `up()` listens on the same port again. Every POST is kept with its verdict.
 */
class HookReceiver {
  posts: ReceivedPost[] = [];
  status = 200;
  port = 0;
  #server: http.Server | null = null;
  constructor(readonly secret: () => string) {}

  get url() { return `http://127.0.0.1:${this.port}/hook`; }
  /** Events from POSTs answered 2xx, in arrival order. */
  accepted: ReceivedEvent[] = [];

  async up(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const raw = Buffer.concat(chunks);
        const header = String(req.headers['postlane-signature'] ?? '');
        const verdict = await verifier.verify(this.secret(), req.headers, raw);
        const verified = verdict.postlane;
        const events = (JSON.parse(raw.toString('utf8')) as { events: ReceivedEvent[] }).events;
        this.posts.push({
          raw, header, idempotencyKey: String(req.headers['idempotency-key']), standardId: String(req.headers['webhook-id']),
          verified, standardVerified: verdict.standard, events,
        });
        const status = verified && verdict.standard ? this.status : 401;
        if (status >= 200 && status < 300) this.accepted.push(...events);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

let dns: DnsServer;
let mx: Receiver;
let relay: RelayProcess;
let token: string;
let secret = '';
const hooks = new HookReceiver(() => secret);

async function api<T>(r: RelayProcess, key: string, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${r.port('http')}${path}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

/** Every stored event of the account (GET /v1/events, all pages). */
async function storedEvents(r: RelayProcess, key: string): Promise<ReceivedEvent[]> {
  const out: ReceivedEvent[] = [];
  let cursor = '';
  for (;;) {
    const page = await api<{ data: ReceivedEvent[]; next_cursor: string }>(r, key, `/v1/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...page.data);
    if (page.data.length < 1000) return out;
    cursor = page.next_cursor;
  }
}

async function setupRelay(config: Record<string, unknown>): Promise<{ relay: RelayProcess; token: string }> {
  const r = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms', connectTimeout: '3s', retrySchedule: { initial: '2s', factor: 1, max: '2s', jitter: 0 } },
    ...config,
  });
  const add = await r.cli(['users', 'add', 'alice', '--domain', 'example.com'], PASSWORD + '\n');
  assert.equal(add.code, 0, add.stderr);
  const key = await r.cli(['keys', 'create', '--account', 'default', '--scope', 'read']);
  assert.equal(key.code, 0, key.stderr);
  return { relay: r, token: key.stdout.trim() };
}

async function addWebhook(r: RelayProcess, url: string, events?: string): Promise<{ id: string; secret: string }> {
  const out = await r.cli(['webhooks', 'add', '--account', 'default', '--url', url, '--json', ...(events ? ['--events', events] : [])]);
  assert.equal(out.code, 0, out.stderr);
  const w = JSON.parse(out.stdout) as { id: string; secret: string };
  assert.match(w.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  return w;
}

function message(marker: string, to: string[]): string {
  return `From: alice@example.com\r\nTo: ${to.join(', ')}\r\nSubject: ${marker}\r\nMessage-ID: <${marker}@example.com>\r\n\r\nbody ${marker}\r\n`;
}

before(async () => {
  if (skip) return;
  verifier = await PythonWebhookVerifier.start();
  dns = await startDnsServer();
  mx = await startReceiver({
    host: '127.0.0.2',
    behaviour: {
      rcpt: (addr: string) => {
        if (addr.startsWith('busy@')) return { code: 451, message: '4.2.1 Mailbox busy, try later' };
        if (addr.startsWith('nobody@')) return { code: 550, message: '5.1.1 No such user here' };
        return null;
      },
    },
  });
  dns.setZone({
    'example.net': { MX: [{ exchange: 'mx.example.net', priority: 10 }] },
    'example.com': { MX: [{ exchange: 'mx.example.net', priority: 10 }] },
    'mx.example.net': { A: ['127.0.0.2'] },
  });
  await hooks.up();
  ({ relay, token } = await setupRelay({ webhooks: { pollInterval: '200ms', timeout: '2s', allowPrivateDestinations: true } }));
  secret = (await addWebhook(relay, hooks.url)).secret;
  await relay.start();
});

after(async () => {
  await relay?.cleanup();
  await hooks.down();
  verifier?.close();
  await Promise.all([mx?.close(), dns?.close()]);
});

const seqOf = (id: string) => Number(id.replace(/^ev_/, ''));

test('delivered, deferred and bounced mail: the receiver gets signed events with recipients, bounce type and remote code, in order per message', { skip }, async () => {
  const marker = `wh-${Date.now()}`;
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const reply = await sub.send('alice@example.com', ['ok@example.net', 'busy@example.net', 'nobody@example.net'], message(marker, ['ok@example.net']));
  sub.close();
  const id = queueIdOf(reply)!;
  assert.ok(id, reply);
  const ofMessage = () => hooks.accepted.filter((e) => e.message_id === id);
  const byType = (type: string, rcpt: string) => ofMessage().find((e) => e.type === type && e.recipient === rcpt);
  await eventually(() => byType('delivered', 'ok@example.net') && byType('deferred', 'busy@example.net') && byType('bounced', 'nobody@example.net'), 20_000);

  for (const rcpt of ['ok@example.net', 'busy@example.net', 'nobody@example.net']) assert.ok(byType('accepted', rcpt), `accepted ${rcpt}`);
  const bounced = byType('bounced', 'nobody@example.net')!;
  assert.equal(bounced.data.bounceType, 'hard');
  assert.equal(bounced.data.code, 550);
  assert.equal(bounced.data.enhanced, '5.1.1');
  assert.match(String(bounced.data.response), /No such user here/);
  const deferred = byType('deferred', 'busy@example.net')!;
  assert.match(String(deferred.data.response), /^451 .*Mailbox busy/);
  assert.equal(typeof deferred.data.nextAttemptAt, 'number');
  const delivered = byType('delivered', 'ok@example.net')!;
  assert.match(String(delivered.data.response), /^250/);
  assert.ok(mx.messages.some((m) => m.body.toString().includes(marker)), 'the MX got the mail');

  // In seq order per message, and each event after that recipient's accepted one.
  const seqs = ofMessage().map((e) => seqOf(e.id));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'events of the message arrive in seq order');
  for (const rcpt of ['ok@example.net', 'busy@example.net', 'nobody@example.net']) {
    const mine = ofMessage().filter((e) => e.recipient === rcpt);
    assert.equal(mine[0]!.type, 'accepted', `${rcpt}: accepted first`);
  }
  // Every request was signed correctly, both ways (python3 judged each one as it arrived); the
  // idempotency key is the batch's first event, the webhook-id its first and last.
  assert.ok(hooks.posts.length > 0);
  for (const p of hooks.posts) {
    assert.equal(p.verified, true, `Postlane-Signature ${p.header}`);
    assert.equal(p.standardVerified, true, `Standard Webhooks signature of ${p.standardId}`);
    assert.equal(p.idempotencyKey, p.events[0]!.id);
    assert.equal(p.standardId, `${p.events[0]!.id}-${p.events.at(-1)!.id}`);
  }
  // The same verifiers refuse a changed body and another secret: their "true" means something.
  const sample = hooks.posts.find((p) => p.events.some((e) => e.message_id === id))!;
  assert.equal(await pythonVerifies(secret, sample.header, Buffer.concat([sample.raw, Buffer.from('\n')])), false);
  const replayHeaders = { 'postlane-signature': sample.header, 'webhook-id': sample.standardId, 'webhook-timestamp': /t=(\d+)/.exec(sample.header)![1]! };
  const wrong = await verifier.verify(secret, { ...replayHeaders, 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') }, sample.raw);
  assert.equal(wrong.standard, false, 'a wrong Standard Webhooks signature is refused');
  const tampered = await verifier.verify(secret, replayHeaders, Buffer.concat([sample.raw, Buffer.from(' ')]));
  assert.deepEqual(tampered, { postlane: false, standard: false });
});

test('the receiver fails (HTTP 500, then connection refused) and recovers: no event is lost', { skip }, async (t) => {
  hooks.status = 500;
  const mark = relay.logs.length;
  const failedSince = (pred: (l: Record<string, unknown>) => boolean) => () => relay.logs.slice(mark).find((l) => l.event === 'webhook.failed' && pred(l));
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(queueIdOf(await sub.send('alice@example.com', [`ok${i}@example.net`], message(`outage-${i}-${Date.now()}`, [`ok${i}@example.net`])))!);
  sub.close();
  // The first POST after the submissions is refused with a 500...
  await eventually(failedSince((l) => l.status === 500), 20_000);
  // ...then nothing listens: the retry (after ~5 s) gets a connection error.
  await hooks.down();
  await eventually(failedSince((l) => l.status === null), 20_000);
  // Mail delivery went on meanwhile.
  for (const id of ids) await eventually(() => mx.messages.some((m) => m.body.toString().includes(`outage-${ids.indexOf(id)}-`)), 20_000);
  hooks.status = 200;
  await hooks.up();

  // Every event stored so far arrives (the deferred recipient keeps producing new ones: a snapshot).
  const stored = await storedEvents(relay, token);
  for (const id of ids) {
    assert.ok(stored.some((e) => e.message_id === id && e.type === 'accepted'), `accepted of ${id} stored`);
    assert.ok(stored.some((e) => e.message_id === id && e.type === 'delivered'), `delivered of ${id} stored`);
  }
  await eventually(() => {
    const got = new Set(hooks.accepted.map((e) => e.id));
    return stored.every((e) => got.has(e.id));
  }, 40_000, 100);
  const counts = new Map<string, number>();
  for (const e of hooks.accepted) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  t.diagnostic(`${stored.length} events stored; ${hooks.accepted.length} received in ${hooks.posts.length} POSTs; ${duplicates} delivered more than once`);
  for (const p of hooks.posts) assert.ok(p.verified && p.standardVerified);
  // Received events are the stored ones, field for field.
  const storedById = new Map(stored.map((e) => [e.id, e]));
  for (const e of hooks.accepted) if (storedById.has(e.id)) assert.deepEqual(e, storedById.get(e.id));
  const attempts = await relay.cli(['webhooks', 'attempts', JSON.parse((await relay.cli(['webhooks', 'list', '--json'])).stdout)[0].id, '--json', '--limit', '200']);
  assert.equal(attempts.code, 0, attempts.stderr);
  const log = JSON.parse(attempts.stdout) as { ok: boolean; status: number | null }[];
  assert.ok(log.some((a) => !a.ok && a.status === 500) && log.some((a) => !a.ok && a.status === null) && log.some((a) => a.ok), 'attempt log shows both failures and the recovery');
});

test('GET /metrics (on the metrics listener) shows accepted, delivery, webhook failure counters and queue depth', { skip }, async () => {
  const res = await fetch(`http://127.0.0.1:${relay.port('metrics')}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };
  assert.ok(value('postlane_messages_accepted_total{account="default",listener="submission"}') >= 4);
  assert.ok(value('postlane_deliveries_total{account="default",domain="example.net",outcome="delivered"}') >= 4);
  assert.ok(value('postlane_deliveries_total{account="default",domain="example.net",outcome="deferred"}') >= 1);
  assert.ok(value('postlane_deliveries_total{account="default",domain="example.net",outcome="bounced"}') >= 1);
  assert.ok(value('postlane_delivery_latency_seconds_count{outcome="delivered"}') >= 4);
  assert.ok(value('postlane_webhook_failures_total{account="default"}') >= 2);
  assert.ok(value('postlane_webhook_deliveries_total{account="default",outcome="ok"}') >= 1);
  assert.ok(value('postlane_queue_depth{state="deferred"}') + value('postlane_queue_depth{state="delivering"}') >= 1, 'busy@ is waiting');
  assert.match(text, /process_resident_memory_bytes \d+/);
});

test('a receiver failing for webhooks.disableAfter is disabled (event + log line) while mail is delivered', { skip }, async () => {
  let failingSecret = '';
  let healthySecret = '';
  const failing = new HookReceiver(() => failingSecret);
  failing.status = 500;
  const healthy = new HookReceiver(() => healthySecret);
  await failing.up();
  await healthy.up();
  const { relay: r, token: key } = await setupRelay({ webhooks: { pollInterval: '200ms', timeout: '2s', disableAfter: '3s', retryFor: '4s', allowPrivateDestinations: true } });
  try {
    const bad = await addWebhook(r, failing.url);
    failingSecret = bad.secret;
    healthySecret = (await addWebhook(r, healthy.url, 'webhook.disabled,delivered')).secret;
    await r.start();
    const sub = new Submitter({ port: r.port('submission'), user: 'alice', pass: PASSWORD });
    const marker = `disable-${Date.now()}`;
    await sub.send('alice@example.com', ['ok@example.net'], message(marker, ['ok@example.net']));
    await eventually(() => mx.messages.some((m) => m.body.toString().includes(marker)), 20_000);

    const line = await r.waitForLog((l) => l.event === 'webhook.disabled', 30_000);
    assert.equal(line.webhookId, bad.id);
    assert.equal(line.level, 40, 'a warning');
    assert.ok(r.logs.some((l) => l.event === 'webhook.gave_up' && l.webhookId === bad.id), 'its events were given up after retryFor');
    assert.ok(failing.posts.length >= 2 && failing.posts.every((p) => p.verified && p.standardVerified));

    const postsWhileDisabled = failing.posts.length;
    // Mail is still delivered after the webhook was disabled.
    const after = `after-${Date.now()}`;
    await sub.send('alice@example.com', ['ok@example.net'], message(after, ['ok@example.net']));
    sub.close();
    await eventually(() => mx.messages.some((m) => m.body.toString().includes(after)), 20_000);

    const list = JSON.parse((await r.cli(['webhooks', 'list', '--json'])).stdout) as { id: string; enabled: boolean; disabledReason: string | null }[];
    const w = list.find((x) => x.id === bad.id)!;
    assert.equal(w.enabled, false);
    assert.match(w.disabledReason ?? '', /HTTP 500/);
    const stored = await storedEvents(r, key);
    const disabled = stored.find((e) => e.type === 'webhook.disabled');
    assert.ok(disabled, 'a webhook.disabled event is stored');
    assert.equal(disabled.data.webhookId, bad.id);
    // ...and sent to the account's other webhook, which subscribed to it.
    await eventually(() => healthy.accepted.some((e) => e.type === 'webhook.disabled' && e.data.webhookId === bad.id), 20_000);
    assert.ok(healthy.accepted.every((e) => e.type === 'webhook.disabled' || e.type === 'delivered'), 'the healthy webhook only gets the types it asked for');
    // The dispatcher has sent the events of the mail delivered after the disabling (to the healthy
    // webhook): the disabled one got nothing meanwhile.
    const afterId = await eventually(async () => (await storedEvents(r, key))
      .find((e) => e.type === 'delivered' && e.recipient === 'ok@example.net' && e.at > disabled.at)?.message_id, 20_000);
    await eventually(() => healthy.accepted.some((e) => e.type === 'delivered' && e.message_id === afterId), 20_000);
    assert.equal(failing.posts.length, postsWhileDisabled, 'a disabled webhook gets no POSTs');

    const enable = await r.cli(['webhooks', 'enable', bad.id]);
    assert.equal(enable.code, 0, enable.stderr);
    assert.equal((JSON.parse((await r.cli(['webhooks', 'list', '--json'])).stdout) as { id: string; enabled: boolean }[]).find((x) => x.id === bad.id)!.enabled, true);
  } finally {
    await r.cleanup();
    await failing.down();
    await healthy.down();
  }
});
