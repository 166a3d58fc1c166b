// Benchmark: the queue counters' designs (queue-count-variants.ts) at the statement level, SQLite
// only: the recipient statements of intake, claim and delivery as the store runs them (write-ops.ts,
// claim-due.ts), on a store's database at the latest schema turned into each design, in this
// thread (no worker, no JavaScript of the store), so the CPU time is the statements' own and the
// noise of a loaded machine is smaller than in queue-count-cost.ts. Per round and design: N
// one-recipient messages' recipients inserted (50 a transaction), claimed (message_id, domain; 50 a
// transaction), then delivered (50 a transaction); designs in rotating order; medians over the
// rounds of CPU µs per recipient, and the ratio to v20. Foreign keys are off (no message rows).
//   npx tsc -p bench/tsconfig.json && node dist/bench/queue-count-sql.js [recipients=20000] [rounds=9]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createLogger } from '../src/events/log.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { alter, MODES, type Mode } from './queue-count-variants.js';

const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 9);
const BATCH = 50;
const PHASES = ['intake', 'claim', 'delivery'] as const;
type Phase = typeof PHASES[number];

const INSERT = `INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, stream, account, received_at)
                VALUES (?, ?, ?, 'queued', ?, ?, 'broadcast', 'acme', ?)`;
const CLAIM = `UPDATE recipient SET state = 'delivering', lease_owner = ?, lease_until = ?, updated_at = ?
               WHERE message_id = ? AND domain = ? AND ((state IN ('queued', 'deferred') AND next_attempt_at <= ?) OR (state = 'delivering' AND lease_until < ?))
               RETURNING id, address, attempts, held_ms`;
const DELIVER = `UPDATE recipient SET state = ?, attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL,
                   lease_until = NULL, last_response = ?, updated_at = ?
                 WHERE id = ? AND message_id = ? AND state = 'delivering' AND (? IS NULL OR lease_owner = ?)
                 RETURNING address, attempts`;

async function freshDb(mode: Mode): Promise<{ db: Database.Database; dir: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-'));
  const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
  await store.open();
  await store.close();
  const db = new Database(path.join(dir, 'queue.db'));
  db.pragma('foreign_keys = OFF');
  db.pragma('synchronous = OFF'); // the commits' fsyncs are not what is compared
  // With the default temp_store (file), every claim UPDATE that fires a trigger cost 0.5-2 ms of
  // CPU here (in this thread, a file or :memory: database alike), against 15-30 µs with
  // temp_store = MEMORY: its statement journal spills to a temp file; the store's writer sets
  // MEMORY too (connections.ts; bench/README.md, "SQLite temp_store").
  db.pragma('temp_store = MEMORY');
  for (const s of alter(mode, '')) db.exec(s);
  return { db, dir };
}

/** CPU µs per recipient of running `each` over 0..N-1, BATCH to a transaction. */
function cpu(db: Database.Database, each: (i: number) => void): number {
  const batch = db.transaction((from: number) => { for (let i = from; i < Math.min(from + BATCH, N); i++) each(i); });
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i += BATCH) batch(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

function round(db: Database.Database): Record<Phase, number> {
  const [insert, claim, deliver] = [db.prepare(INSERT), db.prepare(CLAIM), db.prepare(DELIVER)];
  const now = Date.now();
  const ids: number[] = [];
  const intake = cpu(db, (i) => { insert.run(`m${i}`, `r${i}@d${i % 50}.example`, `d${i % 50}.example`, now, now, now + i); });
  const claimed = cpu(db, (i) => { ids[i] = (claim.get('bench', now + 60_000, now, `m${i}`, `d${i % 50}.example`, now, now) as { id: number }).id; });
  const delivery = cpu(db, (i) => { deliver.get('delivered', null, '250 ok', now, ids[i], `m${i}`, 'bench', 'bench'); });
  return { intake, claim: claimed, delivery };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs: Record<Mode, Record<Phase, number>[]> = { none: [], triggers: [], v20: [], v21: [] };
console.log(`${N} recipients per run, ${ROUNDS} rounds, designs ${MODES.join(' / ')}; ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} load at start`);
for (let r = 0; r < ROUNDS; r++) {
  const k = r % MODES.length;
  for (const mode of [...MODES.slice(k), ...MODES.slice(0, k)]) {
    const { db, dir } = await freshDb(mode);
    try { runs[mode].push(round(db)); } finally { db.close(); await fs.rm(dir, { recursive: true, force: true }); }
  }
}
for (const phase of [...PHASES, 'claim + delivery'] as const) {
  const of = (mode: Mode) => median(runs[mode].map((x) => (phase === 'claim + delivery' ? x.claim + x.delivery : x[phase])));
  const [none, t, v20, v21] = MODES.map(of) as [number, number, number, number];
  console.log(`sqlite ${phase}: CPU µs/recipient none ${none.toFixed(1)} / triggers ${t.toFixed(1)} / v20 ${v20.toFixed(1)} / v21 ${v21.toFixed(1)}`
    + ` (v21/v20 x${(v21 / v20).toFixed(2)}; over none: v20 +${(v20 - none).toFixed(1)}, v21 +${(v21 - none).toFixed(1)})`);
}
console.log(`load at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
