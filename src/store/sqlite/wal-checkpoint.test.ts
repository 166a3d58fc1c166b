// The database thread's own checkpoint, after a batch's answers (worker.ts, "Checkpoints"):
//   - WalFrames reads the WAL's frame count from the -shm header: the same figure SQLite's
//     wal_checkpoint reports as `log`;
//   - with the store open and puts coming in, the WAL stays near 1,000 frames (its file is reused)
//     and the database file takes the pages; close leaves no WAL and a reopen finds every message.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_BREAKER_POLICY } from '../breaker-rules.js';
import { DEFAULT_SOFT_BOUNCE_POLICY } from '../event-effects.js';
import type { NewMessage } from '../store.js';
import { CHECKPOINT_FRAMES, WalFrames } from './wal-sync.js';
import { WorkerClient } from './worker-client.js';

const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'postlane-walckpt-'));

test('WalFrames: the -shm header says as many frames as wal_checkpoint does', async (t) => {
  const dir = await tempDir();
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'q.db');
  const db = new Database(dbPath);
  t.after(() => db.close());
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (x BLOB)');
  const frames = new WalFrames(`${dbPath}-shm`);
  t.after(() => frames.close());
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < 50; i++) insert.run(Buffer.alloc(3000, i));
  const seen = frames.frames();
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
  assert.ok(seen !== null && seen > 50, `${seen} frames`);
  assert.equal(seen, row!.log);
  assert.equal(new WalFrames(path.join(dir, 'missing-shm')).frames(), null);
});

test('sqlite worker: checkpoints after the answers keep the WAL near 1,000 frames; close leaves no WAL', async (t) => {
  const dataDir = await tempDir();
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  await fs.mkdir(path.join(dataDir, 'spool'));
  const dbPath = path.join(dataDir, 'queue.db');
  const { client } = await WorkerClient.start({
    dbPath, spoolDir: path.join(dataDir, 'spool'), sweepOrphans: false, orphanAgeMs: 60_000,
    softBounces: DEFAULT_SOFT_BOUNCE_POLICY, breakers: DEFAULT_BREAKER_POLICY,
  }, (reason) => assert.fail(`the thread died: ${reason}`));
  const message = (id: string): NewMessage => ({
    id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: 4096, receivedAt: 1,
    origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay',
  });
  let n = 0;
  let walMax = 0;
  for (let round = 0; round < 80; round++) {
    await Promise.all(Array.from({ length: 25 }, (_, i) => client.call('put', [message(`w${String(n++).padStart(8, '0')}`), i, new Uint8Array(Buffer.alloc(4096, 'w'))])));
    walMax = Math.max(walMax, (await fs.stat(`${dbPath}-wal`)).size);
  }
  // 2,000 bodies of 4 KiB (~8 MB of pages and more): without checkpoints the WAL would hold them all
  const pageBytes = 4096 + 24; // a WAL frame: its header and one page
  assert.ok(walMax < (CHECKPOINT_FRAMES + 200) * pageBytes, `the WAL stayed near ${CHECKPOINT_FRAMES} frames (at most ${walMax} bytes)`);
  assert.ok((await fs.stat(dbPath)).size > 8_000_000, 'the database file took the pages while the store was open');
  await client.close();
  await assert.rejects(fs.stat(`${dbPath}-wal`), { code: 'ENOENT' }, 'the writer closed last: it checkpointed and removed the WAL');
  const db = new Database(dbPath, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.prepare('SELECT count(*) FROM queued_message').pluck().get(), n);
});
