// The PostgreSQL backend CPU of PostgresQueueStore.open() on a fresh database (the schema's migrations): a fixed cost
// inside bench/cluster.sh's PostgreSQL CPU a message (pg26). Paths are pg26's; edit ROOT and URL to reuse.
import { readFileSync } from 'node:fs';
import pg from 'pg';
const { PostgresQueueStore } = await import('/tmp/pg26-base/dist/src/store/postgres/postgres-store.js');
const { createLogger } = await import('/tmp/pg26-base/dist/src/events/log.js');
const a = new pg.Client({ connectionString: 'postgres://postgres@127.0.71.2:47150/postgres' }); await a.connect();
const cpu = (pid) => { try { return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6; } catch { return 0; } };
for (let i = 0; i < 3; i++) {
  const db = `pg26_open_${i}`;
  await a.query(`DROP DATABASE IF EXISTS ${db}`); await a.query(`CREATE DATABASE ${db}`);
  const s = new PostgresQueueStore({ url: `postgres://postgres@127.0.71.2:47150/${db}`, logger: createLogger('silent'), poolSize: 10 });
  await s.open();
  const { rows } = await a.query('SELECT pid, backend_start FROM pg_stat_activity WHERE datname = $1', [db]);
  console.log(`open (migrations v1..): ${rows.length} backend(s), CPU ${rows.map((r) => cpu(r.pid).toFixed(1)).join(' + ')} ms`);
  await s.close(); await a.query(`DROP DATABASE ${db} WITH (FORCE)`);
}
await a.end();
