// Benchmark: the statistics call (store.readStats, what GET /v1/stats and `postlane stats` run) on
// a history of 1,000,000 events, on both stores, against a reference in the same invocation: the
// same answer computed by scanning the event log (GROUP BY over `event`), which is what a
// statistics call would cost without the pre-aggregated counters. Reports p50/p99 per query shape
// and the ratio of medians. The events go in through store.appendEvents (the real write path:
// events, their counters and, on PostgreSQL, the deltas folded by compactStats).
//   npx tsc -p bench/tsconfig.json && node dist/bench/stats.js [events=1000000] [sqlite|postgres|both]
// PostgreSQL: PL_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); a scratch
// database is created and dropped.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresQueueStore } from '../src/store/postgres/postgres-store.js';
import type { QueueStore } from '../src/store/store.js';
import type { EventType, MessageEvent } from '../src/store/platform-store.js';
import type { StatsQuery } from '../src/store/stats-store.js';
import Database from 'better-sqlite3';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const WHICH = process.argv[3] ?? 'both';
const ACCOUNTS = ['acme', 'beta', 'gamma', 'delta', 'eps'];
const DOMAINS = Array.from({ length: 500 }, (_, i) => (i < 5 ? ['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com', 'gmx.de'][i]! : `d${i}.example`));
const TAGS = Array.from({ length: 20 }, (_, i) => `tag${i}`);
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 30);
const START = END - 30 * DAY;
const RUNS = 30;
const logger = pino({ level: 'silent' });

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() ** 2 * a.length)]!; // skewed: a few big domains, like real mail

function* events(): Generator<Omit<MessageEvent, 'id' | 'seq'>[]> {
  const TYPES: EventType[] = ['accepted', 'accepted', 'delivered', 'delivered', 'deferred', 'bounced', 'opened', 'clicked'];
  for (let n = 0; n < EVENTS;) {
    const account = ACCOUNTS[Math.floor(rnd() * ACCOUNTS.length)]!;
    const batch: Omit<MessageEvent, 'id' | 'seq'>[] = [];
    for (let i = 0; i < 2000 && n < EVENTS; i++, n++) {
      const type = TYPES[Math.floor(rnd() * TYPES.length)]!;
      const data: Record<string, unknown> = { stream: rnd() < 0.3 ? 'broadcast' : 'transactional', tags: rnd() < 0.5 ? [pick(TAGS)] : [] };
      if (type === 'bounced') data.bounceType = rnd() < 0.5 ? 'hard' : 'soft';
      if (type === 'opened' || type === 'clicked') data.unique = rnd() < 0.6;
      batch.push({ at: START + Math.floor(rnd() * 30 * DAY), account, type, messageId: null, recipient: `u${Math.floor(rnd() * 1e6)}@${pick(DOMAINS)}`, data });
    }
    yield batch;
  }
}

const QUERIES: [string, StatsQuery][] = [
  ['30 days by day', { account: 'acme', from: START, to: END, groupBy: 'day' }],
  ['7 days by hour', { account: 'acme', from: END - 7 * DAY, to: END, groupBy: 'hour' }],
  ['30 days by domain', { account: 'acme', from: START, to: END, groupBy: 'domain' }],
  ['30 days by tag', { account: 'acme', from: START, to: END, groupBy: 'tag' }],
  ['30 days total, one stream', { account: 'acme', from: START, to: END, groupBy: 'total', stream: 'broadcast' }],
];

/** The reference: the same grouping by scanning the event log (type only; the counters split bounces further). */
const scanSql = (dialect: 'sqlite' | 'postgres', q: StatsQuery): string => {
  const day = dialect === 'sqlite' ? `(at - at % ${DAY})` : `(at - at % ${DAY})`;
  const hour = `(at - at % 3600000)`;
  const domain = dialect === 'sqlite' ? `substr(recipient, instr(recipient, '@') + 1)` : `split_part(recipient, '@', 2)`;
  const key = { day, hour, domain, tag: dialect === 'sqlite' ? `json_extract(data, '$.tags[0]')` : `data->'tags'->>0`, total: `''` }[q.groupBy as 'day'] ?? `''`;
  const stream = q.stream ? (dialect === 'sqlite' ? ` AND json_extract(data, '$.stream') = '${q.stream}'` : ` AND data->>'stream' = '${q.stream}'`) : '';
  return `SELECT ${key} AS k, type, count(*) AS n FROM event WHERE account = '${q.account}' AND at >= ${q.from} AND at < ${q.to}${stream} GROUP BY 1, 2`;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function fill(store: QueueStore): Promise<number> {
  for (const a of ACCOUNTS) await store.addAccount({ name: a, createdAt: START, limits: {} });
  const t0 = Date.now();
  for (const batch of events()) {
    await store.appendEvents(batch);
    while ((await store.compactStats()) > 0) { /* fold the deltas as they come (PostgreSQL) */ }
  }
  return (Date.now() - t0) / 1000;
}

async function measure(name: string, store: QueueStore, scan: (sql: string) => Promise<unknown>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const loadSeconds = await fill(store);
  console.log(`\n${name}: ${EVENTS.toLocaleString('en')} events written through appendEvents in ${loadSeconds.toFixed(0)} s`);
  console.log('| query | counters p50 ms | p99 ms | event-log scan p50 ms | p99 ms | scan / counters |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, q] of QUERIES) {
    const a: number[] = []; const b: number[] = [];
    for (let i = 0; i < RUNS; i++) { // interleaved: both see the same machine
      a.push(await time(() => store.readStats(q)));
      if (i < 5) b.push(await time(() => scan(scanSql(dialect, q))));
    }
    console.log(`| ${label} | ${median(a).toFixed(2)} | ${p99(a).toFixed(2)} | ${median(b).toFixed(0)} | ${p99(b).toFixed(0)} | ${(median(b) / median(a)).toFixed(0)}× |`);
  }
}

async function sqlite(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-stats-'));
  const store = new SqliteQueueStore({ dataDir: dir, logger });
  await store.open();
  const db = new Database(path.join(dir, 'queue.db'), { readonly: true });
  try {
    await measure('SQLite', store, async (sql) => db.prepare(sql).all(), 'sqlite');
  } finally {
    db.close();
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<void> {
  const admin = process.env.PL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `postlane_bench_stats_${process.pid}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${dbName}`);
  const url = admin.replace(/\/[^/]*$/, `/${dbName}`);
  const store = new PostgresQueueStore({ url, logger });
  const scan = new pg.Client({ connectionString: url });
  try {
    await store.open();
    await scan.connect();
    await measure('PostgreSQL', store, (sql) => scan.query(sql), 'postgres');
  } finally {
    await scan.end().catch(() => undefined);
    await store.close();
    await c.query(`DROP DATABASE ${dbName}`);
    await c.end();
  }
}

if (WHICH !== 'postgres') await sqlite();
if (WHICH !== 'sqlite') await postgres();
