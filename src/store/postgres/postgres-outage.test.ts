// The PostgreSQL store when its server goes away and comes back, on a private server
// (test/helpers/pg-instance.ts) so the shared one is never stopped: calls reject with
// QueueUnavailableError (451 4.3.0) rather than crashing or hanging, the outage is logged once,
// a recordResults that failed keeps its DSN bodies so the same call can be retried, and the
// pool reconnects when the server is back. A statement held up by a lock past
// storage.statementTimeout is also "unavailable" (retry later), with nothing committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import type { NewMessage } from '../store.js';
import { PgInstance } from '../../../test/helpers/pg-instance.js';
import { TOOLS, skipUnless } from '../../../test/helpers/require-tool.js';
import { PostgresQueueStore } from './postgres-store.js';

const skip = await skipUnless(TOOLS.pgServerBinaries);

const message = (id: string, over: Partial<NewMessage> = {}): NewMessage => ({
  id, mailFrom: 'sender@example.org', recipients: ['rcpt@example.net'], size: 10, receivedAt: 1_000,
  origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, isBounce: false, route: 'relay', ...over,
});

async function body(store: PostgresQueueStore, id: string): Promise<void> {
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
}

test('postgres store: server stopped and started again', { skip, timeout: 60_000 }, async (t) => {
  const server = await PgInstance.create();
  assert.ok(server, 'PostgreSQL server binaries are required under CI');
  let store: PostgresQueueStore | null = null;
  t.after(async () => { await store?.close(); await server.cleanup(); }); // hooks run in order: the server last
  await server.start();
  const out = new PassThrough();
  const events: string[] = [];
  out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) events.push((JSON.parse(l) as { event: string }).event); });
  store = new PostgresQueueStore({ url: server.url(), logger: createLogger('info', out), poolSize: 3, connectTimeoutMs: 2_000 });
  await store.open();

  const a = newQueueId();
  await body(store, a);
  await store.put(message(a));
  const [job] = await store.claimDue({ now: 2_000, limit: 10, leaseMs: 60_000, owner: 'n1' });
  assert.ok(job);
  const dsn = newQueueId();
  await body(store, dsn);

  await server.stop('fast');
  const b = newQueueId();
  await body(store, b);
  await assert.rejects(store.put(message(b)), { code: 'ERR_QUEUE_UNAVAILABLE', reply: { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' } });
  const outcome = [{ rcptId: job.recipients[0]!.id, status: 'bounced' as const, response: '550 5.1.1 unknown' }];
  const generated = [{ message: message(dsn, { mailFrom: '', recipients: ['sender@example.org'], isBounce: true }) }];
  await assert.rejects(store.recordResults(a, outcome, generated, { owner: 'n1' }), { code: 'ERR_QUEUE_UNAVAILABLE' });
  await assert.rejects(store.counts(), { code: 'ERR_QUEUE_UNAVAILABLE' });
  await assert.rejects(store.claimDue({ now: 3_000, limit: 10, leaseMs: 60_000, owner: 'n1' }), { code: 'ERR_QUEUE_UNAVAILABLE' });

  await server.start();
  // The same call again: the DSN body was kept, the pool reconnects.
  await store.recordResults(a, outcome, generated, { owner: 'n1' });
  assert.equal((await store.getMessage(dsn))?.isBounce, true, 'the DSN generated with the retried results is stored');
  assert.equal(await store.getMessage(b), null, 'the refused put committed nothing');
  assert.deepEqual(await store.counts(), { queued: 1, deferred: 0, delivering: 0, held: 0, delivered: 0, bounced: 1, expired: 0, suppressed: 0 });
  await new Promise((r) => setImmediate(r));
  assert.equal(events.filter((e) => e === 'queue.unavailable').length, 1, 'the outage is logged once'); // its end: availability.test.ts
});

test('postgres store: a statement past statementTimeout is unavailable (retry later) and commits nothing', { skip, timeout: 60_000 }, async (t) => {
  const server = await PgInstance.create();
  assert.ok(server);
  const store = new PostgresQueueStore({ url: server.url(), logger: createLogger('silent'), poolSize: 2, statementTimeoutMs: 300 });
  const locker = new pg.Client({ connectionString: server.url() });
  locker.on('error', () => undefined);
  t.after(async () => { await locker.end().catch(() => undefined); await store.close(); await server.cleanup(); }); // the server last
  await server.start();
  await store.open();
  const a = newQueueId();
  await body(store, a);
  await store.put(message(a));
  const [job] = await store.claimDue({ now: 2_000, limit: 10, leaseMs: 60_000, owner: 'n1' });
  assert.ok(job);

  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('SELECT 1 FROM queued_message WHERE id = $1 FOR UPDATE', [a]); // recordResults waits for this lock
  const outcome = [{ rcptId: job.recipients[0]!.id, status: 'delivered' as const, response: '250 ok' }];
  await assert.rejects(store.recordResults(a, outcome, [], { owner: 'n1' }), { code: 'ERR_QUEUE_UNAVAILABLE' });
  await locker.query('ROLLBACK');
  assert.equal((await store.counts()).delivering, 1, 'nothing was committed');
  await store.recordResults(a, outcome, [], { owner: 'n1' });
  assert.equal((await store.counts()).delivered, 1);
});
