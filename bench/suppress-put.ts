// Benchmark: the HTTP API's store calls per send, two patterns on the same build, in one process
// (issue 14, sixth session): "two" = findSuppressions started, the body written meanwhile, then put
// (the API before); "one" = the body written, then putCheckingSuppressions (the lookup in the put's
// transaction). 20 writers, a 3 KB body, one recipient, no suppression entry hit. Per run: the main
// thread's CPU per message (/proc schedstat), the process's CPU per message, messages/s. Patterns
// alternate A B / B A on fresh stores (SQLite data directory, or a PostgreSQL database).
//   npx tsc -p bench/tsconfig.json && [WRITERS=20] nice -n 5 node dist/bench/suppress-put.js sqlite|postgres [RUNS=6] [MESSAGES=2000]
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore } from '../src/store/open-store.js';
import { configSchema } from '../src/config/schema.js';
import { newQueueId } from '../src/message/ids.js';
import { createLogger } from '../src/events/log.js';
import type { QueueStore } from '../src/store/store.js';

const kind = process.argv[2] ?? 'sqlite';
const RUNS = Number(process.argv[3] ?? 6);
const MESSAGES = Number(process.argv[4] ?? 2000);
const WRITERS = Number(process.env.WRITERS ?? 20);
const BODY = Buffer.alloc(3072, 'x');
const pgAdminUrl = process.env.PL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const mainCpu = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
const procCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function fresh(): Promise<{ store: QueueStore; done: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'api-suppress-put-'));
  let url: string | null = null;
  const db = `api_bench_sp_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  if (kind === 'postgres') {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    const u = new URL(pgAdminUrl); u.pathname = `/${db}`; url = u.href;
  }
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, storage: { url } });
  const store = await openStore(config, createLogger('silent'), 'relay') as QueueStore;
  await store.open();
  return { store, done: async () => {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
    if (kind === 'postgres') { await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`); await admin.end(); }
  } };
}

async function run(pattern: 'two' | 'one') {
  const { store, done } = await fresh();
  let left = MESSAGES;
  const c0 = mainCpu(), p0 = procCpu(), t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (left-- > 0) {
      const id = newQueueId();
      const m = { id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: BODY.length, receivedAt: Date.now(),
        origin: { listener: 'http' as const, clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' as const,
        meta: { account: 'default', tags: [], metadata: {}, stream: 'transactional' as const } };
      const lookup = pattern === 'two' ? store.findSuppressions('default', 'transactional', m.recipients) : null;
      const w = store.createBody(id);
      await w.write(BODY);
      await w.finish();
      if (lookup) { await lookup; await store.put(m); } else await store.putCheckingSuppressions(m);
    }
  }));
  const r = { mainMs: (mainCpu() - c0) / MESSAGES, procMs: (procCpu() - p0) / MESSAGES, rate: MESSAGES / ((performance.now() - t0) / 1000) };
  await done();
  return r;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const res: Record<string, { mainMs: number; procMs: number; rate: number }[]> = { two: [], one: [] };
await run('two'); await run('one'); // warm-up
for (let i = 0; i < RUNS; i++) {
  for (const p of (i % 2 === 0 ? ['two', 'one'] : ['one', 'two']) as ('two' | 'one')[]) {
    const r = await run(p);
    res[p]!.push(r);
    console.log(JSON.stringify({ kind, run: i, pattern: p, mainMs: +r.mainMs.toFixed(4), procMs: +r.procMs.toFixed(4), rate: Math.round(r.rate) }));
  }
}
const ratio = (f: 'mainMs' | 'procMs' | 'rate') => +median(res.one!.map((r, i) => r[f] / res.two![i]![f])).toFixed(3);
console.log(JSON.stringify({ kind, messages: MESSAGES, writers: WRITERS, load: os.loadavg().map((x) => +x.toFixed(1)),
  median: Object.fromEntries(Object.entries(res).map(([p, rs]) => [p, { mainMs: +median(rs.map((r) => r.mainMs)).toFixed(4), procMs: +median(rs.map((r) => r.procMs)).toFixed(4), rate: Math.round(median(rs.map((r) => r.rate))) }])),
  pairedOneOverTwo: { mainMs: ratio('mainMs'), procMs: ratio('procMs'), rate: ratio('rate') } }));
process.exit(0);
