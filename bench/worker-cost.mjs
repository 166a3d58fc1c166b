// What a Worker costs the relay's process (bench/README.md, twenty-fourth session, helper mem24):
//   node --max-semi-space-size=2 --heap-growing-percent=30 bench/worker-cost.mjs MODE [ROOT] [WORKER_OPTIONS_JSON]
// MODE: none | bare (an idle CommonJS worker) | bare-esm (an idle ES module worker) | bs3 (better-sqlite3
//     loaded, an in-memory database open) | store (ROOT's dist/bundle/sqlite-worker.js on a fresh queue
//     database: the relay's database thread, opened, migrated and idle)
// Prints the growth of the process's anonymous memory and PSS from before the worker to 1.5 s after it is
// ready, and for the eval'd modes the worker isolate's V8 spaces ([committed, used] KB).
// WORKER_OPTIONS_JSON: e.g. '{"resourceLimits":{"stackSizeMb":1}}', '{"stdout":true,"stderr":true}'.
// SNAP=FILE also writes the worker's heap snapshot (read it with bench/heap-snapshot-summary.py).
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const roll = () => {
  const t = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
  const g = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)[1]) / 1024;
  return { pss: g('Pss'), anon: g('Anonymous') };
};
const [mode = 'bare', root = process.cwd(), opt = '{}'] = process.argv.slice(2);
const wopts = JSON.parse(opt);
const SPACES = "setTimeout(() => { const o = {}; for (const s of require('node:v8').getHeapSpaceStatistics()) if (s.physical_space_size) " +
  "o[s.space_name.replace('_space', '')] = [Math.round(s.physical_space_size / 1024), Math.round(s.space_used_size / 1024)]; " +
  "require('node:worker_threads').parentPort.postMessage({ ready: true, spaces: o }); }, 700); setInterval(() => {}, 1000);";

const before = roll();
let w = null;
if (mode === 'bare' || mode === 'bs3') {
  const pre = mode === 'bs3' ? `const D = require(${JSON.stringify(path.join(root, 'node_modules/better-sqlite3'))}); const db = new D(':memory:');` : '';
  w = new Worker(pre + SPACES, { eval: true, ...wopts });
} else if (mode === 'bare-esm') {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'worker-cost-')), 'w.mjs');
  fs.writeFileSync(file, `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); ${SPACES}`);
  w = new Worker(file, wopts);
} else if (mode === 'store') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-cost-'));
  const { DEFAULT_BREAKER_POLICY } = await import(path.join(root, 'dist/src/store/breaker-rules.js'));
  const { DEFAULT_SOFT_BOUNCE_POLICY } = await import(path.join(root, 'dist/src/store/event-effects.js'));
  const cfg = { dbPath: path.join(dir, 'queue.db'), spoolDir: dir, sweepOrphans: false, orphanAgeMs: 3_600_000,
    softBounces: DEFAULT_SOFT_BOUNCE_POLICY, breakers: DEFAULT_BREAKER_POLICY };
  w = new Worker(path.join(root, 'dist/bundle/sqlite-worker.js'), { workerData: cfg, ...wopts });
}
let spaces = null;
if (w) {
  const m = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  if (m.ready === false) throw new Error(m.message);
  spaces = m.spaces ?? null;
}
await new Promise((r) => setTimeout(r, 1500));
const after = roll();
const f = (x) => x.toFixed(1);
console.log(`${mode} ${opt}: anonymous +${f(after.anon - before.anon)} MB, PSS +${f(after.pss - before.pss)} MB` +
  (spaces ? `; worker spaces ${JSON.stringify(spaces)}` : ''));
if (process.env.SNAP && w) {
  const s = await w.getHeapSnapshot();
  const out = fs.createWriteStream(process.env.SNAP);
  s.pipe(out);
  await new Promise((r) => out.on('finish', r));
}
process.exit(0);
