// The heavy reads' thread (reader-thread.ts, reader-worker.ts; docs/design/store.md "The heavy
// reads' thread"), on real SQLite files:
//   - no thread before the first heavy read (point reads, writes and a message's own events stay on
//     the main thread); each heavy read's answer equals the main-thread handler's on the same data;
//     the thread is gone after the idle period (its connection closed with it);
//   - a heavy read made while a WAL fsync is in flight, which sees the commit being synced, is
//     answered after that commit (in a child process whose fsyncs are slowed: slow-fs.c);
//   - a killed thread fails only its pending read (ERR_QUEUE_READ); the store carries on and the
//     next heavy read starts a new thread;
//   - close() with the thread running: the pending read is answered, the thread and its
//     connection are gone.
// No timing assertions: the idle period is set short and waited for by polling.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipUnless, TOOLS, toolPath } from '../../../test/helpers/require-tool.js';
import { SlowFs } from '../../../test/helpers/slow-fs.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import type { MessageMeta } from '../platform-store.js';
import type { NewMessage, RecipientOutcome } from '../store.js';
import type { Suppression } from '../suppression-store.js';
import { openReader } from './connections.js';
import type { ReadOp } from './protocol.js';
import { READ_HANDLERS, isHeavyRead } from './read-handlers.js';
import { liveReaderThreads, readerThreadSettings } from './reader-thread.js';
import { SqliteQueueStore } from './sqlite-store.js';

const T0 = Date.now() - 3_600_000;
const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'postlane-reader-'));
const tasks = () => fsSync.readdirSync('/proc/self/task').length;
/** Descriptors of this process open on the database's files. */
const dbFds = (dbPath: string) => fsSync.readdirSync('/proc/self/fd')
  .map((fd) => { try { return fsSync.readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } })
  .filter((l) => l.startsWith(dbPath));
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ok(), what);
};

async function send(store: SqliteQueueStore, recipients: string[], i: number, meta: MessageMeta): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from(`Subject: hello ${i}\r\n\r\nhi\r\n`));
  await w.finish();
  const m: NewMessage = {
    id, mailFrom: `sender${i % 3}@example.org`, recipients, size: w.bytesWritten, receivedAt: T0 + i * 1000,
    origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay', meta,
  };
  await store.put(m);
  return id;
}

/** Messages, results (delivered, deferred, bounced), events, statistics and suppressions. */
async function fill(store: SqliteQueueStore): Promise<string[]> {
  await store.addAccount({ name: 'acme', createdAt: T0, limits: {} });
  const ids: string[] = [];
  for (let i = 0; i < 24; i++) {
    ids.push(await send(store, [`a${i}@x${i % 4}.example`, `b${i}@y.example`], i, { account: i % 2 ? 'acme' : 'default', tags: [`t${i % 3}`], metadata: {}, stream: 'transactional' }));
  }
  const jobs = await store.claimDue({ now: Date.now(), limit: 12, leaseMs: 60_000, owner: 'n1' });
  for (const [k, job] of jobs.entries()) {
    const outcomes: RecipientOutcome[] = job.recipients.map((r, j) => (k % 3 === 0
      ? { rcptId: r.id, status: 'delivered', response: '250 ok', host: 'mx.example' }
      : k % 3 === 1 ? { rcptId: r.id, status: 'deferred', response: '451 later', host: 'mx.example', nextAttemptAt: Date.now() + 600_000 + j }
        : { rcptId: r.id, status: 'bounced', response: '550 5.1.1 no such user', host: 'mx.example' }));
    await store.recordResults(job.messageId, outcomes, [], { owner: 'n1' });
  }
  const entry = (account: string, address: string): Suppression => ({
    account, address, scope: 'all', reason: 'manual', source: 'cli', messageId: null, detail: null, createdAt: T0,
  });
  await store.addSuppressions([entry('acme', 'gone@example.com'), entry('acme', 'old@example.com'), entry('default', 'x@example.com')]);
  return ids;
}

test('heavy reads: no thread before the first; answers equal the main-thread handler\'s; the thread ends when idle', { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDir();
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  const idle = readerThreadSettings.idleMs;
  readerThreadSettings.idleMs = 300;
  t.after(() => { readerThreadSettings.idleMs = idle; });
  const store = new SqliteQueueStore({ dataDir, inProcess: true, heavyReadsThread: true, logger: createLogger('silent') });
  await store.open();
  t.after(() => store.close());
  const ids = await fill(store);
  // what the SMTP path, delivery and the event pipeline read per message stays here
  await store.getMessage(ids[0]!);
  await store.nextDueAt();
  for await (const chunk of store.readBody(ids[1]!)) assert.ok(chunk);
  await store.getMessageMeta(ids[1]!);
  await store.findSuppressions('acme', 'transactional', ['gone@example.com']);
  await store.listEvents({ account: 'acme', messageId: ids[1]!, limit: 100 });
  await store.listSuppressions({ account: 'acme', address: 'gone@example.com' });
  await store.getDomain('example.org');
  await store.readTlsOutcomes(Date.now()); // the TLS reporter's, at every start and every 10 minutes
  assert.deepEqual(await store.queueDepth(), { queued: 36, deferred: 4, delivering: 0, held: 0 }, '/metrics\' light read, every scrape');
  assert.equal(liveReaderThreads.size, 0, 'no heavy-read thread before the first heavy read');
  const before = tasks();

  const now = Date.now();
  const day = 86_400_000;
  const heavy: [ReadOp, unknown[]][] = [
    ['listRecipients', [{}]], ['listRecipients', [{ includeFinal: true, limit: 1000 }]], ['listRecipients', [{ state: 'deferred', limit: 5 }]],
    ['counts', []],
    ['listEvents', [{ account: 'acme', limit: 1000 }]], ['listEvents', [{ account: 'default', types: ['delivered', 'bounced'], since: now - day, limit: 100 }]],
    ['listEvents', [{ account: 'acme', recipient: 'A1@x1.example', limit: 100 }]],
    ['searchMessages', [{ account: 'acme', limit: 50 }]], ['searchMessages', [{ account: 'default', subject: 'hello 1', limit: 50 }]],
    ['searchMessages', [{ account: 'acme', status: 'deferred', limit: 50 }]], ['searchMessages', [{ account: 'acme', from: 'sender1@example.org', limit: 50 }]],
    ['readStats', [{ account: null, from: now - 7 * day, to: now + day, groupBy: 'hour' }]], ['readStats', [{ account: 'acme', from: now - 30 * day, to: now + day, groupBy: 'domain' }]],
    ['queueOverview', [null, 20]], ['queueOverview', ['acme', 20]],
    ['listSuppressions', [{ account: 'acme', limit: 1000 }]],
    ['listTlsReports', [100]],
  ];
  const reader = openReader(path.join(dataDir, 'queue.db'));
  t.after(() => reader.close());
  const call = (op: ReadOp, args: unknown[]) => (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op]!(...args);
  let nonEmpty = 0;
  for (const [op, args] of heavy) {
    assert.ok(isHeavyRead(op, args), `${op} is heavy`);
    const viaThread = await call(op, args);
    const here = READ_HANDLERS[op](reader, ...(args as never[]));
    assert.deepEqual(viaThread, here, `${op}(${JSON.stringify(args)}): the thread's answer is the handler's`);
    if (Array.isArray(here) ? here.length > 0 : here !== null) nonEmpty++;
  }
  assert.ok(nonEmpty >= 13, `the data gives the reads something to return (${nonEmpty})`);
  assert.equal(liveReaderThreads.size, 1, 'one thread for all of them');
  assert.equal(tasks(), before + 1, 'one more thread in the process');
  await until('the thread ends after the idle period', () => liveReaderThreads.size === 0);
  await until('and its OS thread is gone', () => tasks() === before);
  // a heavy read after that starts a new one, with the same answer
  assert.deepEqual(await store.counts(), READ_HANDLERS.counts(reader));
  assert.equal(liveReaderThreads.size, 1);
  await store.close();
  assert.equal(liveReaderThreads.size, 0, 'close() ends it');
  reader.close();
  assert.deepEqual(dbFds(path.join(dataDir, 'queue.db')), [], 'no descriptor left on the database: the thread closed its connection');
});

test('heavy reads: a killed thread fails only its pending read; the next heavy read starts a new thread', { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDir();
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  let dead = 0;
  const store = new SqliteQueueStore({ dataDir, inProcess: true, heavyReadsThread: true, logger: createLogger('silent'), onDead: () => { dead++; } });
  await store.open();
  t.after(() => store.close());
  const ids = await fill(store);
  const expected = await store.listRecipients({ includeFinal: true });
  const [first] = [...liveReaderThreads];
  assert.ok(first, 'the thread runs');
  // terminate() first: from then on the thread runs no JavaScript, so a read posted to it now is
  // never answered by it (posted before, a small read could be answered before the kill took effect:
  // seen on Node 24)
  const killed = first.terminate();
  const pending = store.searchMessages({ account: 'acme', limit: 50 });
  const point = store.getMessage(ids[0]!);
  await killed;
  await assert.rejects(pending, (err: Error & { code?: string }) => err.code === 'ERR_QUEUE_READ', 'its pending read fails as a read failure');
  assert.equal((await point)?.id, ids[0], 'a point read made meanwhile is answered');
  assert.equal(liveReaderThreads.size, 0);
  assert.deepEqual(await store.listRecipients({ includeFinal: true }), expected, 'the next heavy read works, on a new thread');
  assert.equal(liveReaderThreads.size, 1);
  assert.ok(![...liveReaderThreads].includes(first));
  await send(store, ['c@z.example'], 99, { account: 'acme', tags: [], metadata: {}, stream: 'transactional' });
  assert.equal((await store.listRecipients({})).length, expected.filter((r) => !['delivered', 'bounced', 'expired', 'suppressed'].includes(r.state)).length + 1, 'writes go on');
  assert.equal(dead, 0, 'the store never stopped');
});

test('heavy reads: close() with the thread running answers the pending read and ends the thread', { timeout: 60_000 }, async (t) => {
  const dataDir = await tempDir();
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  const store = new SqliteQueueStore({ dataDir, inProcess: true, heavyReadsThread: true, logger: createLogger('silent') });
  await store.open();
  await fill(store);
  const expected = await store.counts();
  assert.equal(liveReaderThreads.size, 1);
  const pending = store.listEvents({ account: 'acme', limit: 1000 });
  const closed = store.close();
  const events = await pending;
  await closed;
  assert.ok(events.length > 0, 'the read pending at close() was answered');
  assert.equal(liveReaderThreads.size, 0, 'the thread has ended');
  assert.deepEqual(dbFds(path.join(dataDir, 'queue.db')), [], 'every connection closed');
  await assert.rejects(store.counts(), 'a heavy read after close() fails');
  assert.equal(liveReaderThreads.size, 0, 'and starts no thread');
  assert.ok(expected.queued >= 0);
});

const skip = await skipUnless(TOOLS.gcc);

// Runs in a child process whose fsyncs are slowed. Prints one JSON line.
const CHILD = (clientUrl: string, policyUrls: [string, string]) => `
import fs from 'node:fs';
import path from 'node:path';
const { StoreClient } = await import(${JSON.stringify(clientUrl)});
const { DEFAULT_SOFT_BOUNCE_POLICY } = await import(${JSON.stringify(policyUrls[0])});
const { DEFAULT_BREAKER_POLICY } = await import(${JSON.stringify(policyUrls[1])});
const [dataDir, id0, id1] = process.argv.slice(2);
fs.mkdirSync(path.join(dataDir, 'spool'), { recursive: true });
const { client } = await StoreClient.start({ dbPath: path.join(dataDir, 'queue.db'), spoolDir: path.join(dataDir, 'spool'), sweepOrphans: false,
  orphanAgeMs: 60000, softBounces: DEFAULT_SOFT_BOUNCE_POLICY, breakers: DEFAULT_BREAKER_POLICY, heavyReadsThread: true }, (r) => { throw new Error(r); });
const message = (id) => ({ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: 4, receivedAt: 1,
  origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
await client.call('put', [message(id0), 1, new Uint8Array(Buffer.from('one\\r\\n'))]);
await client.call('listRecipients', [{}]); // the thread runs
const fsyncs = () => fs.readFileSync(process.env.SLOWFS_LOG, 'utf8').split('\\n').filter((l) => l.startsWith(process.pid + ' fsync')).length;
fs.writeFileSync(process.env.SLOWFS_CTL, '400 0\\n');
const before = fsyncs();
const order = [];
const turn = () => new Promise((r) => setImmediate(r));
const put = client.call('put', [message(id1), 1, new Uint8Array(Buffer.from('two\\r\\n'))]).then(() => { order.push('put'); });
await turn(); await turn(); // committed, its fsync in flight
const read = client.call('listRecipients', [{}]).then((rows) => { order.push('read'); return rows; });
const [, rows] = await Promise.all([put, read]);
fs.writeFileSync(process.env.SLOWFS_CTL, '0 0\\n');
const synced = fsyncs() - before;
await client.close();
console.log(JSON.stringify({ order, saw: rows.map((r) => r.messageId), synced }));
`;

test('heavy reads: one made while an fsync is in flight, which sees that commit, is answered after it', { skip, timeout: 60_000 }, async (t) => {
  const disk = await SlowFs.create((await toolPath(TOOLS.gcc))!);
  t.after(() => disk.cleanup());
  const dataDir = path.join(disk.dir, 'data');
  const file = path.join(path.dirname(disk.dir), 'reader-child.mjs');
  await fs.writeFile(file, CHILD(new URL('./client.js', import.meta.url).href,
    [new URL('../event-effects.js', import.meta.url).href, new URL('../breaker-rules.js', import.meta.url).href]));
  const ids = [newQueueId(), newQueueId()];
  const child = spawn(process.execPath, [file, dataDir, ...ids], { env: { ...process.env, ...disk.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  const [code] = await new Promise<[number | null]>((resolve) => child.once('exit', (c) => resolve([c])));
  assert.equal(code, 0, stdout);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { order: string[]; saw: string[]; synced: number };
  assert.deepEqual(r.saw.sort(), [...ids].sort(), 'the thread read the commit whose fsync was in flight');
  // StoreClient settles each answer as the pipeline releases it, in order: the put's first
  assert.deepEqual(r.order, ['put', 'read'], 'the read was answered only once that commit was durable');
  assert.equal(r.synced, 1, 'one fsync: the put\'s');
});
