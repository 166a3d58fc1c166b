// Benchmark: the CPU of readBody for a delivery attempt, from the SQLite store (one worker request,
// the blob read and transferred back) against from memory (readBody(id, { claimed: true }): the
// bodies this node just stored, store/recent-bodies.ts). Process CPU (every thread) of the read
// phase only, per message; modes alternate store, memory, memory, store … on fresh data directories.
//   nice -n 5 node bench/body-read.mjs [ROOT=.] [RUNS=8] [MESSAGES=2000] [SIZE=4096]
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? '.');
const RUNS = Number(process.argv[3] ?? 8);
const MESSAGES = Number(process.argv[4] ?? 2000);
const SIZE = Number(process.argv[5] ?? 4096);
const CONCURRENCY = 20;
const dist = path.join(root, 'dist/src');
// Without it, readBody ignores { claimed } and both modes read the store (the change was reverted: 9fa453c has it).
await fs.access(path.join(dist, 'store/recent-bodies.js')).catch(() => { throw new Error(`${root} has no store/recent-bodies.js: build 9fa453c`); });
const { SqliteQueueStore } = await import(path.join(dist, 'store/sqlite/sqlite-store.js'));
const { newQueueId } = await import(path.join(dist, 'message/ids.js'));
const { createLogger } = await import(path.join(dist, 'events/log.js'));
const BODY = Buffer.alloc(SIZE, 'x');
const PREFIX = `DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; b=${'A'.repeat(340)}\r\n`;

async function pool(items, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next < items.length) await fn(items[next++]); }));
}

async function run(claimed) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-body-read-'));
  const store = new SqliteQueueStore({ dataDir, logger: createLogger('silent') });
  await store.open();
  try {
    const ids = Array.from({ length: MESSAGES }, () => newQueueId());
    await pool(ids, async (id) => {
      const w = store.createBody(id);
      await w.write(BODY);
      await w.finish();
      await store.put({ id, mailFrom: 's@example.org', recipients: ['r@example.com'], size: SIZE + PREFIX.length, receivedAt: Date.now(),
        origin: { listener: 'alt', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay', headerPrefix: PREFIX });
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // the worker's checkpoint after the puts is not the reads' CPU
    let bytes = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await pool(ids, async (id) => { for await (const c of store.readBody(id, { claimed })) bytes += c.length; });
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (bytes !== MESSAGES * (SIZE + PREFIX.length)) throw new Error(`read ${bytes} bytes`);
    return { cpuUsPerMsg: (cpu.user + cpu.system) / MESSAGES, wallMs };
  } finally {
    await store.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

const results = { store: [], memory: [] };
for (let i = 0; i < RUNS; i++) {
  const order = i % 2 === 0 ? ['store', 'memory'] : ['memory', 'store'];
  for (const mode of order) {
    const r = await run(mode === 'memory');
    results[mode].push(r.cpuUsPerMsg);
    console.log(`run ${i + 1} ${mode}: ${r.cpuUsPerMsg.toFixed(1)} µs CPU/msg, ${r.wallMs.toFixed(0)} ms wall`);
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const pairs = results.store.map((s, i) => results.memory[i] / s);
console.log(`median µs CPU/msg: store ${median(results.store).toFixed(1)}, memory ${median(results.memory).toFixed(1)}; pair ratios memory/store ${pairs.map((p) => p.toFixed(2)).join(' ')} (median ${median(pairs).toFixed(2)})`);
