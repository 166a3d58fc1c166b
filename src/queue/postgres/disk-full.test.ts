// The PostgreSQL store when the server's disk is full, at the contract level: the server really
// answers SQLSTATE 53100 disk_full (raised by a trigger on the recipient table, in a fresh
// database on the shared server: a real full disk would stop the other tests' server), and the
// store must treat it as an outage — QueueUnavailableError (451 4.3.0) for put and recordResults,
// not writable for /readyz while reads still work — and take the same recordResults once the
// "space" is back, then be writable again. Which SQLSTATEs count: availability.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freshDatabase, pgReachable } from '../../../test/helpers/postgres.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import type { NewMessage, RecipientOutcome } from '../store.js';
import { PostgresQueueStore } from './postgres-store.js';

const skip = !(await pgReachable()) && process.env.CI !== 'true' && 'PostgreSQL not reachable (PL_TEST_PG_URL)';

const message = (id: string): NewMessage => ({
  id, mailFrom: 'sender@example.org', recipients: ['rcpt@example.net'], size: 10, receivedAt: 1_000,
  origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, isBounce: false, route: 'relay',
});

async function put(store: PostgresQueueStore, id: string): Promise<void> {
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
  await store.put(message(id));
}

const DISK_FULL = `
  CREATE FUNCTION pl_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'could not extend file "base/16384/16400": No space left on device' USING ERRCODE = 'disk_full'; END $$;
  CREATE TRIGGER pl_test_disk_full BEFORE INSERT OR UPDATE ON recipient FOR EACH ROW EXECUTE FUNCTION pl_test_disk_full();`;

test('postgres store: disk_full (53100) is an outage: 451, not writable, the same results recorded once space is back', { skip, timeout: 60_000 }, async (t) => {
  let store: PostgresQueueStore | null = null;
  let admin: pg.Client | null = null;
  t.after(async () => { await admin?.end().catch(() => undefined); await store?.close(); }); // hooks run in order: before the drop
  const url = await freshDatabase(t, 'postlane_diskfull');
  store = new PostgresQueueStore({ url, logger: createLogger('silent'), poolSize: 2 });
  admin = new pg.Client({ connectionString: url });
  await store.open();
  await admin.connect();

  const a = newQueueId();
  await put(store, a);
  const [job] = await store.claimDue({ now: 2_000, limit: 10, leaseMs: 60_000, owner: 'n1' });
  assert.ok(job);
  const outcome: RecipientOutcome[] = [{ rcptId: job.recipients[0]!.id, status: 'delivered', response: '250 ok' }];

  await admin.query(DISK_FULL);
  const unavailable = { code: 'ERR_QUEUE_UNAVAILABLE', reply: { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' } };
  await assert.rejects(store.recordResults(a, outcome, [], { owner: 'n1' }), (err: Error & { cause?: { code?: string } }) => {
    assert.equal(err.cause?.code, '53100', 'the server itself answered disk_full');
    return (err as { code?: string }).code === unavailable.code;
  });
  await assert.rejects(put(store, newQueueId()), unavailable);
  const check = await store.checkWritable();
  assert.equal(check.writable, false);
  assert.match(check.reason ?? '', /\(53100\)/);
  assert.equal((await store.counts()).delivering, 1, 'reads still work: not a connection outage');
  assert.equal((await store.checkWritable()).writable, false, 'a read does not end the outage');

  await admin.query('DROP TRIGGER pl_test_disk_full ON recipient');
  await store.recordResults(a, outcome, [], { owner: 'n1' }); // the outcome kept in memory, recorded as it was
  assert.deepEqual(await store.counts(), { queued: 0, deferred: 0, delivering: 0, held: 0, delivered: 1, bounced: 0, expired: 0 });
  for (let i = 0; !(await store.checkWritable()).writable; i++) { // writable after a write past the settle time
    assert.ok(i < 100, 'writable again within 10 s');
    await new Promise((r) => setTimeout(r, 100));
    await store.recordHeartbeat({ nodeId: 'n1', startedAt: 1, lastSeenAt: Date.now(), inFlight: 0 });
  }
});
