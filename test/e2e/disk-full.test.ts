// A full disk while deliveries finish (issue 9, item 8), on a real filesystem: the relay process
// runs with its data directory on a small tmpfs (test/helpers/small-fs.ts, root only). Ten
// messages are accepted and their deliveries held at the receiving MX's end of DATA; the disk is
// filled to the last byte; then the MX answers 250 to all ten, so the relay cannot record any of
// them. It must keep the outcomes in memory past their (short) lease, while
//   - SMTP answers 451 4.3.0 (a small message: the database; a large one: the spool file),
//   - the HTTP API answers 503 with Retry-After,
//   - /readyz answers 503,
//   - the relay does not exit.
// Once the filler is removed, without a restart: each of the ten is recorded (delivered exactly
// once: the MX holds ten messages, no duplicate although every lease had expired), /readyz is
// ready again, and new mail is accepted and delivered once. Before the fix every one of them was
// delivered again when its lease ran out.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { call, seedAcme } from '../helpers/api-fixture.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { SmallFs, smallFsSkip } from '../helpers/small-fs.js';
import { Submitter } from '../helpers/smtp-client.js';
import { startReceiver } from '../helpers/smtp-receiver.js';

const N = 10;
const LEASE = '4s';

/** eventually(), failing with the name of the step that did not happen. */
const step = <T>(name: string, fn: () => T, ms = 30_000) => eventually(fn, ms, 50).catch(() => { throw new Error(`timed out: ${name}`); });
const seqOf = (body: Buffer) => Number(/X-Seq: (\d+)/.exec(body.toString())?.[1]);
const msg = (seq: number, extra = '') => `From: <app@acme.test>\r\nSubject: disk ${seq}\r\nX-Seq: ${seq}\r\n\r\nseq ${seq}\r\n${extra}`;

test('disk full while deliveries finish: 4xx intake, not ready, no duplicate, recovery without restart', { skip: smallFsSkip, timeout: 120_000 }, async (t) => {
  const disk = await SmallFs.mount(32);
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0, behaviour: { holdData: () => released } });
  let relay: RelayProcess | null = null;
  t.after(async () => { release(); await relay?.cleanup(); await mx.close(); await dns.close(); await disk.cleanup(); });
  dns.setZone({ 'full.test': { MX: [{ exchange: 'mx.full.test', priority: 10 }] }, 'mx.full.test': { A: ['127.0.0.2'] } });
  relay = await RelayProcess.create({
    dataDir: path.join(disk.dir, 'data'),
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms', leaseTime: LEASE },
  });
  const tenant = await seedAcme(relay);
  await relay.start();
  const r = relay;
  const base = `http://127.0.0.1:${r.port('http')}`;
  const count = (event: string) => r.logs.filter((l) => l.event === event).length;
  const readyz = async () => (await call(base, 'GET', '/readyz')).status;
  const sub = new Submitter({ port: r.port('submission'), user: 'app', pass: 'app-password' });
  t.after(() => sub.close());

  // ten accepted, their deliveries held at the MX's end of DATA
  for (let seq = 0; seq < N; seq++) assert.match(await sub.send('app@acme.test', [`r${seq}@full.test`], msg(seq)), /^250 /);
  await step('all deliveries in flight', () => mx.heldData === N);
  assert.equal(await readyz(), 200);

  await disk.fill();
  assert.equal(await readyz(), 503, 'not ready while the disk is full');
  const refuse = async (message: string) => {
    const s = new Submitter({ port: r.port('submission'), user: 'app', pass: 'app-password' });
    try { return await s.send('app@acme.test', ['late@full.test'], message).then(() => null, (err: { responseCode?: number; response?: string }) => err); } finally { s.close(); }
  };
  const small = await refuse(msg(100));
  assert.equal(small?.responseCode, 451, `a small message: ${small?.response}`);
  const large = await refuse(msg(101, `${'x'.repeat(998)}\r\n`.repeat(400))); // > 256 KiB: a spool file
  assert.equal(large?.responseCode, 451, `a large message: ${large?.response}`);
  const api = await call(base, 'POST', '/v1/messages', {
    token: tenant.tokens.app, body: { from: 'app@acme.test', to: ['api@full.test'], subject: 'disk full', text: 'x' },
  });
  assert.equal(api.status, 503);
  assert.ok(Number(api.headers.get('retry-after')) >= 1);

  // the MX takes all ten now; the relay cannot record them, and holds them past their lease
  release();
  await step('the MX answered all ten', () => mx.messages.length === N);
  await step('every outcome held in memory', () => count('delivery.record_retrying') === N);
  await step('every lease expired while held', () => count('delivery.record_lease_expired') === N);
  assert.equal(await readyz(), 503, 'still not ready');
  assert.equal(r.child?.exitCode ?? null, null, 'the relay is running');

  await disk.free();
  await step('all ten recorded as delivered', () => count('delivery.delivered') === N);
  await step('ready again without a restart', async () => (await readyz()) === 200, 30_000);
  assert.match(await sub.send('app@acme.test', ['after@full.test'], msg(200)), /^250 /);
  await step('mail accepted after the disk was freed is delivered', () => mx.messages.some((m) => seqOf(m.body) === 200));

  const seqs = mx.messages.map((m) => seqOf(m.body));
  t.diagnostic(`MX received ${seqs.length}: ${seqs.join(',')}; queue.unavailable ${count('queue.unavailable')}, queue.available ${count('queue.available')}`);
  assert.deepEqual([...seqs].sort((a, b) => a - b), [...Array.from({ length: N }, (_, i) => i), 200], 'each accepted message exactly once; nothing refused was delivered');
  t.diagnostic(r.logs.filter((l) => /^queue\.(un)?available$/.test(String(l.event)) || l.event === 'cluster.heartbeat_failed').map((l) => `${String(l.time).slice(-5)} ${l.event} ${l.op ?? ''} ${l.code ?? ''} ${l.downMs ?? ''}`).join('; '));
  assert.equal(count('delivery.record_gave_up'), 0);
  assert.equal(count('delivery.record_recovered'), N);
  assert.equal(count('relay.crash'), 0);
  assert.equal(count('queue.worker_died'), 0);
  assert.equal(count('queue.unavailable'), 1, 'the outage is logged once');
  assert.equal(count('queue.available'), 1);
  assert.equal(r.child?.exitCode ?? null, null, 'the relay is still running');
});
