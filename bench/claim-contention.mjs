// Claim contention on PostgreSQL without SMTP: NODES stores (one pool each, as nodes) claim a backlog
// of MESSAGES due recipients at once, LIMIT groups a claim, until nothing is queued; prints one JSON
// line: claims, empty claims, jobs a claim, wall time and the database backends' CPU (from /proc).
//   node bench/claim-contention.mjs TREE [MESSAGES=3000] [NODES=3] [LIMIT=20]
// TREE is a checkout with a built dist/. PL_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// PL_BENCH_DB_PREFIX (default claim_bench_): a fresh database, dropped at the end.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [tree, messages = '3000', nodes = '3', limit = '20'] = process.argv.slice(2);
const root = resolve(tree);
const imp = (p) => import(pathToFileURL(`${root}/dist/src/${p}`).href);
const { PostgresQueueStore } = await imp('store/postgres/postgres-store.js');
const { createLogger } = await imp('events/log.js');
const { newQueueId } = await imp('message/ids.js');
const pg = (await import(pathToFileURL(`${root}/node_modules/pg/lib/index.js`).href)).default;
const admin = process.env.PL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const db = `${process.env.PL_BENCH_DB_PREFIX ?? 'claim_bench_'}${randomBytes(4).toString('hex')}`;
const url = Object.assign(new URL(admin), { pathname: `/${db}` }).href;
const a = new pg.Client({ connectionString: admin });
await a.connect();
await a.query(`CREATE DATABASE ${db}`);
const cpu = () => { // CPU seconds of this database's backends
  let t = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0/g, ' ');
      if (!cmd.startsWith('postgres: ') || !cmd.includes(` ${db} `)) continue;
      const f = readFileSync(`/proc/${p}/stat`, 'latin1').split(')').pop().trim().split(/\s+/);
      t += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return t / 100;
};
const logger = createLogger('silent');
const stores = Array.from({ length: Number(nodes) }, () => new PostgresQueueStore({ url, logger, poolSize: 2 }));
try {
  for (const s of stores) await s.open();
  const origin = { listener: 'mx', clientIp: '127.0.0.1', user: null };
  for (let i = 0; i < Number(messages); i++) {
    const id = newQueueId();
    const w = stores[0].createBody(id);
    await w.write(Buffer.from(`body ${i}\r\n`));
    await w.finish();
    await stores[0].put({ id, mailFrom: 's@example.org', recipients: [`r${i}@d${i % 16}.example`], size: w.bytesWritten, receivedAt: i, origin, isBounce: false, route: 'relay' });
  }
  const seen = new Set();
  let claims = 0, empty = 0, jobs = 0, twice = 0;
  const cpu0 = cpu(), t0 = performance.now();
  await Promise.all(stores.map(async (s, n) => {
    for (;;) {
      const got = await s.claimDue({ now: 1_000_000, limit: Number(limit), leaseMs: 600_000, owner: `n${n}` });
      claims++; jobs += got.length;
      for (const r of got.flatMap((j) => j.recipients)) { if (seen.has(r.id)) twice++; seen.add(r.id); }
      if (got.length === 0) { empty++; if ((await s.counts()).queued === 0) return; }
    }
  }));
  const wall = performance.now() - t0, pgCpu = cpu() - cpu0;
  console.log(JSON.stringify({ tree, messages: Number(messages), nodes: Number(nodes), limit: Number(limit), claims, empty, jobs, leased: seen.size, twice,
    jobs_per_claim: +(jobs / claims).toFixed(2), wall_ms: Math.round(wall), pg_cpu_ms: Math.round(pgCpu * 1000), pg_cpu_ms_per_claim: +(pgCpu * 1000 / claims).toFixed(3) }));
} finally {
  for (const s of stores) await s.close().catch(() => {});
  await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await a.end();
}
