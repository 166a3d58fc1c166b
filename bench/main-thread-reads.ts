// Benchmark (store23, twenty-third session): how long the heaviest relay-side read operations hold
// the main thread now that the SQLite executor runs there (store/sqlite/executor.ts). Fills a store
// with N deferred recipients and 10 × N events (queue-fill.ts, as queue-scale.ts does), then times
// each read op as the HTTP API and the dashboard make it, REPS times (the call runs its statements
// synchronously inside the store call, so its wall time is the time the event loop is blocked).
// Prints one JSON line: op → [min, median, max] ms.
//   npx tsc -p . && npx tsc -p bench/tsconfig.json
//   N=100000 REPS=5 node dist/bench/main-thread-reads.js [DATA_DIR (kept, reused if filled)]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fillStore, openStore } from './queue-fill.js';
import type { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';

const N = Number(process.env.N ?? 100_000);
const REPS = Number(process.env.REPS ?? 5);
const dataDir = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pl-reads-'));
const spec = { kind: 'sqlite' as const, dataDir };
if (!fs.existsSync(path.join(dataDir, 'queue.db'))) await fillStore(spec, N, (m) => process.stderr.write(`${m}\n`));
const store = openStore(spec) as SqliteQueueStore;
await store.open();
const now = Date.now();
const day = 86_400_000;
const ops: Record<string, () => Promise<unknown>> = {
  counts: () => store.counts(),
  list_50: () => store.listRecipients({ limit: 50 }),
  list_deferred_50: () => store.listRecipients({ state: 'deferred', limit: 50 }),
  list_all_1000: () => store.listRecipients({ includeFinal: true, limit: 1000 }),
  queue_overview_20: () => store.queueOverview(null, 20),
  queue_overview_acct_20: () => store.queueOverview('default', 20),
  events_100: () => store.listEvents({ account: 'default', limit: 100 }),
  events_1000: () => store.listEvents({ account: 'default', limit: 1000 }),
  events_type_since: () => store.listEvents({ account: 'default', types: ['delivered'], since: now - day, limit: 100 }),
  events_recipient: () => store.listEvents({ account: 'default', recipient: 'r5@d5.deferred.test', limit: 100 }),
  search_50: () => store.searchMessages({ account: 'default', limit: 50 }),
  search_500_deferred: () => store.searchMessages({ account: 'default', status: 'deferred', limit: 500 }),
  search_subject: () => store.searchMessages({ account: 'default', subject: 'no such subject', limit: 50 }),
  search_from: () => store.searchMessages({ account: 'default', from: 'nobody@src.test', limit: 50 }),
  stats_hour_7d: () => store.readStats({ account: null, from: now - 7 * day, to: now, groupBy: 'hour' }),
  stats_domain_30d: () => store.readStats({ account: 'default', from: now - 30 * day, to: now, groupBy: 'domain' }),
  suppressions_1000: () => store.listSuppressions({ account: 'default', limit: 1000 }),
  next_due: () => store.nextDueAt(),
};
const out: Record<string, [number, number, number]> = {};
for (const [name, f] of Object.entries(ops)) {
  const ms: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    try { await f(); } catch (err) { process.stderr.write(`${name}: ${(err as Error).message}\n`); break; }
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  if (ms.length) out[name] = [+ms[0]!.toFixed(1), +ms[ms.length >> 1]!.toFixed(1), +ms[ms.length - 1]!.toFixed(1)];
}
await store.close();
console.log(JSON.stringify({ n: N, reps: REPS, dataDir, load: os.loadavg().map((l) => +l.toFixed(2)), ms: out }));
