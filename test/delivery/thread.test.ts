// The outbound SMTP side off the main thread (src/delivery/thread/), as a relay runs it: hosted by
// the SQLite store's thread (reading the messages there) or on a thread of its own (the messages
// read on the main thread and sent with the run). Messages go out over real sockets, byte for byte
// (a spool file's stream pulled chunk by chunk from the main side), and a thread that dies in the
// middle of a transaction leaves its message queued: the attempt is a temporary failure, a new
// thread retries and delivers it.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryThread } from '../../src/delivery/thread/client.js';
import { INLINE_MAX_BYTES } from '../../src/store/sqlite/inline-body.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { body, createFixture, enqueue, waitForLog, waitForMessage, waitForStates, type Fixture } from './fixture.js';

describe('delivery thread', () => {
  let dns: DnsServer;
  let mx: Receiver; // 127.0.0.2
  let holdFirst = false;
  let held: (() => void) | null = null;
  let f: Fixture | undefined;
  let thread: DeliveryThread | undefined;

  before(async () => {
    dns = await startDnsServer();
    mx = await startReceiver({
      host: '127.0.0.2',
      behaviour: {
        holdData: () => {
          if (!holdFirst) return Promise.resolve();
          holdFirst = false;
          return new Promise<void>((resolve) => { held = resolve; });
        },
      },
    });
    dns.setZone({ 'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] }, 'mx.example.test': { A: ['127.0.0.2'] } });
  });
  after(async () => { held?.(); await Promise.all([mx.close(), dns.close()]); });
  afterEach(async () => { await f?.close(); f = undefined; thread = undefined; mx.messages.length = 0; });

  const start = async (mayHost = true) => {
    f = await createFixture({ port: mx.port, dns, scheduler: { outbound: (h) => (thread = new DeliveryThread(h, { mayHost })) } });
    f.scheduler.start();
    return f;
  };

  for (const hosted of [true, false]) it(`delivers ${hosted ? 'from the store\'s thread' : 'through a thread of its own'}: a small message and a spool file, byte for byte, on a reused session`, async () => {
    const f = await start(hosted);
    const sessions = mx.sessions;
    const small = body('small one');
    const large = body('large one').toString() + ('y'.repeat(998) + '\r\n').repeat(Math.ceil((INLINE_MAX_BYTES * 1.5) / 1000));
    const a = await enqueue(f, { from: 'alice@sender.test', to: ['bob@example.test'], body: small });
    await waitForStates(f, a, ['delivered']);
    const b = await enqueue(f, { from: 'alice@sender.test', to: ['carol@example.test'], body: Buffer.from(large) });
    await waitForStates(f, b, ['delivered']);
    assert.equal(thread?.hosted, hosted);
    if (!hosted) assert.ok(thread?.worker, 'the scheduler ran its attempts on the thread');
    const got = mx.messages.map((m) => m.body);
    assert.equal(got.length, 2);
    assert.ok(got[0]!.equals(small), 'the small message as queued');
    assert.ok(got[1]!.equals(Buffer.from(large)), `the spool file as queued (${got[1]!.length} bytes of ${large.length})`);
    assert.ok((await f.store.getMessage(b))!.size > INLINE_MAX_BYTES, 'the second one is a spool file');
    assert.equal(mx.sessions - sessions, 1, 'the second message reused the thread\'s session');
  });

  it('a thread that dies during DATA leaves the message queued; it is retried on a new thread and delivered once', async () => {
    const f = await start(false);
    holdFirst = true;
    const id = await enqueue(f, { from: 'alice@sender.test', to: ['bob@example.test'] });
    for (let i = 0; mx.heldData === 0; i++) { assert.ok(i < 500, 'the DATA reached the receiver'); await new Promise((r) => setTimeout(r, 10)); }
    const first = thread!.worker!;
    await first.terminate();
    const died = await waitForLog(f, (l) => l.event === 'delivery.thread_died');
    assert.equal(died.inFlight, 1);
    const deferred = await waitForLog(f, (l) => l.event === 'delivery.deferred' && l.id === id);
    assert.match(String(deferred.response), /delivery thread stopped/);
    const m = await waitForStates(f, id, ['delivered']);
    assert.equal(m.recipients[0]!.attempts, 2, 'one failed attempt (the dead thread), one delivered');
    assert.notEqual(thread!.worker, first, 'a new thread took the retry');
    assert.equal(mx.messages.length, 1, 'delivered once: the held transaction was never accepted');
    held?.();
    await waitForMessage(f, id, (v) => v.recipients.every((r) => r.state === 'delivered'));
  });
});
