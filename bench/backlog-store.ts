// Benchmark (issue 14, SQLite with a backlog): the store's cost of intake and delivery of new mail
// on data sets filled by queue-fill.ts (bench/queue-scale.ts FILL_ONLY=1), against an empty one, in
// one process, interleaved. Each run opens the store on one data set and pushes MSGS × 4 KB
// messages through the relay's store calls: createBody + put (CONC at a time: the group commit
// batches them), claimDue (40 at a time), recordResults 'delivered' (CONC at a time; READ=1: the
// body read back first). It reports
// the process CPU (all threads: the store worker's SQLite included) per message and the wall time.
//   npx tsc -p bench/tsconfig.json
//   DIRS=<emptyDataDir>,<filledDataDir>,… REPS=3 node dist/bench/backlog-store.js
// (the data sets gain MSGS delivered messages per run). VARIANTS="a:ENV=1 ENV2=x,b:" runs each data set
// once per variant with those environment variables set when the store opens (its worker thread
// copies the environment then).
import fs from 'node:fs';
import path from 'node:path';
import { createLogger } from '../src/events/log.js';
import { newQueueId } from '../src/message/ids.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';

const DIRS = (process.env.DIRS ?? '').split(',').filter(Boolean);
const REPS = Number(process.env.REPS ?? 3);
const MSGS = Number(process.env.MSGS ?? 2000);
const CONC = Number(process.env.CONC ?? 20);
const VARIANTS = (process.env.VARIANTS ?? 'base:').split(',').map((v) => {
  const [name, env = ''] = v.split(':');
  return { name: name!, env: Object.fromEntries(env.split(' ').filter(Boolean).map((kv) => kv.split('=') as [string, string])) };
});
const OUT = process.env.OUT;
/** READ=1: each delivery reads its body back (the reader connection, as the relay's delivery does). */
const READ = process.env.READ === '1';
const logger = createLogger('silent');
const BODY = Buffer.from('Subject: x\r\n\r\n' + 'La de da de da 1. La de da de da 2. La de da de da 3. La de da de da 4.\r\n'.repeat(56).slice(0, 4096));
const origin = { listener: 'alt', clientIp: '127.0.0.1', user: null };

async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) await f(items[i++]!); }));
}

async function run(dir: string, env: Record<string, string>): Promise<{ cpuMsPerMsg: number; wallMs: number; walMb: number }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const store = new SqliteQueueStore({ dataDir: dir, logger });
  await store.open();
  for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const ids = Array.from({ length: MSGS }, () => newQueueId());
    await pool(ids, CONC, async (id) => {
      const w = store.createBody(id);
      await w.write(BODY);
      await w.finish();
      await store.put({ id, mailFrom: 'sender@src.test', recipients: ['rcpt@dst.test'], size: w.bytesWritten, receivedAt: Date.now(),
        origin, isBounce: false, route: 'relay', subject: 'x' });
    });
    for (let left = MSGS; left > 0;) {
      const jobs = await store.claimDue({ now: Date.now(), limit: 40, leaseMs: 600_000, owner: 'bench' });
      if (jobs.length === 0) throw new Error(`${left} not claimable`);
      left -= jobs.length;
      await pool(jobs, CONC, async (job) => {
        if (READ) for await (const chunk of store.readBody(job.messageId)) void chunk; // what the delivery sends
        await store.recordResults(job.messageId, job.recipients.map((r) => ({
          rcptId: r.id, status: 'delivered' as const, host: 'sink.test', remoteIp: '127.0.0.9', response: '250 2.0.0 Ok', durationMs: 3,
        })));
      });
    }
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    let walMb = 0;
    try { walMb = fs.statSync(path.join(dir, 'queue.db-wal')).size / 2 ** 20; } catch { /* none */ }
    return { cpuMsPerMsg: (c.user + c.system) / 1000 / MSGS, wallMs, walMb };
  } finally {
    await store.close();
  }
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const rows: { dir: string; variant: string; rep: number; cpuMsPerMsg: number; wallMs: number }[] = [];
const cells = DIRS.flatMap((dir) => VARIANTS.map((v) => ({ dir, v })));
for (let rep = 0; rep < REPS; rep++) {
  for (const { dir, v } of rep % 2 === 0 ? cells : [...cells].reverse()) {
    const r = await run(dir, v.env);
    const row = { ts: new Date().toISOString(), dir, variant: v.name, rep, ...r, cpuMsPerMsg: +r.cpuMsPerMsg.toFixed(3), wallMs: Math.round(r.wallMs) };
    rows.push(row);
    process.stderr.write(JSON.stringify(row) + '\n');
    if (OUT) fs.appendFileSync(OUT, JSON.stringify(row) + '\n');
  }
}
for (const { dir, v } of cells) {
  const rs = rows.filter((r) => r.dir === dir && r.variant === v.name);
  console.log(`${path.basename(path.dirname(dir))} ${v.name}: CPU ${median(rs.map((r) => r.cpuMsPerMsg)).toFixed(3)} ms/msg, wall ${median(rs.map((r) => r.wallMs))} ms (${rs.map((r) => r.cpuMsPerMsg).join(', ')})`);
}
