// Runs the QueueStore contract (queue, bodies, domains) against PostgresQueueStore on a fresh
// database created for this file (dropped at the end), plus what only a shared database has:
// concurrent migration by several nodes, and concurrent claimers never leasing a recipient twice.
// The server is PL_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); when it is
// unreachable the tests are skipped, except under CI=true where that is a failure.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { platformStoreContract } from '../../../test/contract/platform-store.contract.js';
import { breakerContract } from '../../../test/contract/breaker.contract.js';
import { sourceStoreContract } from '../../../test/contract/source-store.contract.js';
import { timelineContract } from '../../../test/contract/timeline.contract.js';
import { queueCountContract, WAITING_TRUTH, type CountGroup } from '../../../test/contract/queue-count.contract.js';
import type { BreakerPolicy } from '../breaker-rules.js';
import { queueStoreContract } from '../../../test/contract/queue-store.contract.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import { MIGRATIONS } from './migrations.js';
import { PostgresQueueStore } from './postgres-store.js';
import { claimDue } from './claim-due.js';
import { pgTypesOver, type Conn } from './rows.js';

const logger = createLogger('silent');
const ADMIN_URL = process.env.PL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** PL_TEST_PG_DB_PREFIX: another prefix for the test database's name (several runs sharing a server). */
const DB_NAME = `${process.env.PL_TEST_PG_DB_PREFIX ?? 'postlane_test_'}${randomBytes(6).toString('hex')}`;
const TABLES = 'queued_message, message_body, recipient, attempt, smtp_user, smtp_user_domain, sending_domain, dkim_key, destination_slot, api_key, usage_counter, event, webhook, webhook_delivery, webhook_attempt, idempotency_key, suppression, soft_bounce, stat_counter, stat_delta, queue_count, queue_count_delta, installation_secret, breaker, breaker_counter, breaker_counter_shard, dashboard_session, dashboard_user, egress_source, warmup_count';

function withDatabase(base: string, db: string): string {
  const u = new URL(base);
  u.pathname = `/${db}`;
  return u.href;
}

/** Creates the test database; null (with the reason) when the server cannot be reached. */
async function createDatabase(): Promise<string | null> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DB_NAME}`);
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function dropDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try { await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`); } finally { await admin.end(); }
}

const unreachable = await createDatabase();
const url = withDatabase(ADMIN_URL, DB_NAME);
const newStore = (poolSize = 4, breakers?: BreakerPolicy) => new PostgresQueueStore({ url, logger, poolSize, ...(breakers ? { breakers } : {}) });

/** What `TRUNCATE ${TABLES} RESTART IDENTITY CASCADE` empties: the tables, every table referencing them (transitively), and their sequences. */
let emptied: { tables: string[]; sequences: string[] } | null = null;

async function tablesToEmpty(c: pg.Client): Promise<{ tables: string[]; sequences: string[] }> {
  const { rows: tables } = await c.query<{ oid: number; name: string }>(`
    WITH RECURSIVE closure(oid) AS (
      SELECT unnest(string_to_array($1, ', ')::regclass[])::oid
      UNION SELECT k.conrelid FROM pg_constraint k JOIN closure ON k.confrelid = closure.oid WHERE k.contype = 'f')
    SELECT oid::int AS oid, oid::regclass::text AS name FROM closure`, [TABLES]);
  const { rows: sequences } = await c.query<{ name: string }>(`
    SELECT DISTINCT d.objid::regclass::text AS name FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjid = ANY($1::oid[])`,
  [tables.map((t) => t.oid)]);
  return { tables: tables.map((t) => t.name), sequences: sequences.map((s) => s.name) };
}

/**
 * Empties every table between tests (the schema stays): each contract test starts from an empty queue.
 * The same rows and sequences as `TRUNCATE … RESTART IDENTITY CASCADE`, but by DELETE: the tables
 * hold a few rows, and TRUNCATE gives each of some 80 tables and indexes new files (0.4–0.9 s a test,
 * half of this file's time). Foreign keys are not checked while every referencing table is emptied
 * in the same transaction (session_replication_role = replica, as a restore does).
 */
/** Puts message number `i` (a one-line body, from the MX listener) through `store`; its id. */
async function putNumbered(store: PostgresQueueStore, i: number, recipients: string[]): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from(`body ${i}\r\n`));
  await w.finish();
  await store.put({ id, mailFrom: 's@example.org', recipients, size: w.bytesWritten, receivedAt: i, origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
  return id;
}

async function truncate(): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    emptied ??= await tablesToEmpty(c);
    await c.query(['BEGIN', 'SET LOCAL session_replication_role = replica',
      ...emptied.tables.map((t) => `DELETE FROM ${t}`), ...emptied.sequences.map((s) => `ALTER SEQUENCE ${s} RESTART`), 'COMMIT'].join(';\n'));
    await c.query(`DELETE FROM account WHERE name <> 'default'`); // the default account is part of the schema
  } finally { await c.end(); }
}

if (unreachable !== null) {
  const reason = `PostgreSQL unreachable at ${ADMIN_URL} (${unreachable}); set PL_TEST_PG_URL`;
  if (process.env.CI === 'true') test('postgres: server reachable (required under CI)', () => assert.fail(reason));
  else test('postgres: contract and concurrency tests', { skip: reason }, () => undefined);
} else {
  after(dropDatabase);

  test('postgres: several nodes opening a fresh database at once migrate it exactly once', async () => {
    const stores = Array.from({ length: 4 }, () => newStore(2));
    await Promise.all(stores.map((s) => s.open()));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version), "each version recorded once");
    } finally {
      await c.end();
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  platformStoreContract('postgres', async () => {
    const store = newStore();
    await store.open();
    await truncate();
    const peers: PostgresQueueStore[] = [];
    return {
      store,
      openPeer: async () => { const p = newStore(); await p.open(); peers.push(p); return p; }, // a second node
      cleanup: async () => { for (const p of peers) await p.close(); await store.close(); },
    };
  });

  timelineContract('postgres', async () => {
    const store = newStore();
    await store.open();
    await truncate();
    return { store, cleanup: async () => { await store.close(); } };
  });

  sourceStoreContract('postgres', async () => {
    const store = newStore();
    await store.open();
    await truncate();
    const peers: PostgresQueueStore[] = [];
    return {
      store,
      openPeer: async () => { const p = newStore(); await p.open(); peers.push(p); return p; }, // a second node
      cleanup: async () => { for (const p of peers) await p.close(); await store.close(); },
    };
  });

  breakerContract('postgres', async (breakers) => {
    const store = newStore(4, breakers);
    await store.open();
    await truncate();
    return { store, cleanup: () => store.close() };
  });

  queueCountContract('postgres', async () => {
    const store = newStore();
    await store.open();
    await truncate();
    const read = async (text: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try { return (await c.query<CountGroup>(text)).rows; } finally { await c.end(); }
    };
    return {
      store,
      truth: () => read(WAITING_TRUTH),
      counted: () => read(`SELECT account, domain, state, sum(n) AS n FROM (SELECT account, domain, state, n FROM queue_count
                             UNION ALL SELECT account, domain, state, n FROM queue_count_delta) AS u
                           GROUP BY account, domain, state HAVING sum(n) <> 0`),
      cleanup: () => store.close(),
    };
  });

  queueStoreContract('postgres', async () => {
    const store = newStore();
    await store.open();
    await truncate();
    return { store, cleanup: () => store.close() };
  });

  test('postgres: two stores claiming concurrently never lease the same recipient twice', async () => {
    await truncate();
    const a = newStore();
    const b = newStore();
    await a.open();
    await b.open();
    try {
      const total = 300;
      for (let i = 0; i < total / 3; i++) await putNumbered(a, i, [`x${i}@one.example`, `y${i}@one.example`, `z${i}@two.example`]);
      const leased = new Map<number, string>();
      const worker = async (store: PostgresQueueStore, owner: string) => {
        for (;;) {
          const jobs = await store.claimDue({ now: 1_000, limit: 7, leaseMs: 60_000, owner });
          // An empty claim is not the end: the rows another claimer's transaction has locked are
          // skipped, not waited for. Stop only when nothing is left waiting.
          if (jobs.length === 0) {
            if ((await store.counts()).queued === 0) return;
            await new Promise((r) => setTimeout(r, 1));
            continue;
          }
          for (const r of jobs.flatMap((j) => j.recipients)) {
            assert.equal(leased.get(r.id), undefined, `recipient ${r.id} leased twice`);
            leased.set(r.id, owner);
          }
        }
      };
      await Promise.all([worker(a, 'a1'), worker(a, 'a2'), worker(b, 'b1'), worker(b, 'b2')]);
      assert.equal(leased.size, total, 'every recipient leased exactly once');
      assert.deepEqual(await b.counts(), { queued: 0, deferred: 0, delivering: total, held: 0, delivered: 0, bounced: 0, expired: 0, suppressed: 0 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('postgres: two stores finishing the two domains of each message at once: every message completes exactly once, its body deleted, every attempt kept, a stale owner\'s too', async () => {
    const a = newStore();
    const b = newStore();
    await a.open();
    await b.open();
    await truncate();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const total = 40;
      for (let i = 0; i < total; i++) await putNumbered(a, i, [`x${i}@one.example`, `y${i}@two.example`]);
      const jobs = await a.claimDue({ now: 1_000, limit: 2 * total, leaseMs: 60_000, owner: 'n' });
      assert.equal(jobs.length, 2 * total);
      const byMessage = new Map<string, typeof jobs>();
      for (const j of jobs) byMessage.set(j.messageId, [...(byMessage.get(j.messageId) ?? []), j]);
      // A stale reporter first (not the lease's owner): its attempt is kept, its outcome is not.
      const [first] = jobs;
      await b.recordResults(first!.messageId, first!.recipients.map((r) => ({ rcptId: r.id, status: 'bounced' as const, response: '550 stale' })), [], { owner: 'other' });
      await Promise.all([...byMessage.values()].map(([one, two]) => Promise.all([
        a.recordResults(one!.messageId, one!.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })), [], { owner: 'n' }),
        b.recordResults(two!.messageId, two!.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })), [], { owner: 'n' }),
      ])));
      const q = async (sql: string) => Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
      assert.equal(await q('SELECT count(*) AS n FROM queued_message WHERE completed_at IS NULL'), 0, 'every message completed');
      assert.equal(await q('SELECT count(*) AS n FROM message_body'), 0, 'every body deleted with its completion');
      assert.equal(await q(`SELECT count(*) AS n FROM recipient WHERE state <> 'delivered'`), 0, 'the stale outcome overwrote nothing');
      assert.equal(await q('SELECT count(*) AS n FROM attempt'), 2 * total + 1, 'every attempt kept, the stale one too');
      assert.equal(await q(`SELECT count(*) AS n FROM attempt WHERE status = 'bounced' AND response = '550 stale'`), 1);
      assert.equal(await q(`SELECT count(*) AS n FROM event WHERE type = 'delivered'`), 2 * total);
    } finally {
      await c.end();
      await a.close();
      await b.close();
    }
  });

  test('postgres: delivery results that come together commit as one transaction (group commit); a batch with a failing result records the others, and only that one fails', async () => {
    const store = newStore();
    await store.open();
    await truncate();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const total = 16;
      for (let i = 0; i < total; i++) await putNumbered(store, i, [`r${i}@one.example`]);
      const jobs = await store.claimDue({ now: 1_000, limit: total, leaseMs: 60_000, owner: 'n' });
      assert.equal(jobs.length, total);
      const ok = (j: (typeof jobs)[number]) => j.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' }));
      // 1. Ten at once: two go alone (RESULT_LANES), the eight that waited share one transaction.
      await Promise.all(jobs.slice(0, 10).map((j) => store.recordResults(j.messageId, ok(j), [], { owner: 'n' })));
      const xids = async (ids: string[]) => Number((await c.query<{ n: string }>(
        'SELECT count(DISTINCT xmin::text) AS n FROM attempt WHERE message_id = ANY($1)', [ids])).rows[0]!.n);
      assert.ok(await xids(jobs.slice(0, 10).map((j) => j.messageId)) < 10, 'some results shared a transaction');
      // 2. Six at once, one of them failing in the database (a recipient id that is no number): it
      // fails, alone; the batch it was in rolled back and the others were recorded each on its own.
      const rest = jobs.slice(10);
      const bad = rest[4]!;
      const settled = await Promise.allSettled(rest.map((j) => store.recordResults(j.messageId,
        j === bad ? [{ rcptId: 'x' as unknown as number, status: 'delivered' as const, response: '250 ok' }] : ok(j), [], { owner: 'n' })));
      assert.deepEqual(settled.map((s) => s.status), rest.map((j) => (j === bad ? 'rejected' : 'fulfilled')));
      const q = async (sql: string, v: unknown[] = []) => Number((await c.query<{ n: string }>(sql, v)).rows[0]!.n);
      assert.equal(await q(`SELECT count(*) AS n FROM recipient WHERE state = 'delivered'`), total - 1);
      assert.equal(await q(`SELECT count(*) AS n FROM recipient WHERE state = 'delivering' AND message_id = $1`, [bad.messageId]), 1);
      assert.equal(await q('SELECT count(*) AS n FROM queued_message WHERE completed_at IS NULL'), 1, 'every other message completed');
      assert.equal(await q('SELECT count(*) AS n FROM attempt'), total - 1, 'one attempt each, none twice');
      assert.equal(await q(`SELECT count(*) AS n FROM event WHERE type = 'delivered'`), total - 1);
    } finally {
      await c.end();
      await store.close();
    }
  });

  test('postgres: small bodies asked for in one turn are read with one statement (16 at most); an unknown or finished message fails alone; a read alone runs the one-row statement', async () => {
    const store = newStore();
    await store.open();
    await truncate();
    // Count the body reads every pooled connection sends (the store's pg is this module: the same Client class).
    const query = pg.Client.prototype.query;
    const sent: string[] = [];
    pg.Client.prototype.query = function (this: pg.Client, q: unknown, ...rest: unknown[]) {
      const name = (q as { name?: string } | null)?.name;
      if (name === 'pl_body_source' || name === 'pl_body_sources') sent.push(`${name.slice(3)}:${(q as { values: unknown[] }).values[0]!.toString().split(',').length}`);
      return (query as (...a: unknown[]) => unknown).call(this, q, ...rest);
    } as typeof query;
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await putNumbered(store, i, [`r${i}@one.example`]));
      // message 3 finishes (delivered, completed, its body deleted)
      const [job] = (await store.claimDue({ now: 1_000, limit: 40, leaseMs: 60_000, owner: 'n' })).filter((j) => j.messageId === ids[3]);
      await store.recordResults(ids[3]!, [{ rcptId: job!.recipients[0]!.id, status: 'delivered', response: '250 ok' }], [], { owner: 'n' });
      const unknown = newQueueId();
      // 12 at once, one of them asked twice, one unknown, one finished: one statement (12 distinct ids)
      const asked = [...ids.slice(0, 11), ids[0]!, unknown];
      const settled = await Promise.allSettled(asked.map((id) => store.readMessage(id)));
      assert.deepEqual(sent, ['body_sources:12'], 'one statement for the reads of one turn (the repeated id once)');
      settled.forEach((s, k) => {
        const id = asked[k]!;
        if (id === unknown || id === ids[3]) {
          assert.equal(s.status, 'rejected', id);
          assert.equal((s as PromiseRejectedResult).reason.code, 'ERR_NOT_FOUND');
        } else {
          assert.equal(s.status, 'fulfilled', id);
          assert.equal(((s as PromiseFulfilledResult<Buffer>).value).toString('latin1'), `body ${ids.indexOf(id)}\r\n`);
        }
      });
      // 19 at once: 16, then 3
      sent.length = 0;
      const many = ids.filter((id) => id !== ids[3]);
      const bodies = await Promise.all(many.map((id) => store.readMessage(id)));
      assert.deepEqual(sent, ['body_sources:16', 'body_sources:3']);
      assert.deepEqual(bodies.map((b) => (b as Buffer).toString('latin1')), many.map((id) => `body ${ids.indexOf(id)}\r\n`));
      // alone in its turn: the one-row statement, as before
      sent.length = 0;
      assert.equal((await store.readMessage(ids[5]!) as Buffer).toString('latin1'), 'body 5\r\n');
      await assert.rejects(store.readMessage(ids[3]!), { code: 'ERR_NOT_FOUND' });
      assert.deepEqual(sent, ['body_source:1', 'body_source:1']);
    } finally {
      pg.Client.prototype.query = query;
      await store.close();
    }
  });

  test('postgres: a claim locks only what it leases: a second claimer gets work while the first one\'s transaction is open, before its lease and after it', async () => {
    await truncate();
    const store = newStore();
    await store.open();
    // The first claimer: claimDue on a connection of our own, so the test holds its transaction open
    // between statements (paused before its lease, the first UPDATE) and before its commit.
    const held = new pg.Client({ connectionString: url, types: pgTypesOver(pg.types) });
    await held.connect();
    try {
      const total = 40;
      for (let i = 0; i < total; i++) await putNumbered(store, i, [`r${i}@d${i % 4}.example`]);
      const limit = 5;
      const ids = (jobs: { recipients: { id: number }[] }[]) => jobs.flatMap((j) => j.recipients.map((r) => Number(r.id)));
      const claimHeld = async (beforeLease: (() => Promise<void>) | null) => {
        let paused = false;
        const conn = new Proxy(held, {
          get(target, prop, receiver) {
            if (prop !== 'query') return Reflect.get(target, prop, receiver);
            return async (q: string | { text: string }, ...rest: unknown[]) => {
              const text = typeof q === 'string' ? q : q.text;
              if (beforeLease && !paused && /\bUPDATE recipient\b/.test(text)) { paused = true; await beforeLease(); }
              return (target.query as (...a: unknown[]) => Promise<unknown>)(q, ...rest);
            };
          },
        }) as unknown as Conn;
        return claimDue(conn, { now: 1_000, limit, leaseMs: 60_000, owner: 'held' });
      };

      // 1. The first claimer has leased (not committed): the second one leases the next groups.
      await held.query('BEGIN');
      const first = await claimHeld(null);
      const second = await store.claimDue({ now: 1_000, limit, leaseMs: 60_000, owner: 'other' });
      await held.query('COMMIT');
      assert.equal(first.length, limit);
      assert.equal(second.length, limit, 'the second claimer was not locked out by the first one\'s open transaction');

      // 2. The first claimer has read the queue's head, then another claim leases that head and
      // commits before the first one's lease: the first one passes over it and leases the next groups.
      await held.query('BEGIN');
      let third: Awaited<ReturnType<typeof store.claimDue>> = [];
      const fourth = await claimHeld(async () => { third = await store.claimDue({ now: 1_000, limit, leaseMs: 60_000, owner: 'other' }); });
      await held.query('COMMIT');
      assert.equal(third.length, limit);
      assert.equal(fourth.length, limit, 'the first claimer leased the groups after the ones taken under it');

      const all = [first, second, third, fourth].flatMap(ids);
      assert.equal(new Set(all).size, all.length, 'no recipient leased twice');
      assert.equal(all.length, 4 * limit);
      // In due order: the four claims took the 20 first recipients.
      const { rows } = await held.query<{ id: number }>("SELECT id FROM recipient WHERE state = 'delivering' ORDER BY id");
      assert.deepEqual(rows.map((r) => Number(r.id)), [...all].sort((a, b) => a - b));
      assert.deepEqual((await store.counts()).queued, total - 4 * limit);
    } finally {
      await held.end();
      await store.close();
    }
  });

  test('postgres: a delivery in a breaker window past its minimum volume does not wait on the counter rows a bounce holds; sums, trips and the fold count it', async () => {
    const policy: BreakerPolicy = { enabled: true, scopes: ['account', 'domain'], windowMs: 3_600_000, minVolume: 4, thresholds: { hard_bounce: 0.5 }, pauseTransactional: false };
    await truncate();
    const store = newStore(4, policy);
    await store.open();
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };
      const send = async (n: number, status: 'delivered' | 'bounced') => {
        for (let i = 0; i < n; i++) {
          const id = newQueueId();
          const w = store.createBody(id);
          await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
          await w.finish();
          await store.put({ id, mailFrom: 'news@acme.example', recipients: [`r${i}@list.example`], size: w.bytesWritten, receivedAt: Date.now(), origin,
            isBounce: false, route: 'relay', meta: { account: 'default', stream: 'broadcast', tags: [], metadata: {} } });
          const [job] = await store.claimDue({ now: Date.now(), limit: 1, leaseMs: 60_000, owner: 'n1' });
          await store.recordResults(job!.messageId, job!.recipients.map((r) => ({ rcptId: r.id, status, host: 'mx.example.net',
            response: status === 'delivered' ? '250 2.0.0 ok' : '550 5.1.1 user unknown' })), [], { owner: 'n1' });
        }
      };
      const sharded = async () => Number((await sql.query<{ n: string | null }>("SELECT sum(n) AS n FROM breaker_counter_shard WHERE counter = 'final'")).rows[0]!.n ?? 0);
      await send(4, 'delivered'); // under the minimum volume: counted on the shared row, checked
      assert.equal(await sharded(), 0);
      // A bounce being recorded holds the account's and domain's shared rows until its commit.
      await holder.query('BEGIN');
      await holder.query('UPDATE breaker_counter SET n = n');
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'waited'>((resolve) => { timer = setTimeout(() => resolve('waited'), 5000); });
      assert.equal(await Promise.race([send(1, 'delivered').then(() => 'done' as const), waited]), 'done', 'the delivery did not wait for the held rows');
      clearTimeout(timer);
      await holder.query('ROLLBACK');
      assert.equal(await sharded(), 2, 'the delivery added to a shard in both scopes');
      // 5 bounces: 5 of 10 final = 50 %: trips on the fifth with the sharded delivery in its volume.
      await send(4, 'bounced');
      assert.equal((await store.listBreakers({ open: true })).length, 0, '4 of 9 is under 50 %');
      await send(1, 'bounced');
      const open = await store.listBreakers({ open: true });
      assert.deepEqual(open.map((b) => `${b.scope.type}:${b.scope.key}:${b.count}/${b.volume}`).sort(), ['account:default:5/10', 'domain:acme.example:5/10']);
      // The fold moves past buckets' shards into breaker_counter and keeps every sum.
      const totals = `SELECT scope_type, scope_key, bucket, counter, sum(n)::int AS n FROM (SELECT scope_type, scope_key, bucket, counter, n FROM breaker_counter
        UNION ALL SELECT scope_type, scope_key, bucket, counter, n FROM breaker_counter_shard) AS c GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
      const before = (await sql.query(totals)).rows;
      assert.equal(await store.compactStats() >= 0, true);
      assert.equal(await sharded(), 2, 'the current bucket is not folded');
      const { foldBreakerShards } = await import('./breaker-ops.js');
      await foldBreakerShards(sql as unknown as Parameters<typeof foldBreakerShards>[0], Date.now() + 2 * 86_400_000);
      assert.equal(await sharded(), 0);
      assert.deepEqual((await sql.query(totals)).rows, before);
    } finally {
      await holder.end();
      await sql.end();
      await store.close();
    }
  });

  test('postgres: after v19 a node of the previous release still counts: its four-column upsert of breaker_counter works, and sums see it beside the shards', async () => {
    await truncate();
    const store = newStore(2);
    await store.open();
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    try {
      // The previous release's statement, word for word: ON CONFLICT needs the four-column key.
      const oldUpsert = `INSERT INTO breaker_counter (scope_type, scope_key, bucket, counter, n)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])
                 ON CONFLICT (scope_type, scope_key, bucket, counter) DO UPDATE SET n = breaker_counter.n + excluded.n`;
      const bucket = Math.floor(Date.now() / 75_000) * 75_000;
      for (let i = 0; i < 2; i++) await sql.query(oldUpsert, [['account'], ['default'], [bucket], ['final'], [3]]);
      await sql.query(`INSERT INTO breaker_counter_shard (scope_type, scope_key, bucket, counter, shard, n) VALUES ('account', 'default', $1, 'final', 5, 4)`, [bucket]);
      const { rows } = await sql.query(`SELECT sum(n)::int AS n FROM (SELECT n FROM breaker_counter WHERE scope_key = 'default' UNION ALL SELECT n FROM breaker_counter_shard WHERE scope_key = 'default') AS c`);
      assert.equal(rows[0].n, 10);
    } finally {
      await sql.end();
      await store.close();
    }
  });

  test('postgres: a prepared statement made stale by a column type change (0A000) is retried once on a fresh connection (no older pooled one), reads and writes', async () => {
    await truncate();
    const warnings: string[] = [];
    const capture = { ...logger, warn: (o: { event?: string }) => { if (o.event) warnings.push(o.event); } } as typeof logger;
    const store = new PostgresQueueStore({ url, logger: capture, poolSize: 2 });
    await store.open();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const put = (i: number) => putNumbered(store, i, [`r${i}@one.example`]);
    const body = async (id: string) => { const parts: Buffer[] = []; for await (const b of store.readBody(id)) parts.push(b as Buffer); return Buffer.concat(parts).toString(); };
    try {
      const first = await put(1);
      assert.deepEqual((await store.claimDue({ now: 1_000, limit: 5, leaseMs: 60_000, owner: 'n1' })).map((j) => j.messageId), [first]);
      assert.match(await body(first), /body 1/);
      // Both pooled connections prepare the claim's statements: after the change, the retry must not take the other stale one.
      const both = await Promise.all([1, 2].map(() => store.claimDue({ now: 1_000, limit: 5, leaseMs: 60_000, owner: 'n1' })));
      assert.deepEqual(both, [[], []]);
      // What a migration run by another node might do: the claim's walks return `mail_from`, the body read `completed_at`.
      await admin.query('ALTER TABLE queued_message ALTER COLUMN mail_from TYPE varchar(1000)');
      const second = await put(2);
      const jobs = await store.claimDue({ now: 1_000, limit: 5, leaseMs: 60_000, owner: 'n1' });
      assert.deepEqual(jobs.map((j) => [j.messageId, j.size]), [[second, Buffer.byteLength('body 2\r\n')]], 'the claim is retried, and leases once');
      assert.deepEqual(warnings, ['queue.stale_plan']);
      assert.match(await body(second), /body 2/); // prepared on the fresh connection
      await admin.query('ALTER TABLE queued_message ALTER COLUMN completed_at TYPE integer');
      assert.match(await body(first), /body 1/, 'the read is retried');
      assert.deepEqual(warnings, ['queue.stale_plan', 'queue.stale_plan']);
      assert.match(await body(second), /body 2/, 'the fresh connection works on');
      assert.equal((await store.claimDue({ now: 1_000, limit: 5, leaseMs: 60_000, owner: 'n1' })).length, 0);
    } finally {
      await admin.query('ALTER TABLE queued_message ALTER COLUMN mail_from TYPE text, ALTER COLUMN completed_at TYPE bigint');
      await admin.end();
      await store.close();
    }
  });

  test('postgres: concurrent acquirers on several stores never hold more than the limit of destination slots', async () => {
    await truncate();
    const stores = [newStore(3), newStore(3), newStore(3)];
    await Promise.all(stores.map((s) => s.open()));
    const LIMIT = 3;
    const held = new Map<string, string>(); // 'dest#slot' → owner, as granted by the database
    let peak = 0;
    let grants = 0;
    try {
      const worker = async (store: PostgresQueueStore, owner: string) => {
        for (let round = 0; round < 15; round++) {
          const got = await store.acquireDestinationSlots({
            owner, requests: [{ destination: 'hot.example', want: 1 + (round % 2) }, { destination: 'cold.example', want: 1 }],
            limit: LIMIT, now: 1_000, leaseMs: 60_000,
          });
          for (const g of got) {
            const k = `${g.destination}#${g.slot}`;
            assert.equal(held.get(k), undefined, `${k} granted to ${owner} while ${held.get(k)} holds it`);
            held.set(k, owner);
          }
          grants += got.length;
          peak = Math.max(peak, [...held.keys()].filter((k) => k.startsWith('hot.example#')).length);
          await new Promise((r) => setTimeout(r, 2));
          for (const g of got) held.delete(`${g.destination}#${g.slot}`); // before the database frees it
          await store.releaseDestinationSlots(owner, got);
        }
      };
      await Promise.all(stores.flatMap((s, i) => [0, 1, 2].map((j) => worker(s, `node-${i}-${j}`))));
      assert.ok(peak <= LIMIT, `at most ${LIMIT} hot.example slots held at once (peak ${peak})`);
      assert.ok(grants > 0);
      assert.equal(await stores[0]!.releaseDestinationSlots('node-0-0'), 0, 'everything was released');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('postgres: puts made while four are in flight go together, one transaction; a suppressed recipient among them is marked, a failing message fails alone', async () => {
    await truncate();
    const store = newStore();
    await store.open();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await store.addAccount({ name: 'acme', createdAt: 1, limits: {} });
      await store.addSuppressions([{ account: 'acme', address: 'gone@x.example', scope: 'all', reason: 'hard-bounce', source: 'cli', messageId: null, detail: null, createdAt: 1 }]);
      const origin = { listener: 'http', clientIp: '127.0.0.1', user: null };
      const meta = { account: 'acme', tags: ['t'], metadata: { k: 'v' }, stream: 'transactional' as const };
      const put = async (id: string, recipients: string[], checking: boolean) => {
        const w = store.createBody(id);
        await w.write(Buffer.from(`Subject: ${id}\r\n\r\nhi\r\n`));
        await w.finish();
        const m = { id, mailFrom: 'app@acme.example', recipients, size: w.bytesWritten, receivedAt: 5, origin, isBounce: false, route: 'relay' as const, meta };
        return checking ? store.putCheckingSuppressions(m) : store.put(m).then(() => null);
      };
      // 20 at once: four go alone (PUT_LANES), the 16 made meanwhile wait and go together (one transaction, or a few)
      const ids = Array.from({ length: 20 }, () => newQueueId());
      const answers = await Promise.all(ids.map((id, i) => put(id, i === 7 ? ['gone@x.example', `ok${i}@y.example`] : [`a${i}@y.example`, `b${i}@z.example`], i % 2 === 1)));
      const { rows: [tx] } = await c.query<{ n: number }>('SELECT count(DISTINCT xmin::text)::int AS n FROM queued_message WHERE id = ANY($1)', [ids]);
      // message 7 had a hit: written by putCheckingSuppressions' own transaction afterwards
      assert.ok(tx!.n <= 8, `20 puts in ${tx!.n} transactions`);
      assert.deepEqual([...(answers[7] as Map<string, unknown>).keys()], ['gone@x.example']);
      assert.ok(answers.every((a, i) => i === 7 || a === null || (a as Map<string, unknown>).size === 0));
      for (const [i, id] of ids.entries()) {
        const view = (await store.getMessage(id))!;
        assert.deepEqual(view.recipients.map((r) => [r.address, r.state]),
          i === 7 ? [['gone@x.example', 'suppressed'], ['ok7@y.example', 'queued']] : [[`a${i}@y.example`, 'queued'], [`b${i}@z.example`, 'queued']]);
        assert.equal((await store.readMessage(id) as Buffer).toString('latin1'), `Subject: ${id}\r\n\r\nhi\r\n`);
      }
      const accepted = await store.listEvents({ account: 'acme', types: ['accepted'], limit: 100 });
      assert.equal(accepted.length, 40, 'one accepted event per recipient, each written once');
      // 10 at once, the sixth with an id already stored: only it fails; the others are stored (the batch it was in ran again, one by one)
      const again = Array.from({ length: 10 }, (_, i) => (i === 5 ? ids[0]! : newQueueId()));
      const results = await Promise.allSettled(again.map((id, i) => put(id, [`c${i}@y.example`], true)));
      assert.deepEqual(results.map((r) => r.status), again.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
      assert.equal((results[5] as PromiseRejectedResult).reason.code, 'ERR_QUEUE_WRITE');
      for (const [i, id] of again.entries()) {
        assert.deepEqual((await store.getMessage(id))!.recipients.map((r) => r.address), i === 5 ? ['a0@y.example', 'b0@z.example'] : [`c${i}@y.example`]);
      }
    } finally {
      await c.end();
      await store.close();
    }
  });

  /** put() of a one-line message to `recipients` (account acme, events on), through the store's batching. */
  const putTo = async (store: PostgresQueueStore, id: string, recipients: string[]): Promise<void> => {
    const w = store.createBody(id);
    await w.write(Buffer.from(`Subject: ${id}\r\n\r\nhi\r\n`));
    await w.finish();
    await store.put({ id, mailFrom: 'app@acme.example', recipients, size: w.bytesWritten, receivedAt: 5,
      origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay', meta: { account: 'acme', tags: [], metadata: {}, stream: 'transactional' } });
  };
  const ourConnections = async (c: pg.Client): Promise<number> =>
    (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'postlane'")).rows[0]!.n;

  test('postgres: a put waiting behind four stuck puts fails after the connect timeout as unavailable, while they are still stuck', async () => {
    await truncate();
    const store = new PostgresQueueStore({ url, logger, poolSize: 4, connectTimeoutMs: 500 });
    await store.open();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await store.addAccount({ name: 'acme', createdAt: 1, limits: {} });
      // Another session's lock that every put's INSERT waits for: the four lanes are stuck
      await c.query('BEGIN');
      await c.query('LOCK TABLE message_body IN SHARE MODE');
      const ids = Array.from({ length: 6 }, () => newQueueId());
      const puts = ids.map((id, i) => putTo(store, id, [`r${i}@y.example`]));
      const stuck = puts.slice(0, 4).map((p) => p.then(() => 'stored', (e: Error) => e.message));
      // The two queued ones fail as a pool connect timeout does (451 / 503, the store marked unavailable)
      for (const p of puts.slice(4)) await assert.rejects(p, (e: Error & { code?: string }) => e.code === 'ERR_QUEUE_UNAVAILABLE' && /timeout exceeded when trying to connect/.test(e.message));
      const { rows: [w] } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
      assert.equal(w!.n, 4, 'the four lanes still wait for the lock');
      assert.equal((await store.checkWritable()).writable, false);
      await c.query('COMMIT');
      assert.deepEqual(await Promise.all(stuck), ['stored', 'stored', 'stored', 'stored']);
      for (const [i, id] of ids.entries()) assert.equal((await store.getMessage(id)) === null, i >= 4);
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end();
      await store.close();
    }
  });

  test('postgres: a batch with a put refused (no recipients) or without a pipelining connection: the other puts are stored', async () => {
    await truncate();
    const store = newStore();
    await store.open();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await store.addAccount({ name: 'acme', createdAt: 1, limits: {} });
      // Four at once: they go alone on the main pool (four lanes), which then holds four connections; no batch yet
      await Promise.all(Array.from({ length: 4 }, () => putTo(store, newQueueId(), ['w@y.example'])));
      assert.equal(await ourConnections(c), 4);
      // Twelve at once, the tenth without recipients: only it fails; the ones batched are stored
      const ids = Array.from({ length: 12 }, () => newQueueId());
      const results = await Promise.allSettled(ids.map((id, i) => putTo(store, id, i === 9 ? [] : [`r${i}@y.example`])));
      assert.deepEqual(results.map((r) => r.status), ids.map((_, i) => (i === 9 ? 'rejected' : 'fulfilled')));
      assert.equal((results[9] as PromiseRejectedResult).reason.code, 'ERR_QUEUE_WRITE');
      for (const [i, id] of ids.entries()) assert.equal((await store.getMessage(id)) === null, i === 9);
      // No new connection can be made (the pipelining pool's all fail): the batched puts each go alone on the main pool's four
      await store.close();
      const fresh = newStore();
      await fresh.open();
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      try {
        await Promise.all(Array.from({ length: 4 }, () => putTo(fresh, newQueueId(), ['w@y.example'])));
        assert.equal(await ourConnections(c), 4);
        await admin.connect(); // from another database: a session cannot disallow its own
        await admin.query(`ALTER DATABASE ${DB_NAME} ALLOW_CONNECTIONS false`);
        const more = Array.from({ length: 12 }, () => newQueueId());
        await Promise.all(more.map((id, i) => putTo(fresh, id, [`m${i}@y.example`])));
        for (const id of more) assert.ok(await fresh.getMessage(id));
        assert.equal(await ourConnections(c), 4, 'no pipelining connection was made');
        // The lanes' failed connections are no outage while the main pool works (readyz stays 200)
        assert.equal((await fresh.checkWritable()).writable, true);
      } finally {
        await admin.query(`ALTER DATABASE ${DB_NAME} ALLOW_CONNECTIONS true`).catch(() => undefined);
        await admin.end().catch(() => undefined);
        await fresh.close();
      }
    } finally {
      await c.end();
      await store.close().catch(() => undefined);
    }
  });

  test('postgres: a store not open, closed, or given an oversize body rejects with QueueWriteError', async () => {
    const store = new PostgresQueueStore({ url, logger, maxBodyBytes: 10 });
    await assert.rejects(store.counts(), { code: 'ERR_QUEUE_WRITE' });
    await store.open();
    const w = store.createBody(newQueueId());
    await w.write(Buffer.alloc(10));
    await assert.rejects(w.write(Buffer.alloc(1)), { code: 'ERR_QUEUE_WRITE' });
    await store.close();
    await assert.rejects(store.nextDueAt(), { code: 'ERR_QUEUE_WRITE' });
  });
}
