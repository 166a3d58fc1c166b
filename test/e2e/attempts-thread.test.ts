// Delivery's SMTP transactions in the SQLite store's database thread (delivery/thread-attempts.ts,
// store/sqlite/remote-attempts.ts), end to end over real sockets:
//   - a relay on SQLite says so (delivery.started attempts: database-thread) and delivers small,
//     inline-large (kept for the first attempt before) and spool-file bodies byte for byte, with
//     the TLS outcome recorded, and stops gracefully;
//   - a message whose transaction was in flight in the thread when the thread died (a failed WAL
//     fsync: worker.ts "Fail-stop") is not recorded as anything: it stays queued, and the restarted
//     relay delivers it (once, to the MX the zone then names).
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import { startDnsServer } from '../helpers/dns-server.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';
import { SlowFs } from '../helpers/slow-fs.js';
import { Submitter } from '../helpers/smtp-client.js';
import { startReceiver } from '../helpers/smtp-receiver.js';

const text = (seq: number, body: string) => `From: <app@acme.test>\r\nSubject: thread ${seq}\r\n\r\n${body}\r\n`;
const seqOf = (body: Buffer) => Number(/Subject: thread (\d+)/.exec(body.toString())?.[1]);
/** ~n bytes of 76-character lines. */
const lines = (n: number, c: string) => `${c.repeat(76)}\r\n`.repeat(Math.ceil(n / 78)).trimEnd();

test('a relay on SQLite runs its SMTP transactions in the database thread: small, large inline and spool bodies delivered intact', { timeout: 60_000 }, async (t) => {
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'thread.test': { MX: [{ exchange: 'mx.thread.test', priority: 10 }] }, 'mx.thread.test': { A: ['127.0.0.2'] } });
  const relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port, pollInterval: '200ms' } });
  t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); });
  const made = await relay.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'acme.test']);
  assert.equal(made.code, 0);
  await relay.start();
  const started = relay.logs.find((l) => l.event === 'delivery.started');
  assert.equal(started?.attempts, 'database-thread');
  const smtp = new Submitter({ port: relay.port('submission'), user: 'app', pass: 'app-password' });
  t.after(() => smtp.close());

  const sent = [text(0, 'small'), text(1, lines(100_000, 'a')), text(2, lines(400_000, 'b')), text(3, '.leading dot\r\n..two')];
  for (const [seq, m] of sent.entries()) assert.match(await smtp.send('app@acme.test', [`r${seq}@thread.test`], m), /^250 /);
  await mx.waitFor(sent.length, 30_000);
  for (const m of mx.messages) {
    const seq = seqOf(m.body);
    const bodyOf = (x: string) => x.slice(x.indexOf('\r\n\r\n') + 4);
    assert.equal(bodyOf(m.body.toString()), bodyOf(sent[seq]!), `message ${seq}: its body delivered byte for byte`);
    assert.equal(m.tls, true, 'STARTTLS in the thread');
  }
  await eventually(async () => (JSON.parse((await relay.cli(['queue', 'list', '--json'])).stdout) as unknown[]).length === 0, 30_000, 100);
  const delivered = relay.logs.filter((l) => l.event === 'delivery.delivered');
  assert.equal(delivered.length, sent.length);
  for (const l of delivered) assert.ok((l.tls as { version?: string } | undefined)?.version, 'the TLS outcome came back from the thread');
  await relay.stop();
  assert.ok(relay.logs.some((l) => l.event === 'delivery.stopped'), 'a graceful stop with the thread\'s sessions');
});

const skip = await skipUnless(TOOLS.gcc);

test('the database thread dies while a transaction is in flight there: the message stays queued and is delivered after the restart',
  { skip, timeout: 120_000 }, async (t) => {
    const disk = await SlowFs.create((await toolPath(TOOLS.gcc))!);
    const dns = await startDnsServer();
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const stuck = await startReceiver({ host: '127.0.0.2', port: 0, behaviour: { holdData: () => held } });
    const mx = await startReceiver({ host: '127.0.0.3', port: stuck.port });
    dns.setZone({ 'thread.test': { MX: [{ exchange: 'mx.thread.test', priority: 10 }] }, 'mx.thread.test': { A: ['127.0.0.2'] } });
    const relay = await RelayProcess.create({
      dataDir: path.join(disk.dir, 'data'), dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: stuck.port, pollInterval: '200ms' },
    });
    relay.env = disk.env;
    t.after(async () => { release(); await relay.cleanup(); await stuck.close(); await mx.close(); await dns.close(); await disk.cleanup(); });
    const made = await relay.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'acme.test']);
    assert.equal(made.code, 0);
    await relay.start();
    const smtp = new Submitter({ port: relay.port('submission'), user: 'app', pass: 'app-password' });
    t.after(() => smtp.close());

    assert.match(await smtp.send('app@acme.test', ['r0@thread.test'], text(0, 'in flight')), /^250 /);
    await eventually(() => stuck.heldData === 1, 30_000, 20); // its DATA sent from the thread, the answer held

    const exited = once(relay.child!, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await disk.set({ syncMs: 0, failSyncOf: '-wal' });
    const refused = await smtp.send('app@acme.test', ['r1@thread.test'], text(1, 'refused')).then((r) => `accepted ${r}`, (err: { responseCode?: number }) => `${err.responseCode ?? 'no reply'}`);
    assert.equal(refused, '451');
    const [code] = await exited;
    assert.equal(code, 74, 'the relay exits with EX_IOERR');
    assert.equal(relay.logs.filter((l) => l.event === 'delivery.delivered').length, 0, 'nothing recorded as delivered');
    assert.equal(stuck.messages.length, 0);

    // restarted on a healthy disk, the zone naming the other MX: the message was still queued
    dns.setZone({ 'thread.test': { MX: [{ exchange: 'mx.thread.test', priority: 10 }] }, 'mx.thread.test': { A: ['127.0.0.3'] } });
    await disk.set(0);
    await relay.start();
    await mx.waitFor(1, 30_000);
    await eventually(async () => (JSON.parse((await relay.cli(['queue', 'list', '--json'])).stdout) as unknown[]).length === 0, 30_000, 100);
    // (the refused one may be delivered too: its commit was visible, only its fsync failed, as in wal-fsync-failure.test.ts)
    assert.deepEqual(mx.messages.map((m) => seqOf(m.body)).filter((s) => s === 0), [0], 'the message in flight when the thread died, delivered once');
  });
