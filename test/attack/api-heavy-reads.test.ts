// Attack pass, thirty-first session (api31): listings and statistics had no budget. Each reads
// through the store's heavy-read path for tens to hundreds of milliseconds, so one account
// calling them in parallel could occupy it for every tenant. Now an account has at most
// http.heavyReadsPerAccount of them in flight per node; one more is 429 rate_limited with
// Retry-After, whatever the route, while another account's are served. To hold reads in flight
// without timing, the test takes an ACCESS EXCLUSIVE lock on the event table from its own
// PostgreSQL connection: alpha's GET /v1/events wait on it (seen in pg_stat_activity), its
// suppression list and stats are refused, beta's are answered; the lock released, alpha's reads
// finish and its next is served. Over real HTTP to a relay process on PostgreSQL.
import test from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';
import { curl } from '../helpers/curl.js';
import { freshDatabase, pgReachable } from '../helpers/postgres.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const skip = (await skipUnless(TOOLS.curl)) || (!(await pgReachable()) && 'PostgreSQL is not reachable');
const CAP = 3;

test('heavy reads: an account has at most http.heavyReadsPerAccount in flight, then 429; another account is served', { skip, timeout: 60_000 }, async (t) => {
  const url = await freshDatabase(t, 'postlane_heavyread');
  const relay = await RelayProcess.create({ storage: { url }, dns: { servers: ['127.0.0.1:9'] }, http: { heavyReadsPerAccount: CAP } });
  t.after(() => relay.cleanup());
  const alpha = await seedRelayTenant(relay, { account: 'alpha', domains: ['alpha.test'], keys: { read: ['read'] } });
  const beta = await seedRelayTenant(relay, { account: 'beta', domains: ['beta.test'], keys: { read: ['read'] } });
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const asAlpha = (path: string) => call(base, 'GET', path, { token: alpha.tokens.read! });
  const asBeta = (path: string) => call(base, 'GET', path, { token: beta.tokens.read! });
  // Each key looked up once first, so that nothing but the reads waits below.
  assert.equal((await asAlpha('/v1/account')).status, 200);
  assert.equal((await asBeta('/v1/account')).status, 200);

  const locker = new pg.Client({ connectionString: url });
  locker.on('error', () => undefined); // the database is dropped with its connections (freshDatabase)
  await locker.connect();
  t.after(() => locker.end().catch(() => undefined));
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE event IN ACCESS EXCLUSIVE MODE');
  let locked = true;
  t.after(async () => { if (locked) await locker.query('ROLLBACK').catch(() => undefined); });
  const held = Array.from({ length: CAP }, () => asAlpha('/v1/events'));
  // Another connection watches: within the locker's transaction pg_stat_activity is a snapshot.
  const watcher = new pg.Client({ connectionString: url });
  watcher.on('error', () => undefined);
  await watcher.connect();
  t.after(() => watcher.end().catch(() => undefined));
  const waiting = () => watcher.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%FROM event%'`);
  await eventually(async () => Number((await waiting()).rows[0]!.n) >= CAP || null, 15_000, 50);

  // Alpha's fourth heavy read, on any heavy route, is refused at once (curl for one).
  for (const path of ['/v1/suppressions', '/v1/stats', '/v1/messages', '/v1/queue']) {
    const r = await asAlpha(path);
    assert.equal(r.status, 429, `${path}: ${r.text}`);
    assert.equal(r.body.error.code, 'rate_limited');
    assert.equal(r.headers.get('retry-after'), '1');
  }
  const byCurl = await curl(['-H', `Authorization: Bearer ${alpha.tokens.read!}`, `${base}/v1/suppressions`]);
  assert.equal(byCurl.status, 429, byCurl.body);
  // Its point reads are not counted, and beta's heavy reads are served meanwhile.
  assert.equal((await asAlpha('/v1/account')).status, 200);
  for (const path of ['/v1/suppressions', '/v1/stats', '/v1/messages']) {
    const r = await asBeta(path);
    assert.equal(r.status, 200, `beta ${path}: ${r.text}`);
  }

  await locker.query('ROLLBACK');
  locked = false;
  for (const r of await Promise.all(held)) assert.equal(r.status, 200, r.text);
  assert.equal((await asAlpha('/v1/suppressions')).status, 200, 'its slots were given back');
  assert.equal((await asAlpha('/v1/events')).status, 200);
});
