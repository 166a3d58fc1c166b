// The PostgreSQL store when the server's disk is full: the store must treat SQLSTATE 53100
// disk_full as an outage — QueueUnavailableError (451 4.3.0), not writable for /readyz while reads
// still work — and work again, writable, once space is back. Which SQLSTATEs count:
// availability.test.ts. Two servers:
//   - the shared one, where a trigger on the recipient table raises disk_full (every write of
//     put and recordResults fails, deterministically), in a fresh database;
//   - a private server (test/helpers/pg-instance.ts) on a small tmpfs (root only) that really
//     runs out of space: a large body cannot be stored (could not extend file), then can.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { findPgBinDir, PgInstance } from '../../../test/helpers/pg-instance.js';
import { freshDatabase, pgReachable } from '../../../test/helpers/postgres.js';
import { SmallFs, smallFsSkip } from '../../../test/helpers/small-fs.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import type { NewMessage, RecipientOutcome } from '../store.js';
import { PostgresQueueStore } from './postgres-store.js';
import { TOOLS, skipUnless } from '../../../test/helpers/require-tool.js';

const skip = await skipUnless(TOOLS.postgres);

const message = (id: string): NewMessage => ({
  id, mailFrom: 'sender@example.org', recipients: ['rcpt@example.net'], size: 10, receivedAt: 1_000,
  origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, isBounce: false, route: 'relay',
});

async function put(store: PostgresQueueStore, id: string, body = Buffer.from('Subject: t\r\n\r\nhi\r\n')): Promise<void> {
  const w = store.createBody(id);
  await w.write(body);
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
  assert.deepEqual(await store.counts(), { queued: 0, deferred: 0, delivering: 0, held: 0, delivered: 1, bounced: 0, expired: 0, suppressed: 0 });
  for (let i = 0; !(await store.checkWritable()).writable; i++) { // writable after a write past the settle time
    assert.ok(i < 100, 'writable again within 10 s');
    await new Promise((r) => setTimeout(r, 100));
    await store.recordHeartbeat({ nodeId: 'n1', startedAt: 1, lastSeenAt: Date.now(), inFlight: 0 });
  }
});

const bin = await findPgBinDir();
const realSkip = smallFsSkip || (await skipUnless(TOOLS.pgServerBinaries));

test('postgres store: a private server on a full tmpfs: 53100 is an outage (451, not writable), then it recovers', { skip: realSkip, timeout: 120_000 }, async (t) => {
  const disk = await SmallFs.mount(96);
  let server: PgInstance | null = null;
  let store: PostgresQueueStore | null = null;
  t.after(async () => { await store?.close(); await server?.cleanup(); await disk.cleanup(); }); // in order: the filesystem last
  server = await PgInstance.create({ parentDir: disk.dir, small: true });
  assert.ok(server, 'PostgreSQL server binaries are required under CI');
  await server.start();
  const out = new PassThrough();
  const events: string[] = [];
  out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) events.push((JSON.parse(l) as { event: string }).event); });
  store = new PostgresQueueStore({ url: server.url(), logger: createLogger('info', out), poolSize: 2 });
  await store.open();
  const a = newQueueId();
  await put(store, a);
  const [job] = await store.claimDue({ now: 2_000, limit: 10, leaseMs: 60_000, owner: 'n1' });
  assert.ok(job);
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query('CHECKPOINT'); // WAL segments recycled: the server needs no new one while full
  await admin.end();

  await disk.fill();
  const large = randomBytes(400_000); // incompressible: new TOAST pages
  // The first write that needs space the server does not hold yet fails; one or two may still fit in
  // space it had allocated before the disk filled (free pages in its relation files), and are kept.
  let accepted = 0;
  for (;; accepted++) {
    assert.ok(accepted < 20, 'a put fails with disk_full within 20 × 400 KB on a full disk');
    const err = await put(store, newQueueId(), randomBytes(400_000)).then(() => null, (e: unknown) => e as Error & { code?: string; cause?: { code?: string } });
    if (!err) continue;
    assert.equal(err.cause?.code, '53100', `the server ran out of space: ${err.message}`);
    assert.equal(err.code, 'ERR_QUEUE_UNAVAILABLE');
    break;
  }
  assert.equal((await store.checkWritable()).writable, false);
  assert.equal((await store.counts()).delivering, 1, 'reads still work');

  await disk.free();
  await store.recordResults(a, [{ rcptId: job.recipients[0]!.id, status: 'delivered', response: '250 ok' }], [], { owner: 'n1' });
  await put(store, newQueueId(), large);
  for (let i = 0; !(await store.checkWritable()).writable; i++) {
    assert.ok(i < 100, 'writable again within 10 s');
    await new Promise((r) => setTimeout(r, 100));
    await store.recordHeartbeat({ nodeId: 'n1', startedAt: 1, lastSeenAt: Date.now(), inFlight: 0 });
  }
  assert.deepEqual(await store.counts(), { queued: 1 + accepted, deferred: 0, delivering: 0, held: 0, delivered: 1, bounced: 0, expired: 0, suppressed: 0 });
  const log = await fs.readFile(path.join(server.dir, 'server.log'), 'utf8');
  assert.doesNotMatch(log, /PANIC/, 'the server survived its full disk');
  assert.deepEqual(events.filter((e) => /^queue\.(un)?available$/.test(e)), ['queue.unavailable', 'queue.available'], 'logged once each');
});
