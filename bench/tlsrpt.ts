// Benchmark: the cost TLS reporting adds to delivery (tlsrpt/outcomes.ts). record() runs once per
// delivery attempt under an MTA-STS or DANE policy; flush() adds the counters to the store every
// 30 s. Measures record() per call (1,000,000 sessions over 1,000 policy domains, 5% failures of
// three kinds on four MX hosts each) and one flush of the resulting counters on each store: the
// write a node makes per 30 s, whatever the message rate (it grows with distinct keys, not sessions).
//   npx tsc -p bench/tsconfig.json && node dist/bench/tlsrpt.js [sessions=1000000] [sqlite|postgres|both]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { PostgresQueueStore } from '../src/store/postgres/postgres-store.js';
import type { TlsOutcomeCount } from '../src/store/tls-report-store.js';
import { stsPolicy, TlsOutcomeRecorder, type TlsrptResult } from '../src/tlsrpt/outcomes.js';

const SESSIONS = Number(process.argv[2] ?? 1_000_000);
const WHICH = process.argv[3] ?? 'both';
const logger = pino({ level: 'silent' });
const clock = { now: () => Date.UTC(2026, 11, 4, 12) };
const DOMAINS = Array.from({ length: 1000 }, (_, i) => `d${i}.example`);
const POLICIES = DOMAINS.map((d) => stsPolicy({ mode: 'enforce', mx: [`mx1.${d}`, `mx2.${d}`], maxAge: 604_800 }));
const FAILURES: TlsrptResult[] = [
  { resultType: 'certificate-expired', reason: 'CERT_HAS_EXPIRED' }, { resultType: 'starttls-not-supported', reason: 'STARTTLS not offered' },
  { resultType: 'certificate-host-mismatch', reason: 'the certificate is not valid for mx1' },
];
const OK: TlsrptResult = { resultType: 'success', reason: '' };

function record(store: { addTlsOutcomes(rows: TlsOutcomeCount[]): Promise<void> }): { recorder: TlsOutcomeRecorder; nsPerCall: number; keys: number } {
  let keys = 0;
  const recorder = new TlsOutcomeRecorder({ store: { addTlsOutcomes: async (rows) => { keys = rows.length; await store.addTlsOutcomes(rows); } }, clock, logger });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < SESSIONS; i++) {
    const d = i % DOMAINS.length;
    const fail = i % 20 === 0;
    recorder.record(DOMAINS[d]!, POLICIES[d]!, fail ? FAILURES[(i / 20) % 3 | 0]! : OK, `mx${i % 4}.${DOMAINS[d]}`, `192.0.2.${i % 4}`);
  }
  const ns = Number(process.hrtime.bigint() - t0) / SESSIONS;
  return { recorder, nsPerCall: ns, keys };
}

async function run(name: string, store: SqliteQueueStore | PostgresQueueStore): Promise<void> {
  const r = record(store);
  const t0 = performance.now();
  await r.recorder.flush();
  const flushMs = performance.now() - t0;
  const r2 = record(store);
  const t1 = performance.now();
  await r2.recorder.flush(); // the same keys again: every upsert an update
  const updateMs = performance.now() - t1;
  const stored = await store.readTlsOutcomes(Date.UTC(2026, 11, 4));
  const total = stored.reduce((n, c) => n + c.n, 0);
  console.log(`${name}: record() ${r.nsPerCall.toFixed(0)} ns/session (${SESSIONS} sessions); flush of ${stored.length} counters: ${flushMs.toFixed(0)} ms (inserts), ${updateMs.toFixed(0)} ms (updates); stored sessions ${total}`);
  if (total !== 2 * SESSIONS) throw new Error(`counted ${total}, expected ${2 * SESSIONS}`);
}

if (WHICH !== 'postgres') {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-tlsrpt-'));
  const store = new SqliteQueueStore({ dataDir: dir, logger });
  await store.open();
  try { await run('sqlite', store); } finally { await store.close(); await fs.rm(dir, { recursive: true, force: true }); }
}
if (WHICH !== 'sqlite') {
  const admin = new pg.Client({ connectionString: process.env.PL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const db = `postlane_bench_tlsrpt_${process.pid}`;
  await admin.query(`CREATE DATABASE ${db}`);
  const url = new URL(process.env.PL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${db}`;
  const store = new PostgresQueueStore({ url: url.toString(), logger, poolSize: 2 });
  await store.open();
  try { await run('postgres', store); } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}
