// End to end: /metrics' queue depth never starts SQLite's heavy-read thread (docs/operations.md
// "Metrics"; docs/design/store.md "The heavy reads' thread"). A relay in storage.sqliteThread:
// main, in this process (so the test sees reader-thread.ts' liveReaderThreads), with real sockets:
// mail submitted over SMTP (AUTH), delivered to a receiving MX on loopback that answers 451 to one
// recipient, 550 to another and holds a DATA answer on cue (a delivery in flight), and /metrics
// scraped over HTTP. The first scrape counts the finished states (a heavy read: the thread starts,
// once); every later scrape within the 5 minutes reads only the light queue depth: no thread
// starts, and the gauge follows a deferral, a delivery in flight, a hold, a delivery and a bounce,
// equal at the end to the full counts(). The finished states keep the first scrape's values until
// their next count (at most every 5 minutes, as the gauge's help text says).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/events/log.js';
import { startRelay, type Relay } from '../../src/main.js';
import { liveReaderThreads, readerThreadSettings } from '../../src/store/sqlite/reader-thread.js';
import { hashPassword } from '../../src/users/password.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { eventually } from '../helpers/relay-process.js';
import { Submitter } from '../helpers/smtp-client.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';

const HOST = '127.0.71.1';
const MX = '127.0.71.2';
const PASSWORD = 'queue depth horse';
let dns: DnsServer;
let mx: Receiver;
/** While set, the MX answers each DATA only once it resolves (the delivery stays 'delivering'). */
let gate: Promise<void> | null = null;

before(async () => {
  dns = await startDnsServer({ host: HOST });
  mx = await startReceiver({
    host: MX, port: 0,
    behaviour: {
      rcpt: (a) => (a.startsWith('later@') ? { code: 451, message: '4.2.0 try later' } : a.startsWith('nobody@') ? { code: 550, message: '5.1.1 no such user' } : null),
      holdData: () => gate ?? Promise.resolve(),
    },
  });
  const zone = { MX: [{ exchange: 'mx.example.net', priority: 10 }] };
  dns.setZone({ 'example.net': zone, 'example.com': zone, 'mx.example.net': { A: [MX] } });
});
after(async () => { await Promise.all([mx?.close(), dns?.close()]); });

/** postlane_queue_depth by state, from the text format. */
function depth(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^postlane_queue_depth\{state="(\w+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

test('storage.sqliteThread: main: /metrics scrapes read the light queue depth and never start the heavy-read thread', { timeout: 90_000 }, async (t) => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-depth-'));
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  const idle = readerThreadSettings.idleMs;
  readerThreadSettings.idleMs = 300;
  t.after(() => { readerThreadSettings.idleMs = idle; });
  const config = loadConfigText(null, {
    env: {}, baseDir: dataDir, overrides: {
      hostname: 'relay.test', dataDir, 'storage.sqliteThread': 'main',
      'smtp.submission': { host: HOST, port: 0 }, 'smtp.submissions': { host: HOST, port: 0 }, 'smtp.mx': { host: HOST, port: 0 }, 'smtp.alt': false,
      http: false, metrics: { host: HOST, port: 0 },
      dns: { servers: [`${HOST}:${dns.port}`] },
      delivery: { port: mx.port, pollInterval: '200ms', connectTimeout: '3s', mxAddresses: 'any' }, // the test MX is on loopback
    },
  });
  const relay: Relay = await startRelay(config, createLogger('silent'));
  t.after(() => relay.stop());
  await relay.store.addUser({ name: 'alice', passwordHash: await hashPassword(PASSWORD), allowedDomains: ['example.com'], createdAt: Date.now() });
  const metrics = `http://${HOST}:${relay.addresses.metrics!.port}/metrics`;
  const scrape = async () => {
    const res = await fetch(metrics);
    assert.equal(res.status, 200);
    return depth(await res.text());
  };

  // The first scrape counts the finished states (counts(), heavy): the thread starts, and ends when idle.
  assert.equal(liveReaderThreads.size, 0, 'no heavy-read thread before the first scrape');
  assert.deepEqual(await scrape(), { queued: 0, deferred: 0, delivering: 0, held: 0, delivered: 0, bounced: 0, expired: 0, suppressed: 0 });
  await eventually(() => liveReaderThreads.size === 0 || undefined);
  readerThreadSettings.idleMs = 60_000; // from here a thread started by anything stays, and is seen
  let scrapes = 0;
  /** Scrapes until `want` holds (the gauge is cached 5 s), each scrape leaving no heavy-read thread. */
  const scrapeUntil = async (what: string, want: (d: Record<string, number>) => boolean) => eventually(async () => {
    const d = await scrape();
    scrapes++;
    assert.equal(liveReaderThreads.size, 0, `scrape ${scrapes} (${what}) started no heavy-read thread`);
    return want(d) ? d : undefined;
  }, 20_000);

  const sub = new Submitter({ host: HOST, port: relay.addresses.submission!.port, user: 'alice', pass: PASSWORD });
  t.after(() => sub.close());
  // a deferral (451 at RCPT) and a delivery held in flight (the MX holds its DATA answer)
  let open!: () => void;
  gate = new Promise<void>((resolve) => { open = resolve; });
  const deferredMsg = await sub.send('alice@example.com', ['later@example.net'], 'Subject: later\r\n\r\nlater\r\n');
  assert.match(deferredMsg, /^250 /);
  assert.match(await sub.send('alice@example.com', ['bob@example.net'], 'Subject: in flight\r\n\r\nhi\r\n'), /^250 /);
  let d = await scrapeUntil('a deferral and a delivery in flight', (x) => x.deferred === 1 && x.delivering === 1);
  assert.deepEqual(d, { queued: 0, deferred: 1, delivering: 1, held: 0, delivered: 0, bounced: 0, expired: 0, suppressed: 0 });

  // hold the deferred message (the CLI's `queue hold`), let the delivery finish, bounce one recipient (550: a DSN to alice, delivered)
  const deferredId = /queued as (\S+)/.exec(deferredMsg)![1]!; // (not listRecipients: a heavy read)
  assert.equal(await relay.store.hold(deferredId), 1);
  open();
  gate = null;
  assert.match(await sub.send('alice@example.com', ['nobody@example.net'], 'Subject: bounce\r\n\r\nbounce\r\n'), /^250 /);
  await eventually(() => mx.messages.find((m) => m.mailFrom === '' && m.rcptTo[0] === 'alice@example.com'), 20_000);
  d = await scrapeUntil('a hold, a delivery, a bounce and its DSN', (x) => x.held === 1 && x.delivering === 0 && x.queued === 0 && x.deferred === 0);
  assert.ok(scrapes >= 3, `scraped ${scrapes} times`);
  t.diagnostic(`${scrapes} scrapes over HTTP, no heavy-read thread`);
  assert.deepEqual({ delivered: d.delivered, bounced: d.bounced }, { delivered: 0, bounced: 0 }, 'the finished states: the first scrape\'s count, until the next (5 minutes)');
  assert.equal(liveReaderThreads.size, 0, 'no heavy-read thread after all the scrapes');

  // The full count (a heavy read: the thread starts now) agrees with the scraped queue depth.
  const full = await relay.store.counts();
  assert.deepEqual({ queued: d.queued, deferred: d.deferred, delivering: d.delivering, held: d.held },
    { queued: full.queued, deferred: full.deferred, delivering: full.delivering, held: full.held });
  assert.deepEqual({ delivered: full.delivered, bounced: full.bounced }, { delivered: 2, bounced: 1 }, 'the delivery, the DSN and the bounce');
  assert.equal(liveReaderThreads.size, 1, 'counts() is heavy: it did start the thread');
});
