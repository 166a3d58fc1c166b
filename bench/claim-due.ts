// Benchmark: the cost of claimDue (the hottest statement) on a queue of 100,000 due recipients,
// for both stores: median and p90 of 200 claims of 100 jobs (each claim's jobs are given back
// with unclaimJobs, so every claim sees the same backlog). The backlog is the fairness case of
// issue 11: account "bulk" has 99,000 due broadcast recipients, "shop" 1,000 transactional ones
// due later. Wall-clock and process CPU (main and database threads) per claim. Run it on two
// builds to compare (the store API is all it uses):
//   npx tsc -p bench/tsconfig.json && node dist/bench/claim-due.js            # SQLite
//   PL_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres node dist/bench/claim-due.js   # + PostgreSQL
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
const TX = Math.round(ROWS / 100);
const CLAIMS = 200;
const LIMIT = 100;
const logger = createLogger('silent');
const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };

async function fill(store: QueueStore): Promise<void> {
  await store.addAccount({ name: 'bulk', createdAt: 1, limits: {} });
  await store.addAccount({ name: 'shop', createdAt: 1, limits: {} });
  const t0 = Date.now() - 3_600_000;
  for (let done = 0; done < ROWS;) {
    const batch: NewMessage[] = [];
    for (let i = 0; i < 1000 && done < ROWS; i++, done++) {
      const tx = done >= ROWS - TX;
      const id = newQueueId();
      const w = store.createBody(id);
      await w.write(Buffer.from('Subject: b\r\n\r\nx\r\n'));
      await w.finish();
      batch.push({ id, mailFrom: tx ? 'shop@shop.example' : 'news@bulk.example', recipients: [`r${done}@d${done % 500}.example`], size: w.bytesWritten,
        receivedAt: t0 + done, origin, isBounce: false, route: 'relay',
        meta: { account: tx ? 'shop' : 'bulk', stream: tx ? 'transactional' : 'broadcast', tags: [], metadata: {} } });
    }
    await store.putMany(batch);
  }
}

async function measure(name: string, store: QueueStore): Promise<void> {
  const start = Date.now();
  await fill(store);
  const filled = Date.now() - start;
  const times: number[] = [];
  const cpu: number[] = [];
  let shopFirst = 0;
  for (let i = 0; i < CLAIMS; i++) {
    const t = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const jobs = await store.claimDue({ now: Date.now(), limit: LIMIT, leaseMs: 60_000, owner: 'bench' });
    const c = process.cpuUsage(c0);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    cpu.push((c.user + c.system) / 1000);
    if (i === 0) shopFirst = jobs.filter((j) => j.account === 'shop').length;
    await store.unclaimJobs('bench', jobs.map((j) => ({ messageId: j.messageId, domain: j.domain })));
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const q = (p: number, xs = times) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(2);
  console.log(`${name}: ${ROWS} due rows (filled in ${(filled / 1000).toFixed(1)} s); claimDue(limit ${LIMIT}) median ${q(0.5)} ms, p90 ${q(0.9)} ms, `
    + `process CPU (all threads; wall-clock figures suffer from the machine's load, CPU less) median ${q(0.5, cpu)} ms; `
    + `first claim: ${shopFirst} of ${LIMIT} jobs were shop's transactional mail`);
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
  try {
    await measure('postgres', store);
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}
