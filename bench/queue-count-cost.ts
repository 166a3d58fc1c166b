// Benchmark: what the queue overview's counters (issue 12: recipient triggers keeping queue_count,
// an index for the oldest) cost intake and delivery, per message, on both stores. Each round opens
// four fresh stores at the latest schema: one as migrated ("v21", PostgreSQL v18: delivering
// recipients neither counted nor in recipient_unclaimed), one turned back into the v20 design
// ("v20", PostgreSQL v17: the v19/v16 triggers counting delivering too, and recipient_waiting), one
// with the v21 triggers but no index ("triggers": the counters' own cost) and one with the triggers
// and the index dropped ("none": the v18 write path), and runs the same work on each, in rotating
// order: intake then delivery (store-work.ts). Reports per phase the medians over the rounds of wall ms per message and CPU ms per
// message: this process (every thread, so SQLite's worker too) and, on PostgreSQL, the server
// backends of this database (/proc/<pid>/stat of pg_stat_activity's pids; the shared WAL writer
// and checkpointer are not in it).
//   npx tsc -p bench/tsconfig.json && PL_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres node dist/bench/queue-count-cost.js [messages=4000] [rounds=5]
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createLogger } from '../src/events/log.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresQueueStore } from '../src/store/postgres/postgres-store.js';
import { alter, MODES, type Mode } from './queue-count-variants.js';
import { storeRound, type Opened, type Phase } from './store-work.js';

const MESSAGES = Number(process.argv[2] ?? 4000);
const ROUNDS = Number(process.argv[3] ?? 5);
const logger = createLogger('silent');
interface Row { wall: number; cpu: number; server: number }

const ticks = (pid: number): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15), in clock ticks
  } catch { return 0; }
};

async function openSqlite(mode: Mode): Promise<Opened> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-'));
  const store = new SqliteQueueStore({ dataDir, logger });
  await store.open();
  const db = new Database(path.join(dataDir, 'queue.db'));
  for (const s of alter(mode, '')) db.exec(s);
  db.close();
  return { store, serverCpuMs: async () => 0, close: async () => { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); } };
}

async function openPostgres(admin: pg.Client, base: string, mode: Mode): Promise<Opened> {
  const db = `postlane_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(base);
  u.pathname = `/${db}`;
  const store = new PostgresQueueStore({ url: u.href, logger, poolSize: 4 });
  await store.open();
  const c = new pg.Client({ connectionString: u.href });
  await c.connect();
  for (const s of alter(mode, ' ON recipient')) await c.query(s);
  await c.end();
  const serverCpuMs = async () => {
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db]);
    return rows.reduce((n, r) => n + ticks(r.pid), 0) * 10; // 100 ticks per second
  };
  return {
    store, serverCpuMs,
    close: async () => { await store.close(); await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compare(name: string, open: (mode: Mode) => Promise<Opened>): Promise<void> {
  const runs: Record<Mode, { intake: Phase; delivery: Phase }[]> = { none: [], triggers: [], v20: [], v21: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const k = r % MODES.length;
    for (const mode of [...MODES.slice(k), ...MODES.slice(0, k)]) {
      const o = await open(mode);
      try { runs[mode].push(await storeRound(o, MESSAGES)); } finally { await o.close(); }
    }
  }
  for (const phase of ['intake', 'delivery'] as const) {
    const row = (mode: Mode) => {
      const m = (k: keyof Phase) => median(runs[mode].map((x) => x[phase][k]));
      return { wall: m('wallMs'), cpu: m('cpuMs'), server: m('serverMs') };
    };
    const [a, t, v20, v21] = MODES.map(row) as [Row, Row, Row, Row];
    const f = (x: number) => x.toFixed(3);
    const col = (k: keyof Row) => `${f(a[k])} / ${f(t[k])} / ${f(v20[k])} / ${f(v21[k])} (v20 x${(v20[k] / a[k]).toFixed(2)}, v21 x${(v21[k] / a[k]).toFixed(2)}, v21/v20 x${(v21[k] / v20[k]).toFixed(2)})`;
    console.log(`${name} ${phase}: none / triggers / v20 / v21: wall ms/msg ${col('wall')}, relay CPU ms/msg ${col('cpu')}`
      + (name === 'postgres' ? `, server CPU ms/msg ${col('server')}` : ''));
  }
}

console.log(`${MESSAGES} messages per run, ${ROUNDS} rounds, modes ${MODES.join(' / ')}; ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} load at start`);
await compare('sqlite', openSqlite);
const pgUrl = process.env.PL_BENCH_PG_URL;
if (pgUrl) {
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  try { await compare('postgres', (mode) => openPostgres(admin, pgUrl, mode)); } finally { await admin.end(); }
}
console.log(`load at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
