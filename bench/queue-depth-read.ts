// Benchmark (metrics27, twenty-seventh session): what one /metrics scrape reads from the store, at
// 1,000,000 recipients of which 950,000 are finished (kept for storage.retainFinished): the old
// counts() (every state; SQLite counts the finished on recipient_state, PostgreSQL scans recipient)
// against queueDepth() (the queue counters and the recipients in flight), through the store's own
// executor (SQLite: the default database thread) or pool (PostgreSQL), as the relay makes them.
// The store is filled by SQL copies of one template message written through the store (one
// recipient a message, over DOMAINS domains, one account): first the 50,000 waiting and in flight
// (queued 10,000, deferred 19,800, delivering 200, held 10,000), timed there (queueDepth only), then
// the 950,000 finished (delivered 900,000, bounced 30,000, expired 10,000, suppressed 10,000),
// PostgreSQL's deltas folded (compactStats) after each fill. Then ROUNDS rounds, each timing both
// calls in ABBA order (which goes first alternates), after one warm-up call of each.
// Prints one JSON line: per store the medians, the per-round ratios counts/queueDepth and the
// rounds each way.
//   npx tsc -p bench/tsconfig.json
//   STORES=sqlite,postgres PG_URL=postgres://postgres@127.0.0.1:5432/postgres DB_PREFIX=metrics27_ \
//     ROUNDS=9 nice -n 5 node dist/bench/queue-depth-read.js
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createLogger } from '../src/events/log.js';
import { newQueueId } from '../src/message/ids.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresQueueStore } from '../src/store/postgres/postgres-store.js';
import type { QueueStore } from '../src/store/store.js';
import { depthQuery } from '../src/store/sql/queue-depth.js';

/** The statements queueDepth runs (sqlite/queue-depth-ops.ts, postgres/queue-depth-ops.ts), for their plans. */
const SQLITE_DEPTH = depthQuery('queue_count');
const PG_DEPTH = depthQuery('(SELECT state, n FROM queue_count UNION ALL SELECT state, n FROM queue_count_delta)');

const STORES = (process.env.STORES ?? 'sqlite,postgres').split(',').filter(Boolean);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
/** Recipients copied (N = 1,000,000: 950,000 finished); a smaller N for a smoke run. */
const N = Number(process.env.N ?? 1_000_000);
const DOMAINS = Number(process.env.DOMAINS ?? 1000);
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_PREFIX = process.env.DB_PREFIX ?? 'postlane_bench_depth_';
const logger = createLogger('silent');

/** k (0 … 999,999) → state: k % 100 picks it, so every state is spread over the domains. */
const STATE_OF = (k: string) => `CASE
  WHEN ${k} % 100 < 90 THEN 'delivered' WHEN ${k} % 100 < 93 THEN 'bounced' WHEN ${k} % 100 = 93 THEN 'expired' WHEN ${k} % 100 = 94 THEN 'suppressed'
  WHEN ${k} % 100 = 95 THEN 'queued' WHEN ${k} % 100 = 96 THEN 'held' WHEN ${k} % 100 = 97 AND ${k} < 20000 THEN 'delivering' ELSE 'deferred' END`;
const FINISHED = (k: string) => `(${k} % 100 < 95)`;

interface Filler { columns(table: string): Promise<string[]>; exec(sql: string): Promise<void>; plan(sql: string): Promise<string[]>; close(): Promise<void>; series: (lo: number, hi: number) => string; pad: (e: string) => string }

function sqliteFiller(dbPath: string): Filler {
  const db = new Database(dbPath);
  return {
    columns: async (t) => (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name),
    exec: async (sql) => { db.exec(sql); },
    plan: async (sql) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail),
    close: async () => { db.close(); },
    series: (lo, hi) => `WITH RECURSIVE ks(v) AS (SELECT ${lo} UNION ALL SELECT v + 1 FROM ks WHERE v < ${hi})`,
    pad: (e) => `printf('%011d', ${e})`,
  };
}

async function pgFiller(url: string): Promise<Filler> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return {
    columns: async (t) => (await c.query<{ name: string }>(`SELECT column_name AS name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [t])).rows.map((r) => r.name),
    exec: async (sql) => { await c.query(sql); },
    plan: async (sql) => (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']),
    close: () => c.end(),
    series: (lo, hi) => `WITH ks(v) AS (SELECT generate_series(${lo}, ${hi})::bigint)`,
    pad: (e) => `lpad((${e})::text, 11, '0')`,
  };
}

/** Copies the template message (id `tpl`) to messages k = lo … hi with one recipient each, of the state STATE_OF(k), where `where(k)`. */
async function copy(f: Filler, tpl: string, lo: number, hi: number, where: (k: string) => string): Promise<void> {
  const now = Date.now();
  const newId = `substr(t.id, 1, 9) || ${f.pad('ks.v')}`;
  const domain = `'d' || (ks.v % ${DOMAINS}) || '.depth.test'`;
  const msgCols = await f.columns('queued_message');
  const m: Record<string, string> = { id: newId, completed_at: `CASE WHEN ${FINISHED('ks.v')} THEN ${now} ELSE NULL END`, received_at: `${now} - ks.v` };
  await f.exec(`${f.series(lo, hi)} INSERT INTO queued_message (${msgCols.join(', ')})
    SELECT ${msgCols.map((c) => m[c] ?? `t.${c}`).join(', ')} FROM ks CROSS JOIN queued_message t WHERE t.id = '${tpl}' AND ${where('ks.v')}`);
  const rcptCols = (await f.columns('recipient')).filter((c) => c !== 'id');
  const state = STATE_OF('ks.v');
  const r: Record<string, string> = {
    message_id: `substr(t.message_id, 1, 9) || ${f.pad('ks.v')}`, domain, address: `'r' || ks.v || '@' || ${domain}`, state,
    next_attempt_at: `CASE WHEN ${state} IN ('queued', 'deferred') THEN ${now + 7_200_000} + ks.v ELSE NULL END`,
    lease_owner: `CASE WHEN ${state} = 'delivering' THEN 'bench' ELSE NULL END`,
    lease_until: `CASE WHEN ${state} = 'delivering' THEN ${now + 600_000} ELSE NULL END`,
    received_at: `${now} - ks.v`,
  };
  await f.exec(`${f.series(lo, hi)} INSERT INTO recipient (${rcptCols.join(', ')})
    SELECT ${rcptCols.map((c) => r[c] ?? `t.${c}`).join(', ')} FROM ks CROSS JOIN recipient t WHERE t.message_id = '${tpl}' AND ${where('ks.v')}`);
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
async function timed(f: () => Promise<unknown>): Promise<number> { const t0 = performance.now(); await f(); return performance.now() - t0; }

async function measure(kind: string): Promise<Record<string, unknown>> {
  let dir = '';
  let dbName = '';
  let admin: pg.Client | null = null;
  let open: () => QueueStore;
  let filler: () => Promise<Filler>;
  if (kind === 'sqlite') {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics27-depth-'));
    open = () => new SqliteQueueStore({ dataDir: dir, logger });
    filler = async () => sqliteFiller(path.join(dir, 'queue.db'));
  } else {
    dbName = `${DB_PREFIX}${randomBytes(4).toString('hex')}`;
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(PG_URL); u.pathname = `/${dbName}`;
    open = () => new PostgresQueueStore({ url: u.href, logger, poolSize: 4 });
    filler = () => pgFiller(u.href);
  }
  try {
    // the template: one message, one recipient, through the store
    let store = open();
    await store.open();
    const tpl = newQueueId();
    const w = store.createBody(tpl);
    await w.write(Buffer.from('Subject: depth\r\n\r\nhi\r\n'));
    await w.finish();
    await store.put({ id: tpl, mailFrom: 'sender@src.test', recipients: ['t@template.test'], size: w.bytesWritten, receivedAt: Date.now(),
      origin: { listener: 'alt', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    await store.close();
    const t0 = Date.now();
    let f = await filler();
    await copy(f, tpl, 0, N - 1, (k) => `NOT ${FINISHED(k)}`);
    await f.close();
    store = open();
    await store.open();
    await store.compactStats();
    const small = { rows: N / 20 + 1, fillS: (Date.now() - t0) / 1000, depth: await store.queueDepth(), counts: await store.counts() };
    await store.queueDepth();
    const smallMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) smallMs.push(await timed(() => store.queueDepth()));
    await store.close();
    f = await filler();
    await copy(f, tpl, 0, N - 1, FINISHED);
    // PostgreSQL: as autovacuum leaves it; SQLite: the store never runs ANALYZE, nor does this
    if (kind === 'postgres') { await f.exec('VACUUM ANALYZE recipient'); await f.exec('VACUUM ANALYZE queued_message'); }
    const plans = {
      queueDepth: await f.plan(kind === 'sqlite' ? SQLITE_DEPTH.sqlite : PG_DEPTH.text),
      counts: await f.plan(kind === 'sqlite' ? `SELECT state, count(*) AS n FROM recipient INDEXED BY recipient_state
                WHERE state IN ('delivering', 'delivered', 'bounced', 'expired', 'suppressed') GROUP BY state` : 'SELECT state, count(*)::int AS n FROM recipient GROUP BY state'),
    };
    await f.close();
    store = open();
    await store.open();
    await store.compactStats();
    const fillS = (Date.now() - t0) / 1000;
    const depth = await store.queueDepth();
    const counts = await store.counts();
    await store.queueDepth();
    await store.counts();
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) { a.push(await timed(() => store.counts())); b.push(await timed(() => store.queueDepth())); } else { b.push(await timed(() => store.queueDepth())); a.push(await timed(() => store.counts())); }
    }
    // PostgreSQL: the deltas the triggers append between two folds (compactStats every 30 s): 30,000 rows (of n = 0, totals unchanged)
    const withDeltas: number[] = [];
    if (kind === 'postgres') {
      f = await filler();
      await f.exec(`INSERT INTO queue_count_delta (account, domain, state, n) SELECT 'default', 'd' || (v % ${DOMAINS}) || '.depth.test', 'deferred', 0 FROM generate_series(1, 30000) AS v`);
      await f.close();
      await store.queueDepth();
      for (let i = 0; i < ROUNDS; i++) withDeltas.push(await timed(() => store.queueDepth()));
    }
    await store.close();
    const ratios = a.map((x, i) => x / b[i]!);
    return {
      store: kind, rows: N + 1, domains: DOMAINS, fillS: +fillS.toFixed(1), small, depth, counts, plans,
      countsMs: a.map((x) => +x.toFixed(2)), queueDepthMs: b.map((x) => +x.toFixed(2)), queueDepthAt50kMs: smallMs.map((x) => +x.toFixed(2)),
      medianCountsMs: +median(a).toFixed(2), medianQueueDepthMs: +median(b).toFixed(2), medianQueueDepthAt50kMs: +median(smallMs).toFixed(2),
      ...(withDeltas.length ? { queueDepthWith30kDeltasMs: withDeltas.map((x) => +x.toFixed(2)), medianQueueDepthWith30kDeltasMs: +median(withDeltas).toFixed(2) } : {}),
      medianRatio: +median(ratios).toFixed(1), roundsLightFaster10x: ratios.filter((r) => r >= 10).length, roundsLightFaster: ratios.filter((r) => r > 1).length, rounds: ROUNDS,
    };
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (admin) { await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`); await admin.end(); }
  }
}

const out: Record<string, unknown>[] = [];
for (const kind of STORES) {
  const load = os.loadavg().map((l) => +l.toFixed(2));
  out.push({ ...(await measure(kind)), loadBefore: load, loadAfter: os.loadavg().map((l) => +l.toFixed(2)) });
  process.stderr.write(`${JSON.stringify(out[out.length - 1])}\n`);
}
console.log(JSON.stringify({ at: new Date().toISOString(), node: process.version, results: out }));
