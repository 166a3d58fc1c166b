// Two relay nodes on one PostgreSQL database (storage.url): mail accepted by either node is
// delivered exactly once in the normal case, by whichever node claims it. Needs the PostgreSQL
// server on 127.0.0.1:5432 (PL_TEST_PG_URL); skipped without it, except under CI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';

const ADMIN_URL = process.env.PL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MESSAGES = 40;

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try { await c.connect(); return true; } catch { return false; } finally { await c.end().catch(() => undefined); }
}

const reachable = await pgReachable();

test('two nodes on one PostgreSQL queue: every message delivered exactly once', { skip: !reachable && process.env.CI !== 'true' && 'PostgreSQL not reachable' }, async (t) => {
  assert.ok(reachable, 'PostgreSQL is required under CI');
  const dbName = `postlane_e2e_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'cluster.test': { MX: [{ exchange: 'mx.cluster.test', priority: 10 }] }, 'mx.cluster.test': { A: ['127.0.0.2'] } });
  const config = {
    storage: { url: url.toString() },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms' },
  };
  const nodes = [await RelayProcess.create(config), await RelayProcess.create(config)];
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
    await mx.close(); await dns.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });
  // A user added through node A's CLI exists for node B too: it is in the shared database.
  assert.equal((await nodes[0]!.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'cluster.test'])).code, 0);
  await Promise.all(nodes.map((n) => n.start()));

  const subs = nodes.map((n) => new Submitter({ port: n.port('submission'), user: 'app', pass: 'app-password' }));
  for (let i = 0; i < MESSAGES; i++) {
    await subs[i % 2]!.send('app@cluster.test', [`r${i}@cluster.test`], `Subject: n${i}\r\nX-Seq: ${i}\r\n\r\nseq ${i}\r\n`);
  }
  subs.forEach((s) => s.close());
  await eventually(() => mx.messages.length >= MESSAGES, 30_000);
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive right behind
  const seqs = mx.messages.map((m) => Number(/X-Seq: (\d+)/.exec(m.body.toString())?.[1]));
  assert.equal(seqs.length, MESSAGES, 'no duplicates');
  assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), Array.from({ length: MESSAGES }, (_, i) => i));
  const deliveredBy = nodes.map((n) => n.logs.filter((l) => l.event === 'delivery.delivered').length);
  t.diagnostic(`deliveries per node: ${deliveredBy.join(', ')}`);
  assert.equal(deliveredBy[0]! + deliveredBy[1]!, MESSAGES);
});
