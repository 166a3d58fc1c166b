// Runs the QueueStore contract against SqliteQueueStore in a temp directory, plus what only the
// embedded store has: reopening the same dataDir after an unclean stop, and the orphan sweep.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { platformStoreContract } from '../../../test/contract/platform-store.contract.js';
import { queueStoreContract } from '../../../test/contract/queue-store.contract.js';
import { breakerContract } from '../../../test/contract/breaker.contract.js';
import { sourceStoreContract } from '../../../test/contract/source-store.contract.js';
import { timelineContract } from '../../../test/contract/timeline.contract.js';
import { queueCountContract, WAITING_TRUTH, type CountGroup } from '../../../test/contract/queue-count.contract.js';
import Database from 'better-sqlite3';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import { INLINE_MAX_BYTES } from './inline-body.js';
import { SqliteQueueStore } from './sqlite-store.js';

const logger = createLogger('silent');
const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'postlane-queue-'));

// The database thread (the relay's) and in-process (the CLI's, sqlite-store.ts `inProcess`): the
// same executor; the queue and platform contracts run on both (the platform's "two nodes" make
// two stores of one process contend for the write lock).
for (const inProcess of [false, true]) {
  const name = inProcess ? 'sqlite in-process' : 'sqlite';
  queueStoreContract(name, async () => {
    const dataDir = await tempDir();
    const store = new SqliteQueueStore({ dataDir, logger, inProcess });
    await store.open();
    return { store, cleanup: async () => { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); } };
  });

  platformStoreContract(name, async () => {
    const dataDir = await tempDir();
    const store = new SqliteQueueStore({ dataDir, logger, inProcess });
    await store.open();
    const peers: SqliteQueueStore[] = [];
    return {
      store,
      // a second store on the same files: its own executor and connections, like a second process (its
      // writes wait for the other's write lock from timers: executor.ts, BUSY_WAIT_MS)
      openPeer: async () => { const p = new SqliteQueueStore({ dataDir, logger, inProcess }); await p.open(); peers.push(p); return p; },
      cleanup: async () => {
        for (const p of peers) await p.close();
        await store.close();
        await fs.rm(dataDir, { recursive: true, force: true });
      },
    };
  });
}

queueCountContract('sqlite', async () => {
  const dataDir = await tempDir();
  const store = new SqliteQueueStore({ dataDir, logger });
  await store.open();
  const read = (text: string) => {
    const db = new Database(path.join(dataDir, 'queue.db'), { readonly: true });
    try { return db.prepare(text).all() as CountGroup[]; } finally { db.close(); }
  };
  return {
    store,
    truth: async () => read(WAITING_TRUTH),
    counted: async () => read('SELECT account, domain, state, n FROM queue_count WHERE n <> 0'),
    cleanup: async () => { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); },
  };
});

breakerContract('sqlite', async (breakers) => {
  const dataDir = await tempDir();
  const store = new SqliteQueueStore({ dataDir, logger, breakers });
  await store.open();
  return { store, cleanup: async () => { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); } };
});

timelineContract('sqlite', async () => {
  const dataDir = await tempDir();
  const store = new SqliteQueueStore({ dataDir, logger });
  await store.open();
  return { store, cleanup: async () => { await store.close(); await fs.rm(dataDir, { recursive: true, force: true }); } };
});

sourceStoreContract('sqlite', async () => {
  const dataDir = await tempDir();
  const store = new SqliteQueueStore({ dataDir, logger });
  await store.open();
  const peers: SqliteQueueStore[] = [];
  return {
    store,
    openPeer: async () => { const p = new SqliteQueueStore({ dataDir, logger }); await p.open(); peers.push(p); return p; },
    cleanup: async () => {
      for (const p of peers) await p.close();
      await store.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
});


const origin = { listener: 'mx', clientIp: '127.0.0.1', user: null };
const readAll = async (s: AsyncIterable<unknown>) => { const c: Buffer[] = []; for await (const x of s) c.push(x as Buffer); return Buffer.concat(c); };
const bodyOf = (id: string, size: number) => Buffer.concat([Buffer.from(`body of ${id}\r\n`), Buffer.alloc(size, 'x')]);

test('sqlite: everything put survives a reopen; sweepOrphans removes only old unreferenced body files', async () => {
  const dataDir = await tempDir();
  try {
    const first = new SqliteQueueStore({ dataDir, logger });
    await first.open();
    const small = Array.from({ length: 10 }, () => newQueueId());
    const large = Array.from({ length: 3 }, () => newQueueId());
    const size = (id: string) => (large.includes(id) ? INLINE_MAX_BYTES : 0);
    await Promise.all([...small, ...large].map(async (id) => {
      const w = first.createBody(id);
      await w.write(bodyOf(id, size(id)));
      await w.finish();
      const receivedAt = id === large[2] ? 0 : 1; // large[2] is due first
      await first.put({ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: w.bytesWritten, receivedAt, origin, isBounce: false, route: 'relay' });
    }));
    const spool = path.join(dataDir, 'spool');
    assert.deepEqual((await fs.readdir(spool)).sort(), [...large].sort(), 'only bodies above INLINE_MAX_BYTES have a file');
    // large[2] completes; a crash before its file was unlinked is simulated by writing it back
    const [done] = await first.claimDue({ now: 0, limit: 1, leaseMs: 1000, owner: 'x' });
    assert.equal(done?.messageId, large[2]);
    await first.recordResults(large[2]!, [{ rcptId: done.recipients[0]!.id, status: 'delivered', response: '250 ok' }]);
    await first.claimDue({ now: 2, limit: 3, leaseMs: 1000, owner: 'crashed' });
    // the finished body's file is unlinked asynchronously after the commit: wait for that first
    for (let i = 0; i < 200 && (await fs.stat(path.join(spool, large[2]!)).then(() => true, () => false)); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const old = new Date(Date.now() - 11 * 60_000);
    const orphan = newQueueId();
    const young = newQueueId();
    for (const f of [orphan, large[2]!]) {
      await fs.writeFile(path.join(spool, f), 'left behind by a crash');
      await fs.utimes(path.join(spool, f), old, old);
    }
    await fs.writeFile(path.join(spool, young), 'a body still being received');
    for (const id of large.slice(0, 2)) await fs.utimes(path.join(spool, id), old, old); // old but referenced
    // no close(): the process "dies"; a second store opens the same files meanwhile
    const second = new SqliteQueueStore({ dataDir, logger, sweepOrphans: true });
    await second.open();
    try {
      assert.deepEqual(await second.counts(), { queued: 9, deferred: 0, delivering: 3, held: 0, delivered: 1, bounced: 0, expired: 0, suppressed: 0 });
      assert.equal(await second.releaseLeases(null), 3);
      for (const id of [...small, ...large.slice(0, 2)]) {
        assert.equal((await second.getMessage(id))?.recipients[0]?.address, 'b@example.com');
        assert.deepEqual(await readAll(second.readBody(id)), bodyOf(id, size(id)));
      }
      assert.deepEqual((await fs.readdir(spool)).sort(), [...large.slice(0, 2), young].sort(),
        'old orphans removed (unknown, or of a finished message); referenced and recent files kept');
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
  const pad = Number(process.argv[5]);
  const store = new SqliteQueueStore({ dataDir: process.argv[4], logger: createLogger('silent') });
  await store.open();
  for (let i = 0; ; i++) {
    await Promise.all(Array.from({ length: 5 }, async (_, j) => {
      const id = 'M' + String(i * 5 + j).padStart(19, '0');
      const w = store.createBody(id);
      await w.write(Buffer.concat([Buffer.from('body of ' + id + '\\r\\n'), Buffer.alloc(pad, 'x')]));
      await w.finish();
      await store.put({ id, mailFrom: '', recipients: ['r@example.com'], size: w.bytesWritten, receivedAt: 1,
        origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
      process.stdout.write(id + '\\n');
    }));
  }`;

/** Runs CHILD in dataDir/q with bodies of `pad` extra bytes, SIGKILLs it after `killAfter` acks; returns the acked ids. */
async function killWhilePutting(dataDir: string, pad: number, killAfter: number): Promise<string[]> {
  const storeUrl = new URL('./sqlite-store.js', import.meta.url).href;
  const logUrl = new URL('../../events/log.js', import.meta.url).href;
  const script = path.join(dataDir, 'child.mjs');
  await fs.writeFile(script, CHILD);
  const child = spawn(process.execPath, [script, storeUrl, logUrl, path.join(dataDir, 'q'), String(pad)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: string[] = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    acked.push(...lines);
    if (acked.length >= killAfter) child.kill('SIGKILL');
  });
  await once(child, 'exit');
  assert.ok(acked.length >= killAfter);
  return acked;
}

test('sqlite: acknowledged inline puts survive SIGKILL before delivery, and are then delivered from the database', async () => {
  const dataDir = await tempDir();
  try {
    const acked = await killWhilePutting(dataDir, 100, 200);
    assert.deepEqual(await fs.readdir(path.join(dataDir, 'q', 'spool')), [], 'inline bodies use no spool file');
    const store = new SqliteQueueStore({ dataDir: path.join(dataDir, 'q'), logger, sweepOrphans: true });
    await store.open();
    try {
      const jobs = await store.claimDue({ now: 2, limit: 100_000, leaseMs: 60_000, owner: 'after-crash' });
      const byId = new Map(jobs.map((j) => [j.messageId, j]));
      for (const id of acked) {
        const job = byId.get(id);
        assert.ok(job, `acknowledged ${id} is stored and due`);
        assert.deepEqual(await readAll(store.readBody(id)), bodyOf(id, 100));
        await store.recordResults(id, [{ rcptId: job.recipients[0]!.id, status: 'delivered', response: '250 ok' }]);
        await assert.rejects(readAll(store.readBody(id)), { code: 'ERR_NOT_FOUND' });
      }
    } finally {
      await store.close();
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

test('sqlite: acknowledged puts of bodies above INLINE_MAX_BYTES (spool files) survive SIGKILL', async () => {
  const dataDir = await tempDir();
  try {
    const acked = await killWhilePutting(dataDir, INLINE_MAX_BYTES, 40);
    const store = new SqliteQueueStore({ dataDir: path.join(dataDir, 'q'), logger });
    await store.open();
    try {
      for (const id of acked) {
        assert.ok(await store.getMessage(id), `acknowledged ${id} is stored`);
        const expected = bodyOf(id, INLINE_MAX_BYTES);
        assert.deepEqual(await fs.readFile(path.join(dataDir, 'q', 'spool', id)), expected);
        assert.deepEqual(await readAll(store.readBody(id)), expected);
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

test('sqlite: requests made in one turn (one group commit) each get their own answer, in order', async () => {
  const dataDir = await tempDir();
  try {
    const store = new SqliteQueueStore({ dataDir, logger });
    await store.open();
    try {
      const ids = Array.from({ length: 40 }, () => newQueueId());
      for (const id of ids) { // inline bodies, finished before any put
        const w = store.createBody(id);
        await w.write(bodyOf(id, 100 + ids.indexOf(id)));
        await w.finish();
      }
      // all in one synchronous stretch: puts (each transferring its body), reads and a missing message
      const puts = ids.map((id) => store.put({ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: 200, receivedAt: 1, origin, isBounce: false, route: 'relay' }));
      const missing = store.getMessage('no-such-id');
      const suppressed = ids.map(() => store.findSuppressions('default', 'transactional', ['b@example.com']));
      await Promise.all(puts);
      assert.equal(await missing, null);
      for (const s of await Promise.all(suppressed)) assert.equal(s.size, 0);
      // once the puts resolved, reads see every message committed
      const [counts] = await Promise.all([store.counts(), ...ids.map((id) => store.getMessage(id))]);
      assert.equal(counts.queued, 40);
      for (const id of ids) assert.deepEqual(await readAll(store.readBody(id)), bodyOf(id, 100 + ids.indexOf(id)));
    } finally {
      await store.close();
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});

test('sqlite: claims and puts made in one turn: each answered in order, a claim sees the puts before it, all kept after a reopen', async () => {
  const dataDir = await tempDir();
  try {
    const msg = (id: string) => ({ id, mailFrom: 'a@example.org', recipients: [`${id}@example.com`], size: 10, receivedAt: 1, origin, isBounce: false, route: 'relay' as const });
    const claim = (store: SqliteQueueStore) => store.claimDue({ now: 1_000, limit: 10, leaseMs: 60_000, owner: 'n1' });
    const [a, b, c] = [newQueueId(), newQueueId(), newQueueId()];
    let store = new SqliteQueueStore({ dataDir, logger });
    await store.open();
    try {
      await store.put(msg(a));
      // one turn: claim, put, claim (sees the put), put
      const first = claim(store);
      const putB = store.put(msg(b));
      const second = claim(store);
      const putC = store.put(msg(c));
      assert.deepEqual((await first).map((j) => j.messageId), [a]);
      await putB;
      assert.deepEqual((await second).map((j) => j.messageId), [b], 'a claim after a put in the same batch sees it');
      await putC;
      assert.deepEqual((await claim(store)).map((j) => j.messageId), [c], 'a claim on its own after them');
      // and an empty one
      assert.deepEqual(await claim(store), []);
    } finally {
      await store.close();
    }
    store = new SqliteQueueStore({ dataDir, logger });
    await store.open();
    try {
      const counts = await store.counts();
      assert.equal(counts.delivering, 3, 'every claim was committed');
      assert.equal(await store.releaseLeases(null), 3);
      const again = await store.claimDue({ now: Date.now() + 1, limit: 10, leaseMs: 60_000, owner: 'n2' }); // released: due now
      assert.deepEqual(again.map((j) => j.messageId).sort(), [a, b, c].sort());
    } finally {
      await store.close();
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});
