// Runs the QueueStore contract against SqliteQueueStore in a temp directory, plus what only the
// embedded store has: reopening the same dataDir after an unclean stop, and the orphan sweep.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { queueStoreContract } from '../../../test/contract/queue-store.contract.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import { SqliteQueueStore } from './sqlite-store.js';

const logger = createLogger('silent');
const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'postlane-queue-'));

queueStoreContract('sqlite', async () => {
  const dataDir = await tempDir();
  const store = new SqliteQueueStore({ dataDir, logger });
  await store.open();
  return { store, cleanup: async () => { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); } };
});

test('sqlite: everything put survives a reopen; sweepOrphans removes only old unreferenced bodies', async () => {
  const dataDir = await tempDir();
  try {
    const first = new SqliteQueueStore({ dataDir, logger });
    await first.open();
    const ids = Array.from({ length: 10 }, () => newQueueId());
    await Promise.all(ids.map(async (id) => {
      const w = first.createBody(id);
      await w.write(Buffer.from(`body of ${id}\r\n`));
      await w.finish();
      await first.put({ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: w.bytesWritten, receivedAt: 1,
        origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    }));
    await first.claimDue({ now: 2, limit: 3, leaseMs: 1000, owner: 'crashed' });
    const spool = path.join(dataDir, 'spool');
    const old = new Date(Date.now() - 11 * 60_000);
    const orphan = newQueueId();
    const young = newQueueId();
    await fs.writeFile(path.join(spool, orphan), 'left behind by a crash');
    await fs.utimes(path.join(spool, orphan), old, old);
    await fs.writeFile(path.join(spool, young), 'a body still being received');
    for (const id of ids.slice(0, 2)) await fs.utimes(path.join(spool, id), old, old); // old but referenced
    // no close(): the process "dies"; a second store opens the same files meanwhile
    const second = new SqliteQueueStore({ dataDir, logger, sweepOrphans: true });
    await second.open();
    try {
      assert.deepEqual(await second.counts(), { queued: 7, deferred: 0, delivering: 3, held: 0, delivered: 0, bounced: 0, expired: 0 });
      assert.equal(await second.releaseLeases(null), 3);
      for (const id of ids) {
        const m = await second.getMessage(id);
        assert.equal(m?.recipients[0]?.address, 'b@example.com');
        const body = await fs.readFile(path.join(spool, id), 'utf8');
        assert.equal(body, `body of ${id}\r\n`);
      }
      const left = await fs.readdir(spool);
      assert.ok(!left.includes(orphan), 'old orphan removed');
      assert.ok(left.includes(young), 'recent unreferenced body kept (may be in flight)');
    } finally {
      await second.close();
      await first.close();
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

// The child acknowledges each put() only after it resolved (as SMTP would answer 250), then is
// SIGKILLed mid-stream: every acknowledged message must be there after a reopen.
const CHILD = `
  const { SqliteQueueStore } = await import(process.argv[2]);
  const { createLogger } = await import(process.argv[3]);
  const store = new SqliteQueueStore({ dataDir: process.argv[4], logger: createLogger('silent') });
  await store.open();
  for (let i = 0; ; i++) {
    await Promise.all(Array.from({ length: 5 }, async (_, j) => {
      const id = 'M' + String(i * 5 + j).padStart(19, '0');
      const w = store.createBody(id);
      await w.write(Buffer.from('body ' + id));
      await w.finish();
      await store.put({ id, mailFrom: '', recipients: ['r@example.com'], size: w.bytesWritten, receivedAt: 1,
        origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
      process.stdout.write(id + '\\n');
    }));
  }`;

test('sqlite: every acknowledged put survives SIGKILL of the writing process', async () => {
  const dataDir = await tempDir();
  try {
    const storeUrl = new URL('./sqlite-store.js', import.meta.url).href;
    const logUrl = new URL('../../events/log.js', import.meta.url).href;
    const script = path.join(dataDir, 'child.mjs');
    await fs.writeFile(script, CHILD);
    const child = spawn(process.execPath, [script, storeUrl, logUrl, path.join(dataDir, 'q')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = [];
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      acked.push(...lines);
      if (acked.length >= 200) child.kill('SIGKILL');
    });
    await once(child, 'exit');
    assert.ok(acked.length >= 200);
    const store = new SqliteQueueStore({ dataDir: path.join(dataDir, 'q'), logger });
    await store.open();
    try {
      for (const id of acked) {
        assert.ok(await store.getMessage(id), `acknowledged ${id} is stored`);
        assert.equal((await fs.readFile(path.join(dataDir, 'q', 'spool', id), 'utf8')), 'body ' + id);
      }
    } finally {
      await store.close();
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

test('sqlite: a store that is not open, or closed, rejects with QueueWriteError', async () => {
  const dataDir = await tempDir();
  try {
    const store = new SqliteQueueStore({ dataDir, logger });
    await assert.rejects(store.counts(), { code: 'ERR_QUEUE_WRITE' });
    await store.open();
    await store.close();
    await assert.rejects(store.nextDueAt(), { code: 'ERR_QUEUE_WRITE' });
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});
