// Benchmark: the store reads behind the dashboard's pages (issue 12: "each page's data loads in
// under 300 ms with 100,000 queued messages") on a queue of 100,000 waiting messages over 5
// accounts and 500 skewed recipient domains, SQLite and (with PL_BENCH_PG_URL) PostgreSQL:
// the queue overview (GET /v1/queue) for one account and for all, the first page of message
// search and a time-range page (GET /v1/messages), and a message's timeline (getMessage +
// listEvents), and the subject search (issue 12's timeline work: common and rare substrings). Reports median and p99 of 30 runs each. Reference in the same invocation: the same
// overview computed the way the CLI lists the queue (listRecipients of every waiting row, grouped
// in JavaScript). A first run also tried a partial index (domain, state) on the waiting
// recipients: it made the overview no faster (368 vs 244 ms median), so it was left out.
//   npx tsc -p bench/tsconfig.json && node dist/bench/dashboard-pages.js
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createLogger } from '../src/events/log.js';
import { newQueueId } from '../src/message/ids.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresQueueStore } from '../src/store/postgres/postgres-store.js';
import type { NewMessage, QueueStore } from '../src/store/store.js';

const ROWS = Number(process.env.ROWS ?? 100_000);
const RUNS = 30;
const ACCOUNTS = ['acme', 'beta', 'gamma', 'delta', 'eps'];
const logger = createLogger('silent');
const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const domainOf = () => `d${Math.floor(rnd() ** 3 * 500)}.example`; // a few big domains, like real mail

async function fill(store: QueueStore): Promise<{ sample: string; t0: number }> {
  for (const a of ACCOUNTS) await store.addAccount({ name: a, createdAt: 1, limits: {} });
  const t0 = Date.now() - 86_400_000;
  let sample = '';
  for (let done = 0; done < ROWS;) {
    const batch: NewMessage[] = [];
    for (let i = 0; i < 1000 && done < ROWS; i++, done++) {
      const id = newQueueId();
      const w = store.createBody(id);
      await w.write(Buffer.from('Subject: b\r\n\r\nx\r\n'));
      await w.finish();
      const account = ACCOUNTS[done % ACCOUNTS.length]!;
      if (account === 'acme' && done > ROWS / 2 && !sample) sample = id;
      batch.push({ id, mailFrom: `news@${account}.example`, recipients: [`r${done}@${domainOf()}`], size: w.bytesWritten,
        receivedAt: t0 + done * 500, origin, isBounce: false, route: 'relay', subject: done % 1000 === 7 ? `Invoice ${done} overdue` : `Your order ${done} has shipped`, meta: { account, stream: 'broadcast', tags: ['t'], metadata: {} } });
    }
    await store.putMany(batch);
  }
  return { sample, t0 };
}

async function time(name: string, fn: () => Promise<unknown>): Promise<string> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return `  ${name}: median ${t[Math.floor(RUNS / 2)]!.toFixed(1)} ms, p99 ${t[RUNS - 1]!.toFixed(1)} ms`;
}

async function measure(name: string, store: QueueStore): Promise<void> {
  const start = Date.now();
  const { sample, t0 } = await fill(store);
  console.log(`${name}: ${ROWS} waiting messages (filled in ${((Date.now() - start) / 1000).toFixed(1)} s)`);
  const pages: [string, () => Promise<unknown>][] = [
    ['queue overview, one account (GET /v1/queue)', () => store.queueOverview('acme', 50)],
    ['queue overview, all accounts (?account=*)', () => store.queueOverview(null, 50)],
    ['message search, first page of 50', () => store.searchMessages({ account: 'acme', limit: 50 })],
    ['message search, a time range (until), 50', () => store.searchMessages({ account: 'acme', limit: 50, since: t0, before: { receivedAt: t0 + (ROWS / 2) * 500, id: '' } })],
    ['message search by recipient domain', () => store.searchMessages({ account: 'acme', recipient: 'd0.example', limit: 50 })],
    ['message search by subject, common (?subject=ORDER)', () => store.searchMessages({ account: 'acme', subject: 'ORDER', limit: 50 })],
    ['message search by subject, rare: scans the account (?subject=overdue)', () => store.searchMessages({ account: 'acme', subject: 'overdue', limit: 50 })],
    ['message search by subject, rare, last hour only (since)', () => store.searchMessages({ account: 'acme', subject: 'overdue', since: t0 + ROWS * 500 - 3_600_000, limit: 50 })],
    ['timeline (getMessage + listEvents)', () => Promise.all([store.getMessage(sample), store.listEvents({ account: 'acme', messageId: sample, limit: 1000 })])],
  ];
  for (const [label, fn] of pages) console.log(await time(label, fn));
  console.log(await time('reference: the same overview from listRecipients, grouped in JS', async () => {
    const byDomain = new Map<string, number>();
    for (const r of await store.listRecipients({ limit: ROWS })) byDomain.set(r.address.split('@')[1]!, (byDomain.get(r.address.split('@')[1]!) ?? 0) + 1);
    return byDomain;
  }));
}

{
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-'));
  const store = new SqliteQueueStore({ dataDir, logger });
  await store.open();
  try { await measure('sqlite', store); } finally { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); }
}

const pgUrl = process.env.PL_BENCH_PG_URL;
if (pgUrl) {
  const db = `postlane_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(pgUrl);
  u.pathname = `/${db}`;
  const store = new PostgresQueueStore({ url: u.href, logger, poolSize: 4 });
  await store.open();
  try { await measure('postgres', store); } finally {
    await store.close();
    await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
    await admin.end();
  }
}
