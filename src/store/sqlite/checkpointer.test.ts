// The WAL checkpointer thread (checkpointer.ts, checkpoint-thread.ts), on real files:
//   - with the store open and puts coming in, the WAL's pages reach the database file (the
//     checkpointer copies them), the WAL stays bounded (started again from its first frame), and
//     the writer runs without SQLite's automatic checkpoint;
//   - close stops the thread first, so the writer's connection is the last: no WAL file is left,
//     and a reopen finds every message;
//   - a thread that cannot start leaves the writer with SQLite's automatic checkpoint;
//   - killed (SIGKILL) while puts and checkpoints run, a reopen finds every acknowledged put.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { newQueueId } from '../../message/ids.js';
import { DEFAULT_BREAKER_POLICY } from '../breaker-rules.js';
import { DEFAULT_SOFT_BOUNCE_POLICY } from '../event-effects.js';
import type { NewMessage } from '../store.js';
import { AUTO_CHECKPOINT_PAGES, CheckpointThread } from './checkpoint-thread.js';
import { WorkerClient } from './worker-client.js';

const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'postlane-ckpt-'));
const message = (id: string): NewMessage => ({
  id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: 4096, receivedAt: 1,
  origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay',
});
const body = () => new Uint8Array(Buffer.alloc(4096, 'x'));
const sizeOf = async (f: string) => (await fs.stat(f).catch(() => ({ size: -1 }))).size;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('sqlite worker: the checkpointer copies the WAL while the store is open, keeps it bounded, and close leaves no WAL', async (t) => {
  const dataDir = await tempDir();
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  await fs.mkdir(path.join(dataDir, 'spool'));
  const dbPath = path.join(dataDir, 'queue.db');
  const { client } = await WorkerClient.start({
    dbPath, spoolDir: path.join(dataDir, 'spool'), sweepOrphans: false, orphanAgeMs: 60_000,
    softBounces: DEFAULT_SOFT_BOUNCE_POLICY, breakers: DEFAULT_BREAKER_POLICY, checkpoints: { intervalMs: 10, restartFrames: 256 },
  }, (reason) => assert.fail(`the thread died: ${reason}`));
  const before = await sizeOf(dbPath);
  const ids: string[] = [];
  let walEarly = 0;
  for (let round = 0; round < 60; round++) {
    const batch = Array.from({ length: 25 }, () => newQueueId());
    ids.push(...batch);
    await Promise.all(batch.map((id, i) => client.call('put', [message(id), i, body()])));
    if (round === 19) walEarly = await sizeOf(`${dbPath}-wal`); // the thread runs by now (it starts at the first commit)
    if (round % 10 === 9) await sleep(30); // a pause now and then, as between bursts of mail
  }
  // 1,500 bodies of 4 KiB: 6 MB and more of pages; the database file holds them while the store is open
  for (let i = 0; i < 100 && await sizeOf(dbPath) < before + 6_000_000; i++) await sleep(20);
  assert.ok(await sizeOf(dbPath) >= before + 6_000_000, `the database file grew from ${before} to ${await sizeOf(dbPath)} bytes`);
  // bounded: the WAL file (which never shrinks while open) did not grow with the 4 MB written in the last 40 rounds:
  // it was written again from its start (from 256 frames the database thread finishes a checkpoint)
  const walLate = await sizeOf(`${dbPath}-wal`);
  assert.ok(walLate - walEarly < 1_500_000, `the WAL was started again (${walEarly} bytes after 20 rounds, ${walLate} after 60)`);
  await client.close();
  assert.equal(await sizeOf(`${dbPath}-wal`), -1, 'the writer closed last: it checkpointed and removed the WAL');
  const db = new Database(dbPath, { readonly: true });
  t.after(() => db.close());
  assert.equal(db.prepare('SELECT count(*) FROM queued_message').pluck().get(), ids.length);
});

test('CheckpointThread: the writer drops its automatic checkpoint once the thread is ready, and takes it back if the thread fails', async (t) => {
  const dir = await tempDir();
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const dbPath = path.join(dir, 'q.db');
  const writer = new Database(dbPath);
  t.after(() => writer.close());
  writer.pragma('journal_mode = WAL');
  writer.exec('CREATE TABLE t (x)');
  const auto = () => writer.pragma('wal_autocheckpoint', { simple: true }) as number;
  assert.equal(auto(), AUTO_CHECKPOINT_PAGES);

  const good = new CheckpointThread(writer, dbPath, { intervalMs: 5, restartFrames: 1000 });
  good.committed();
  for (let i = 0; i < 200 && !good.active; i++) await sleep(10);
  assert.equal(good.active, true);
  assert.equal(auto(), 0, 'no COMMIT checkpoints while the thread does');
  writer.exec('INSERT INTO t VALUES (1)');
  good.committed();
  good.stop();
  assert.equal(auto(), 0);

  // a thread that cannot open the database ends at once: the writer keeps (or takes back) SQLite's own
  writer.pragma('wal_autocheckpoint = 0');
  const bad = new CheckpointThread(writer, path.join(dir, 'missing', 'q.db'), { intervalMs: 5, restartFrames: 1000 });
  writer.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  bad.committed();
  await sleep(500);
  assert.equal(bad.active, false);
  assert.equal(auto(), AUTO_CHECKPOINT_PAGES);
  bad.stop(); // returns at once: the thread has ended
});

// Runs in a child: puts in a loop, printing each acknowledged id; the parent kills it with SIGKILL.
const CHILD = (clientUrl: string, breakersUrl: string, effectsUrl: string) => `
const { WorkerClient } = await import(${JSON.stringify(clientUrl)});
const { DEFAULT_BREAKER_POLICY } = await import(${JSON.stringify(breakersUrl)});
const { DEFAULT_SOFT_BOUNCE_POLICY } = await import(${JSON.stringify(effectsUrl)});
const [dataDir] = process.argv.slice(2);
const { client } = await WorkerClient.start({ dbPath: dataDir + '/queue.db', spoolDir: dataDir + '/spool', sweepOrphans: false, orphanAgeMs: 60000,
  softBounces: DEFAULT_SOFT_BOUNCE_POLICY, breakers: DEFAULT_BREAKER_POLICY, checkpoints: { intervalMs: 5, restartFrames: 128 } }, () => process.exit(3));
let n = 0;
for (;;) {
  const ids = Array.from({ length: 20 }, () => 'ck' + String(n++).padStart(8, '0'));
  await Promise.all(ids.map((id, i) => client.call('put', [{ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: 4096, receivedAt: 1,
    origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' }, i, new Uint8Array(Buffer.alloc(4096, 'y'))])
    .then(() => process.stdout.write(id + '\\n'))));
}
`;

test('sqlite worker: SIGKILL while puts and checkpoints run loses no acknowledged put', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir();
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'child.mjs');
  await fs.writeFile(file, CHILD(new URL('./worker-client.js', import.meta.url).href, new URL('../breaker-rules.js', import.meta.url).href,
    new URL('../event-effects.js', import.meta.url).href));
  for (let round = 0; round < 3; round++) {
    const dataDir = path.join(dir, `data${round}`);
    await fs.mkdir(path.join(dataDir, 'spool'), { recursive: true });
    const child = spawn(process.execPath, [file, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    // until the WAL has been started again at least once (many checkpoints), then a moment more
    while (out.split('\n').length < 3000 && child.exitCode === null) await sleep(20);
    await sleep(37 * (round + 1));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const acked = out.split('\n').filter(Boolean);
    assert.equal(child.signalCode, 'SIGKILL', 'the child was still putting when killed');
    const db = new Database(path.join(dataDir, 'queue.db')); // read-write, as a restart opens it: recovery replays the WAL
    const stored = new Set(db.prepare('SELECT id FROM queued_message').pluck().all() as string[]);
    db.close();
    const lost = acked.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `round ${round}: ${acked.length} acknowledged, all stored`);
  }
});
