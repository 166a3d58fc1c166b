// End to end: storage.sqliteThread (docs/operations.md; docs/design/store.md "Which host runs the
// executor"). The built relay as a child process, once per mode: a real SMTP dialogue on loopback
// (submission, STARTTLS + AUTH), the message accepted with 250 and delivered to a receiving MX;
// with `main` the relay has no database thread (one OS thread fewer than with `worker`, and its
// startup line says so), and a heavy read (/metrics' first scrape counts the finished recipients;
// later ones within 5 minutes read only the light queue depth) starts the read-only thread.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';

const HOST = '127.0.74.1';
const MX = '127.0.74.2';
const PASSWORD = 'correct horse battery';
let dns: DnsServer;
let mx: Receiver;

before(async () => {
  dns = await startDnsServer({ host: HOST });
  mx = await startReceiver({ host: MX, port: 0 });
  dns.setZone({ 'example.net': { MX: [{ exchange: 'mx.example.net', priority: 10 }] }, 'mx.example.net': { A: [MX] } });
});
after(async () => { await Promise.all([mx?.close(), dns?.close()]); });

const threads = async (pid: number) => (await fs.readdir(`/proc/${pid}/task`)).length;
/** Threads of each mode's relay once it has delivered (no heavy read yet). */
const counted: Partial<Record<'worker' | 'main', number>> = {};

for (const mode of ['worker', 'main'] as const) {
  test(`storage.sqliteThread: ${mode}: a message submitted over SMTP is accepted with 250 and delivered`, async (t) => {
    const relay = await RelayProcess.create({
      storage: { sqliteThread: mode },
      smtp: { submission: { host: HOST }, submissions: { host: HOST }, mx: { host: HOST } },
      http: { host: HOST }, metrics: { host: HOST },
      dns: { servers: [`${HOST}:${dns.port}`] },
      delivery: { port: mx.port, pollInterval: '200ms', connectTimeout: '3s' },
    });
    t.after(() => relay.cleanup());
    const add = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com'], PASSWORD + '\n');
    assert.equal(add.code, 0, add.stderr);
    await relay.start();
    const started = relay.logs.find((l) => l.event === 'relay.started')!;
    assert.equal(started.sqliteThread, mode, 'the startup line states the mode');

    const sub = new Submitter({ host: HOST, port: relay.port('submission'), user: 'alice', pass: PASSWORD });
    const marker = `sqlite-thread-${mode}-${Date.now()}`;
    const reply = await sub.send('alice@example.com', ['bob@example.net'], `Subject: ${marker}\r\n\r\n${marker}\r\n`);
    sub.close();
    assert.match(reply, /^250 /, 'accepted');
    const got = await eventually(() => mx.messages.find((m) => m.body.toString('utf8').includes(marker)));
    assert.deepEqual(got.rcptTo, ['bob@example.net']);

    const pid = relay.child!.pid!;
    counted[mode] = await threads(pid);
    t.diagnostic(`${mode}: ${counted[mode]} threads after the delivery`);
    if (mode === 'main') {
      assert.ok(counted.worker === undefined || counted.main! < counted.worker, `no database thread: ${counted.main} threads, ${counted.worker} with worker`);
      const res = await fetch(`http://${HOST}:${relay.port('metrics')}/metrics`); // the first scrape's count of the finished: a heavy read
      assert.equal(res.status, 200, await res.text());
      assert.ok(await threads(pid) > counted.main!, 'the heavy read started the read-only thread');
    }
  });
}
