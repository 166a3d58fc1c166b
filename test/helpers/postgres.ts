// PostgreSQL for tests: whether the server (PL_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432)
// is reachable, and a fresh database per test, dropped (with its connections) afterwards. Its name
// starts with PL_TEST_DB_PREFIX when set (machines whose users share one server keep to a prefix each).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.PL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try { await c.connect(); return true; } catch { return false; } finally { await c.end().catch(() => undefined); }
}

/** Creates a database for one test; t.after drops it. Returns its URL. */
export async function freshDatabase(t: { after(fn: () => Promise<void>): void }, prefix = 'postlane_e2e'): Promise<string> {
  assert.ok(await pgReachable(), `PostgreSQL is required (${PG_ADMIN_URL})`);
  const dbName = `${process.env.PL_TEST_DB_PREFIX ?? ''}${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  t.after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  return url.toString();
}
