// Benchmark: SQLite's temp_store in the store's worker, file (SQLite's default) against MEMORY, on
// the store's whole write path (store-work.ts: intake then claimDue + recordResults delivered).
// Builds both variants from the compiled store (dist/src) into dist/bench-variants/<variant>/src,
// the worker as shipped ("memory": temp_store = MEMORY on the writer) or without it ("file"), and
// runs fresh stores of each in alternating order in this one process. Reports the medians over the
// rounds of wall and CPU ms per message (this process: SQLite's worker thread included) and of the
// peak RSS while a round ran (sampled every 10 ms), and the ratios memory / file.
//   npx tsc -p tsconfig.json && npx tsc -p bench/tsconfig.json && node dist/bench/sqlite-temp-store.js [messages=3000] [rounds=7]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/events/log.js';
import type { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';
import { storeRound, type Opened, type Phase } from './store-work.js';

const MESSAGES = Number(process.argv[2] ?? 3000);
const ROUNDS = Number(process.argv[3] ?? 7);
const VARIANTS = ['file', 'memory'] as const;
type Variant = typeof VARIANTS[number];
const logger = createLogger('silent');
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The worker's connections (connections.js) as shipped (memory: temp_store on the writer) or without the pragma. */
function patchConnections(js: string, v: Variant): string {
  if (!js.includes("writer.pragma('temp_store = MEMORY')")) throw new Error('connections.js: no temp_store pragma on the writer');
  return v === 'memory' ? js : js.split('\n').filter((l) => !l.includes("pragma('temp_store")).join('\n');
}

async function build(v: Variant): Promise<typeof SqliteQueueStore> {
  const root = path.join(dist, 'bench-variants', v);
  await fs.rm(root, { recursive: true, force: true });
  // no test files: test/order-files.mjs runs every dist/**/*.test.js (the copies are removed at the end too)
  await fs.cp(path.join(dist, 'src'), path.join(root, 'src'), { recursive: true, filter: (f) => !f.endsWith('.test.js') });
  const conns = path.join(root, 'src/store/sqlite/connections.js');
  await fs.writeFile(conns, patchConnections(await fs.readFile(conns, 'utf8'), v));
  const mod = await import(path.join(root, 'src/store/sqlite/sqlite-store.js')) as { SqliteQueueStore: typeof SqliteQueueStore };
  return mod.SqliteQueueStore;
}

async function open(Store: typeof SqliteQueueStore): Promise<Opened> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-'));
  const store = new Store({ dataDir, logger });
  await store.open();
  return { store, serverCpuMs: async () => 0, close: async () => { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); } };
}

interface Run { intake: Phase; delivery: Phase; peakRssMb: number }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stores = { file: await build('file'), memory: await build('memory') };
const runs: Record<Variant, Run[]> = { file: [], memory: [] };
console.log(`${MESSAGES} messages per run, ${ROUNDS} rounds, temp_store file / memory; ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} load at start`);
for (let r = 0; r < ROUNDS; r++) {
  for (const v of r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
    global.gc?.();
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 10);
    const o = await open(stores[v]);
    try {
      const { intake, delivery } = await storeRound(o, MESSAGES);
      peak = Math.max(peak, process.memoryUsage.rss());
      runs[v].push({ intake, delivery, peakRssMb: peak / 2 ** 20 });
    } finally { clearInterval(sampler); await o.close(); }
  }
}
const f = (x: number) => x.toFixed(3);
for (const phase of ['intake', 'delivery'] as const) {
  const m = (v: Variant, k: keyof Phase) => median(runs[v].map((x) => x[phase][k]));
  const col = (k: keyof Phase) => `${f(m('file', k))} / ${f(m('memory', k))} (x${(m('memory', k) / m('file', k)).toFixed(2)})`;
  console.log(`sqlite ${phase}: file / memory: wall ms/msg ${col('wallMs')}, relay CPU ms/msg ${col('cpuMs')}`);
}
const rss = (v: Variant) => median(runs[v].map((x) => x.peakRssMb));
console.log(`peak RSS MB (median of rounds): file ${rss('file').toFixed(1)} / memory ${rss('memory').toFixed(1)} (x${(rss('memory') / rss('file')).toFixed(2)})`);
await fs.rm(path.join(dist, 'bench-variants'), { recursive: true, force: true });
console.log(`load at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
