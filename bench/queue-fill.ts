// Fills a store with N deferred recipients (one per 4 KB message) and 10 × N events, for
// bench/queue-scale.ts. The first TEMPLATES messages go through the store's own write path
// (putMany with real bodies, claimDue, recordResults 'deferred': message, recipient, inline body,
// attempt, 'accepted' and 'deferred' events, statistics); the rest are bulk SQL copies of those
// rows (INSERT … SELECT over a counter), so they are the same rows with new ids: a new queue id,
// recipient r<i>@d<i mod 10000>.deferred.test, next attempt spread over 20 hours from 2 hours
// ahead (never due during a measurement), and the 'deferred' event copied 8 more times (10
// events per message). Statistics counters are aggregates: not copied.
import Database from 'better-sqlite3';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from '../src/events/log.js';
import { newQueueId } from '../src/message/ids.js';
import { newApiKey } from '../src/accounts/api-keys.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresQueueStore } from '../src/store/postgres/postgres-store.js';
import type { NewMessage, QueueStore } from '../src/store/store.js';

export const TEMPLATES = 1000;
const DOMAINS = 10_000;
const EXTRA_DEFERRED_EVENTS = 8;
const logger = createLogger('silent');

export type StoreSpec = { kind: 'sqlite'; dataDir: string } | { kind: 'postgres'; url: string };

/** A 4 KB message as smtp-source sends one (headers + 4,096 bytes of text). */
function body(i: number): Buffer {
  const head = `From: <sender@src.test>\r\nTo: <r${i}@d${i % DOMAINS}.deferred.test>\r\nSubject: scale ${i}\r\nMessage-ID: <${i}@src.test>\r\n\r\n`;
  const line = 'La de da de da 1. La de da de da 2. La de da de da 3. La de da de da 4.\r\n';
  return Buffer.from(head + line.repeat(Math.ceil(4096 / line.length)).slice(0, 4096));
}

export function openStore(spec: StoreSpec): QueueStore {
  return spec.kind === 'sqlite' ? new SqliteQueueStore({ dataDir: spec.dataDir, logger }) : new PostgresQueueStore({ url: spec.url, logger, poolSize: 4 });
}

/** A new API key (read scope) on an existing data set; returns its token. */
export async function addReadKey(spec: StoreSpec): Promise<string> {
  const store = openStore(spec);
  await store.open();
  try {
    const { record, token } = newApiKey({ account: 'default', scopes: ['read'], now: Date.now() });
    await store.addApiKey(record);
    return token;
  } finally {
    await store.close();
  }
}

/** Creates an API key (read scope) and the template messages, deferred, through the store. Returns the key's token. */
async function writeTemplates(spec: StoreSpec, count: number, nextBase: number): Promise<string> {
  const store = openStore(spec);
  await store.open();
  try {
    const { record, token } = newApiKey({ account: 'default', scopes: ['read'], now: Date.now() });
    await store.addApiKey(record);
    if (count === 0) return token;
    const origin = { listener: 'alt', clientIp: '127.0.0.1', user: null };
    const batch: NewMessage[] = [];
    for (let i = 0; i < count; i++) {
      const id = newQueueId();
      const w = store.createBody(id);
      await w.write(body(i));
      await w.finish();
      batch.push({ id, mailFrom: 'sender@src.test', recipients: [`r${i}@d${i % DOMAINS}.deferred.test`], size: w.bytesWritten,
        receivedAt: Date.now(), origin, isBounce: false, route: 'relay', subject: `scale ${i}` });
    }
    await store.putMany(batch);
    for (let left = count; left > 0;) {
      const jobs = await store.claimDue({ now: Date.now(), limit: 500, leaseMs: 600_000, owner: 'fill' });
      if (jobs.length === 0) throw new Error(`fill: ${left} template recipients were not claimable`);
      for (const job of jobs) {
        await store.recordResults(job.messageId, job.recipients.map((r) => ({
          rcptId: r.id, status: 'deferred' as const, nextAttemptAt: nextBase, host: 'mx.deferred.test', remoteIp: '127.0.0.99',
          response: '451 4.7.1 Greylisted, try again later', durationMs: 12,
        })));
      }
      left -= jobs.length;
    }
    return token;
  } finally {
    await store.close();
  }
}

/** Column list of a copy: the transformed expression of each column (undefined: left to its default). */
type Transform = (column: string) => string | undefined;

/** 'DEFAULT': the column is left out (its default: a new sequence number). */
function copyColumns(columns: string[], transform: Transform): { names: string; values: string } {
  const out = columns.map((c) => [c, transform(c) ?? `t.${c}`] as const).filter(([, e]) => e !== 'DEFAULT');
  return { names: out.map(([c]) => c).join(', '), values: out.map(([, e]) => e).join(', ') };
}

interface Dialect {
  /** Text of the 11-digit index (the copy's queue id suffix). */
  pad(expr: string): string;
  /** "WITH name(col) AS (…), …" of integer series [lo, hi]. */
  series(...s: [name: string, lo: number, hi: number][]): string;
}
const SQLITE: Dialect = {
  pad: (e) => `printf('%011d', ${e})`,
  series: (...s) => `WITH RECURSIVE ${s.map(([n, lo, hi]) => `${n}(v) AS (SELECT ${lo} UNION ALL SELECT v + 1 FROM ${n} WHERE v < ${hi})`).join(', ')}`,
};
const POSTGRES: Dialect = {
  pad: (e) => `lpad((${e})::text, 11, '0')`,
  series: (...s) => `WITH ${s.map(([n, lo, hi]) => `${n}(v) AS (SELECT generate_series(${lo}, ${hi})::bigint)`).join(', ')}`,
};

/** The INSERT … SELECT statements copying the templates k = lo … hi (k = 0 is the templates themselves). */
function copyStatements(d: Dialect, cols: Record<string, string[]>, lo: number, hi: number, rcptSpan: number, nextBase: number,
  src: (table: string) => string = (t) => t): string[] {
  const idx = `(ks.v * ${TEMPLATES} + tm.i)`;
  const newId = (col: string) => `substr(${col}, 1, 9) || ${d.pad(idx)}`;
  const domain = `'d' || (${idx} % ${DOMAINS}) || '.deferred.test'`;
  const join = (table: string, on: string) => `FROM ks CROSS JOIN bench_template tm JOIN ${src(table)} t ON ${on}`;
  const stmt = (table: string, transform: Transform, on = 't.message_id = tm.id') => {
    const c = copyColumns(cols[table]!, transform);
    return `${d.series(['ks', lo, hi])} INSERT INTO ${table} (${c.names}) SELECT ${c.values} ${join(table, on)}`;
  };
  return [
    stmt('queued_message', (c) => (c === 'id' ? newId('t.id') : c === 'subject' ? `'scale ' || ${idx}` : undefined), 't.id = tm.id'),
    stmt('message_body', (c) => (c === 'message_id' ? newId('t.message_id') : undefined)),
    stmt('recipient', (c) => ({
      id: `t.id + ks.v * ${rcptSpan}`, message_id: newId('t.message_id'), domain,
      address: `'r' || ${idx} || '@' || ${domain}`, next_attempt_at: `${nextBase} + (${idx} * 7919 % 72000) * 1000`,
    } as Record<string, string>)[c]),
    stmt('attempt', (c) => ({ id: 'DEFAULT', message_id: newId('t.message_id'), rcpt_id: `t.rcpt_id + ks.v * ${rcptSpan}` } as Record<string, string>)[c]),
    stmt('event', (c) => ({ seq: 'DEFAULT', message_id: newId('t.message_id'), recipient: `'r' || ${idx} || '@' || ${domain}` } as Record<string, string>)[c]),
    extraEvents(d, cols, lo, hi, newId, idx, domain, src),
  ];
}

/** The 'deferred' event copied EXTRA_DEFERRED_EVENTS more times (a minute apart) for copies lo … hi (0: the templates, ids kept). */
function extraEvents(d: Dialect, cols: Record<string, string[]>, lo: number, hi: number,
  newId: (col: string) => string = (c) => c, idx = '', domain = '', src: (table: string) => string = (t) => t): string {
  const keep = lo === 0;
  const c = copyColumns(cols.event!, (col) => ({
    seq: 'DEFAULT', at: 't.at - reps.v * 60000',
    ...(keep ? {} : { message_id: newId('t.message_id'), recipient: `'r' || ${idx} || '@' || ${domain}` }),
  } as Record<string, string>)[col]);
  return `${d.series(['ks', lo, hi], ['reps', 1, EXTRA_DEFERRED_EVENTS])}
    INSERT INTO event (${c.names}) SELECT ${c.values}
    FROM ks CROSS JOIN bench_template tm JOIN ${src('event')} t ON t.message_id = tm.id AND t.type = 'deferred' CROSS JOIN reps`;
}

/** ms of each read the operator's commands and the housekeeping make, on the filled store (median of 3; no relay running). */
export async function timeQueries(spec: StoreSpec): Promise<Record<string, number>> {
  const store = openStore(spec);
  await store.open();
  const out: Record<string, number> = {};
  const time = async (name: string, f: () => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) { const t0 = performance.now(); await f(); ms.push(performance.now() - t0); }
    out[name] = +ms.sort((a, b) => a - b)[1]!.toFixed(1);
  };
  const monthAgo = Date.now() - 30 * 86_400_000;
  try {
    await time('counts', () => store.counts());
    await time('list_50', () => store.listRecipients({ limit: 50 }));
    await time('list_deferred_50', () => store.listRecipients({ state: 'deferred', limit: 50 }));
    await time('list_all_50', () => store.listRecipients({ includeFinal: true, limit: 50 }));
    await time('events_100', () => store.listEvents({ account: 'default', limit: 100 }));
    await time('next_due', () => store.nextDueAt());
    await time('claim_due', () => store.claimDue({ now: Date.now(), limit: 40, leaseMs: 60_000, owner: 'bench' }));
    await time('purge_events', () => store.purgeEvents(monthAgo));
  } finally {
    await store.close();
  }
  // What the purge read before it walked the head of the log (both stores filtered the whole log on `at`).
  if (spec.kind === 'sqlite') {
    const db = new Database(path.join(spec.dataDir, 'queue.db'), { readonly: true });
    const t0 = performance.now();
    db.prepare('SELECT count(*) FROM (SELECT seq FROM event WHERE at < ? ORDER BY seq LIMIT 5000)').get(monthAgo);
    out.purge_events_before = +(performance.now() - t0).toFixed(1);
    db.close();
  } else {
    const db = new pg.Client({ connectionString: spec.url });
    await db.connect();
    const t0 = performance.now();
    await db.query('SELECT count(*) FROM event WHERE at < $1', [monthAgo]);
    out.purge_events_before = +(performance.now() - t0).toFixed(1);
    await db.end();
  }
  return out;
}

const TABLES = ['queued_message', 'message_body', 'recipient', 'attempt', 'event'];

/** Fills the store to `n` deferred recipients (n a multiple of TEMPLATES, or below it) and 10 × n events; returns an API token. */
export async function fillStore(spec: StoreSpec, n: number, progress: (msg: string) => void = () => {}): Promise<string> {
  const nextBase = Date.now() + 2 * 3_600_000;
  const templates = Math.min(n, TEMPLATES);
  const t0 = Date.now();
  const token = await writeTemplates(spec, templates, nextBase);
  progress(`${templates} template messages through the store in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const copies = n > TEMPLATES ? Math.ceil(n / TEMPLATES) - 1 : 0;
  if (spec.kind === 'sqlite') await copySqlite(spec.dataDir, copies, nextBase, progress);
  else await copyPostgres(spec.url, copies, nextBase, progress);
  progress(`filled to ${n} deferred recipients in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = Date.now();
  const mismatched = await checkCounters(spec);
  if (mismatched.groups > 0) throw new Error(`fill: ${mismatched.groups} queue counter group(s) differ from the recipients (${mismatched.waiting} waiting)`);
  progress(`queue counters match the ${mismatched.waiting} waiting recipients (checked in ${((Date.now() - t1) / 1000).toFixed(1)} s)`);
  return token;
}

/** The waiting states the triggers count (SQLite v21, PostgreSQL v18). */
const COUNTED = "('queued', 'deferred', 'held')";

/**
 * The queue counters (queue_count, kept by triggers on recipient; on PostgreSQL plus the deltas not
 * folded yet) against a count of the recipients themselves: the groups that differ (0: exact) and the
 * number of waiting recipients.
 */
export async function checkCounters(spec: StoreSpec): Promise<{ groups: number; waiting: number }> {
  const counted = (deltas: string) => `SELECT account, domain, state, sum(n) AS n FROM (SELECT account, domain, state, n FROM queue_count${deltas}) u
    GROUP BY account, domain, state HAVING sum(n) <> 0`;
  const actual = `SELECT account, domain, state, count(*) AS n FROM recipient WHERE state IN ${COUNTED} GROUP BY account, domain, state`;
  const diff = (deltas: string) => `SELECT (SELECT count(*) FROM (${actual} EXCEPT ${counted(deltas)}) a) + (SELECT count(*) FROM (${counted(deltas)} EXCEPT ${actual}) b) AS groups,
    (SELECT count(*) FROM recipient WHERE state IN ${COUNTED}) AS waiting`;
  if (spec.kind === 'sqlite') {
    const db = new Database(path.join(spec.dataDir, 'queue.db'), { readonly: true });
    try { return db.prepare(diff('')).get() as { groups: number; waiting: number }; } finally { db.close(); }
  }
  const db = new pg.Client({ connectionString: spec.url });
  await db.connect();
  try {
    const r = (await db.query<{ groups: string; waiting: string }>(diff(' UNION ALL SELECT account, domain, state, n FROM queue_count_delta'))).rows[0]!;
    return { groups: Number(r.groups), waiting: Number(r.waiting) };
  } finally { await db.end(); }
}

async function copySqlite(dataDir: string, copies: number, nextBase: number, progress: (msg: string) => void): Promise<void> {
  const db = new Database(path.join(dataDir, 'queue.db'));
  try {
    db.pragma('journal_mode = DELETE'); // one writer, no reader: no WAL growing to the size of the copy
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -2000000'); // 2 GB: the copies insert into every index at random places; 2 MB (the default) thrashes
    const cols: Record<string, string[]> = {};
    for (const t of TABLES) cols[t] = (db.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name);
    // Extra deferred events of the templates themselves (k = 0), then the copies.
    db.exec(`CREATE TEMP TABLE bench_template AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, id FROM queued_message`);
    const rcptSpan = (db.prepare('SELECT max(id) AS m FROM recipient').get() as { m: number | null }).m ?? 0;
    // The copies' tables' secondary indexes are dropped and rebuilt after them, by sorting: the same
    // index entries, but each built in one pass instead of the copies inserting into every index at
    // random places (past about 200,000 recipients that thrashed even a 2 GB cache: 47 → 137 s per
    // 100,000). The queue counters' triggers stay (queue_count is small and hot).
    const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
      AND tbl_name IN (${TABLES.map((t) => `'${t}'`).join(', ')})`).all() as { name: string; sql: string }[];
    // The copies read the templates' rows from copies of their own (without the indexes, a join on
    // the tables themselves would scan them whole for every statement).
    for (const t of TABLES) db.exec(`CREATE TEMP TABLE bench_src_${t} AS SELECT * FROM ${t} WHERE ${t === 'queued_message' ? 'id' : 'message_id'} IN (SELECT id FROM bench_template)`);
    const src = (t: string) => `bench_src_${t}`;
    if (copies > 0) for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);
    const step = 20;
    for (let lo = 1; lo <= copies; lo += step) {
      const hi = Math.min(copies, lo + step - 1);
      db.transaction(() => { for (const s of copyStatements(SQLITE, cols, lo, hi, rcptSpan, nextBase, src)) db.exec(s); })();
      if (hi % 100 === 0 || hi === copies) progress(`sqlite: ${hi} of ${copies} copies`);
    }
    db.exec(extraEvents(SQLITE, cols, 0, 0, undefined, undefined, undefined, src)); // the templates' own, after the copies (which copy their 2 events)
    if (copies > 0) {
      const t0 = Date.now();
      for (const ix of indexes) db.exec(ix.sql);
      progress(`sqlite: ${indexes.length} indexes rebuilt in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    db.pragma('journal_mode = WAL');
    db.close();
  }
}

/**
 * Completes an SQLite fill that was stopped (its committed copies are a consistent set): the
 * templates' own extra 'deferred' events, which a complete fill adds last, and WAL mode. The
 * templates are the messages of the recipients with id <= TEMPLATES (the copies' ids are offset by
 * the templates' span). Returns the number of copied recipients.
 */
export function finishStoppedSqlite(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'queue.db'));
  try {
    const cols: Record<string, string[]> = { event: (db.pragma('table_info(event)') as { name: string }[]).map((c) => c.name) };
    db.exec(`CREATE TEMP TABLE bench_template AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, message_id AS id FROM recipient WHERE id <= ${TEMPLATES}`);
    const done = (db.prepare("SELECT count(*) AS n FROM event e JOIN bench_template t ON e.message_id = t.id AND e.type = 'deferred'").get() as { n: number }).n;
    if (done === TEMPLATES) db.exec(extraEvents(SQLITE, cols, 0, 0)); // else they are there already
    db.pragma('journal_mode = WAL');
    return (db.prepare('SELECT count(*) AS n FROM recipient').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function copyPostgres(url: string, copies: number, nextBase: number, progress: (msg: string) => void): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query('SET synchronous_commit = off');
    const cols: Record<string, string[]> = {};
    for (const t of TABLES) {
      const r = await db.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [t]);
      cols[t] = r.rows.map((x) => x.column_name);
    }
    await db.query(`CREATE TEMP TABLE bench_template AS SELECT (row_number() OVER (ORDER BY id) - 1)::bigint AS i, id FROM queued_message`);
    const rcptSpan = Number((await db.query<{ m: string | null }>('SELECT max(id) AS m FROM recipient')).rows[0]!.m ?? 0);
    const step = 20;
    for (let lo = 1; lo <= copies; lo += step) {
      const hi = Math.min(copies, lo + step - 1);
      await db.query('BEGIN');
      for (const s of copyStatements(POSTGRES, cols, lo, hi, rcptSpan, nextBase)) await db.query(s);
      await db.query('COMMIT');
      if (hi % 100 === 0 || hi === copies) progress(`postgres: ${hi} of ${copies} copies`);
    }
    await db.query(extraEvents(POSTGRES, cols, 0, 0)); // the templates' own, after the copies (which copy their 2 events)
    // Explicit recipient ids: move the sequence past them, as the store's own inserts would have.
    await db.query(`SELECT setval(pg_get_serial_sequence('recipient', 'id'), (SELECT max(id) FROM recipient))`);
  } finally {
    await db.end();
  }
  await foldCounters(url, progress);
  const vacuum = new pg.Client({ connectionString: url });
  await vacuum.connect();
  // A long-running database has been analysed by autovacuum; do it now rather than during a measurement.
  try { await vacuum.query('VACUUM ANALYZE'); } finally { await vacuum.end(); }
}

/**
 * Folds the counter deltas the copies' recipient trigger wrote (one per domain and copy statement:
 * about 500,000 at 1,000,000 recipients), as the relay's housekeeping (compactStats every 30 s) would
 * have done meanwhile: else the measured relay spends its first minutes folding them.
 */
export async function foldCounters(url: string, progress: (msg: string) => void = () => {}): Promise<void> {
  const store = openStore({ kind: 'postgres', url });
  await store.open();
  try {
    let folded = 0;
    for (let moved; (moved = await store.compactStats()) > 0;) folded += moved;
    progress(`postgres: ${folded} counter deltas folded`);
  } finally {
    await store.close();
  }
}
