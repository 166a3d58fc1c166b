// PostgreSQL's CPU per message for the store work of a cluster node, two builds interleaved (A B B A …),
// without SMTP, HAProxy or the nodes' event loops: less noise than bench/cluster.sh on a loaded machine.
// Per round and build: a fresh database (PREFIX + random), then intake (20 writers put() one-recipient
// messages with 4 KB bodies) and delivery (claimDue of 50, recordResults 'delivered' 4 at once, as
// bench/store-work.ts). Per phase: the server backends' CPU ms a message (/proc of pg_stat_activity's
// pids for that database; the pool keeps its connections, so none exits within a phase) and, when the
// server loads pg_stat_statements, top-level statements and plans a message (its rows of that database).
//   node bench/cluster-store-cost.mjs ROOT_A ROOT_B [messages=2000] [rounds=6]   (ROOT: a checkout with a built dist/)
// Env: PL_BENCH_PG_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres), PL_BENCH_DB_PREFIX
// (default cluster_store_), PL_BENCH_RESULTS_AT_ONCE (recordResults calls at once, default 4). Prints one JSON line per phase and build, then medians and paired ratios B/A.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';

const [rootA, rootB] = [process.argv[2], process.argv[3]].map((r) => path.resolve(r));
const MESSAGES = Number(process.argv[4] ?? 2000);
const ROUNDS = Number(process.argv[5] ?? 6);
const ADMIN = process.env.PL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PREFIX = process.env.PL_BENCH_DB_PREFIX ?? 'cluster_store_';
const WRITERS = 20;
/** recordResults calls at once in the delivery phase (PL_BENCH_RESULTS_AT_ONCE, default 4, as bench/store-work.ts). */
const AT_ONCE = Number(process.env.PL_BENCH_RESULTS_AT_ONCE ?? 4);
/**
 * PL_BENCH_BODY: 'x' (default, 4,096 × 'x': compresses ~50×), 'text' (a plain-text mail of words and
 * numbers, ~2× compressible, as real 4 KB mail), 'b64' (a base64 attachment of random bytes); PL_BENCH_BODY_SIZE (4096).
 */
const BODY_SIZE = Number(process.env.PL_BENCH_BODY_SIZE ?? 4096);
const BODY = ((kind) => {
  if (kind === 'b64') return Buffer.from(randomBytes(Math.ceil(BODY_SIZE * 0.75)).toString('base64').replace(/(.{76})/g, '$1\r\n').slice(0, BODY_SIZE));
  if (kind !== 'text') return Buffer.alloc(BODY_SIZE, 'x');
  const words = 'the of and to in is that for it as was with be by on not this are or from at which but have an they you were there order invoice shipment account payment delivery customer please regards thank meeting tomorrow schedule report attached update review confirm request project team number reference total amount balance statement period'.split(' ');
  let r = 2654435761, s = '', line = '';
  const rnd = () => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 2 ** 32;
  while (s.length < BODY_SIZE) {
    line += (line ? ' ' : '') + (rnd() < 0.08 ? String(Math.floor(rnd() * 100000)) : words[Math.floor(rnd() * words.length)]);
    if (line.length > 70) { s += line + '\r\n'; line = ''; }
  }
  return Buffer.from(s.slice(0, BODY_SIZE));
})(process.env.PL_BENCH_BODY ?? 'x');

const load = async (root) => ({
  Store: (await import(path.join(root, 'dist/src/store/postgres/postgres-store.js'))).PostgresQueueStore,
  newQueueId: (await import(path.join(root, 'dist/src/message/ids.js'))).newQueueId,
  logger: (await import(path.join(root, 'dist/src/events/log.js'))).createLogger('silent'),
});
const builds = { A: await load(rootA), B: await load(rootB) };
const admin = new pg.Client({ connectionString: ADMIN });
await admin.connect();
const pgss = (await admin.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'`)).rowCount > 0;

const ticks = (pid) => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } };
async function serverMs(db) {
  const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db]);
  return rows.reduce((n, r) => n + ticks(r.pid), 0) * 10;
}
async function statements(db) {
  if (!pgss) return { calls: 0, plans: 0 };
  const { rows } = await admin.query(`SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0)::float8 AS calls, coalesce(sum(plans), 0)::float8 AS plans
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)`, [db]);
  return rows[0];
}

async function round(name) {
  const { Store, newQueueId, logger } = builds[name];
  const db = `${PREFIX}${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(ADMIN); u.pathname = `/${db}`;
  const store = new Store({ url: u.href, logger, poolSize: 4 });
  await store.open();
  try {
    const origin = { listener: 'mx', clientIp: '127.0.0.1', user: null };
    const ids = Array.from({ length: MESSAGES }, () => newQueueId());
    const phase = async (fn) => {
      const s0 = await serverMs(db), q0 = await statements(db), t0 = Date.now();
      await fn();
      const s1 = await serverMs(db), q1 = await statements(db);
      return { serverMs: (s1 - s0) / MESSAGES, stmts: (q1.calls - q0.calls) / MESSAGES, plans: (q1.plans - q0.plans) / MESSAGES, wallMs: (Date.now() - t0) / MESSAGES };
    };
    let next = 0;
    const intake = await phase(() => Promise.all(Array.from({ length: WRITERS }, async () => {
      while (next < ids.length) {
        const i = next++;
        const w = store.createBody(ids[i]);
        await w.write(BODY);
        await w.finish();
        await store.put({ id: ids[i], mailFrom: 'news@acme.example', recipients: [`r${i}@d${i % 50}.example`], size: w.bytesWritten, receivedAt: Date.now(), origin,
          isBounce: false, route: 'relay' });
      }
    })));
    const delivery = await phase(async () => {
      for (;;) {
        const jobs = await store.claimDue({ now: Date.now() + 1000, limit: 50, leaseMs: 60_000, owner: 'bench' });
        if (jobs.length === 0) break;
        for (let i = 0; i < jobs.length; i += AT_ONCE) {
          await Promise.all(jobs.slice(i, i + AT_ONCE).map((j) => store.recordResults(j.messageId,
            j.recipients.map((r) => ({ rcptId: r.id, status: 'delivered', response: '250 ok', host: 'mx.example' })), [], { owner: 'bench' })));
        }
      }
    });
    return { intake, delivery };
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }
}

const runs = { A: [], B: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
    const res = await round(name);
    runs[name].push(res);
    for (const p of ['intake', 'delivery']) console.log(JSON.stringify({ round: r, build: name, phase: p, ...Object.fromEntries(Object.entries(res[p]).map(([k, v]) => [k, Math.round(v * 1000) / 1000])) }));
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
for (const p of ['intake', 'delivery']) {
  for (const k of ['serverMs', 'stmts', 'plans', 'wallMs']) {
    const a = runs.A.map((x) => x[p][k]), b = runs.B.map((x) => x[p][k]);
    const ratios = a.map((v, i) => (v > 0 ? b[i] / v : NaN)).filter((x) => !Number.isNaN(x));
    console.log(`${p}\t${k}\tA ${median(a).toFixed(3)}\tB ${median(b).toFixed(3)}\tpaired B/A median ${ratios.length ? median(ratios).toFixed(3) : '-'}\t(${ratios.map((x) => x.toFixed(2)).join(' ')})`);
  }
}
await admin.end();
