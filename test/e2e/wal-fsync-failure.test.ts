// A failing disk under the SQLite queue, end to end: the relay process's fsyncs of queue.db-wal
// fail with EIO (test/helpers/slow-fs.c, switched while it runs), as the kernel reports a lost
// write-back. The store fsyncs the WAL itself after COMMIT (store/sqlite/executor.ts, on libuv's pool), so
// the commit is visible but not durable; the fail-stop must hold:
//   - the messages submitted then (SMTP and HTTP together) are refused as temporary (451, 503):
//     none answered 250/202;
//   - the relay logs `queue.worker_died` once, with the errno, and exits with status 74;
//   - restarted on a healthy disk, it delivers every message accepted before, exactly once.
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import { call, seedAcme } from '../helpers/api-fixture.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';
import { SlowFs } from '../helpers/slow-fs.js';
import { Submitter } from '../helpers/smtp-client.js';
import { startReceiver } from '../helpers/smtp-receiver.js';

const skip = await skipUnless(TOOLS.gcc);
const seqOf = (body: Buffer) => Number(/Subject: wal (\d+)/.exec(body.toString())?.[1]);

// both hosts of the store's executor: the database thread (default) and the main thread (storage.sqliteThread: main)
for (const sqliteThread of ['worker', 'main'] as const) test(`a failed WAL fsync: the batch is refused (451, 503), the relay logs once and exits 74, a restart delivers what was accepted (storage.sqliteThread: ${sqliteThread})`,
  { skip, timeout: 120_000 }, async (t) => {
    const disk = await SlowFs.create((await toolPath(TOOLS.gcc))!);
    const dns = await startDnsServer();
    const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
    dns.setZone({ 'wal.test': { MX: [{ exchange: 'mx.wal.test', priority: 10 }] }, 'mx.wal.test': { A: ['127.0.0.2'] } });
    const relay = await RelayProcess.create({
      storage: { sqliteThread }, dataDir: path.join(disk.dir, 'data'), dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port, pollInterval: '200ms' },
    });
    relay.env = disk.env;
    t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); await disk.cleanup(); });
    const tenant = await seedAcme(relay);
    await relay.start();
    const base = `http://127.0.0.1:${relay.port('http')}`;
    const smtp = new Submitter({ port: relay.port('submission'), user: 'app', pass: 'app-password' });
    t.after(() => smtp.close());
    const text = (seq: number) => `From: <app@acme.test>\r\nSubject: wal ${seq}\r\n\r\nseq ${seq}\r\n`;

    // healthy: accepted, delivered, recorded (the queue empty: no result left to write)
    for (const seq of [0, 1]) assert.match(await smtp.send('app@acme.test', [`r${seq}@wal.test`], text(seq)), /^250 /);
    await eventually(() => mx.messages.length === 2, 30_000, 50);
    await eventually(async () => (JSON.parse((await relay.cli(['queue', 'list', '--json'])).stdout) as unknown[]).length === 0, 30_000, 100);

    const exited = once(relay.child!, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await disk.set({ syncMs: 0, failSyncOf: '-wal' });
    const [bySmtp, byHttp] = await Promise.all([
      smtp.send('app@acme.test', ['r2@wal.test'], text(2)).then((r) => `accepted ${r}`, (err: { responseCode?: number; message: string }) => `${err.responseCode ?? 'no reply'} ${err.message}`),
      call(base, 'POST', '/v1/messages', { token: tenant.tokens.app, body: { from: 'app@acme.test', to: ['h3@wal.test'], subject: 'wal 3', text: 'seq 3' } })
        .then((a) => `${a.status}`, (err: Error) => `no reply ${err.message}`),
    ]);
    assert.match(bySmtp, /^451 /, 'SMTP: a temporary refusal');
    assert.equal(byHttp, '503', 'HTTP: 503');
    const [code] = await exited;
    assert.equal(code, 74, 'the relay exits with EX_IOERR');
    const died = relay.logs.filter((l) => l.event === 'queue.worker_died');
    assert.equal(died.length, 1, 'one queue.worker_died line');
    assert.equal(died[0]!.code, 'EIO');
    assert.match(String(died[0]!.reason), /WAL fsync failed/);
    assert.equal(relay.logs.filter((l) => l.event === 'relay.crash').length, 0);
    assert.ok((await disk.delayedCalls()).some((c) => c.call === 'fsync-eio'), 'the WAL fsync really failed');

    // restarted on a healthy disk: what was accepted is delivered, once (nothing accepted is lost)
    await disk.set(0);
    await relay.start();
    await eventually(async () => (JSON.parse((await relay.cli(['queue', 'list', '--json'])).stdout) as unknown[]).length === 0, 30_000, 100);
    // (delivered concurrently: in either order)
    const delivered = mx.messages.map((m) => seqOf(m.body)).sort((x, y) => x - y);
    assert.deepEqual(delivered.filter((s) => s < 2), [0, 1], 'each message accepted before the failure delivered exactly once');
  });
