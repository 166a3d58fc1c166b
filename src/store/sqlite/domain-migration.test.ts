// What only the SQLite store has around sending domains: the v1 → v2 migration (users created
// before domain grants keep sending as any domain) and owner-only database files, since they now
// hold DKIM private keys.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './sqlite-store.js';

const logger = createLogger('silent');

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-domains-'));
  try { await fn(dir); } finally { await fs.rm(dir, { recursive: true, force: true }); }
}

test('sqlite: a v1 database migrates; its existing users keep any domain, new users get none', () => withDir(async (dir) => {
  const v1 = new Database(path.join(dir, 'queue.db'));
  v1.exec(MIGRATIONS[0]!.sql);
  v1.pragma('user_version = 1');
  v1.prepare('INSERT INTO smtp_user (name, password_hash, created_at) VALUES (?, ?, ?)').run('old', 'h', 1);
  v1.close();
  const store = new SqliteQueueStore({ dataDir: dir, logger });
  await store.open();
  try {
    assert.deepEqual(await store.getUser('old'), { name: 'old', passwordHash: 'h', createdAt: 1, allowedDomains: [], anyDomain: true, account: 'default', limits: {}, defaultStream: 'transactional' });
    await store.addUser({ name: 'new', passwordHash: 'h', createdAt: 2 });
    assert.equal((await store.getUser('new'))!.anyDomain, false);
    await store.addDomain({ name: 'example.com', createdAt: 3, keys: [] });
    assert.equal((await store.listDomains()).length, 1);
  } finally {
    await store.close();
  }
}));

test('sqlite: the database and its WAL files are owner-only (0600), also when they existed before', () => withDir(async (dir) => {
  const db = path.join(dir, 'queue.db');
  await fs.writeFile(db, '');
  await fs.chmod(db, 0o644);
  const store = new SqliteQueueStore({ dataDir: dir, logger });
  await store.open();
  try {
    await store.addDomain({ name: 'example.com', createdAt: 1, keys: [] });
    for (const f of [db, `${db}-wal`, `${db}-shm`]) {
      assert.equal((await fs.stat(f)).mode & 0o777, 0o600, `${path.basename(f)} is 0600`);
    }
  } finally {
    await store.close();
  }
}));
