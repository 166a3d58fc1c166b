// Benchmark: put() throughput of SqliteQueueStore for 4 KB bodies with 1 vs 20 concurrent writers
// (median of 5 runs, each on a fresh data directory). With group commit, 20 writers share commits,
// so messages/s should rise well above the single writer's fsync-bound rate.
// bench/ is outside tsconfig's include; build and run with:
//   npx tsc -p bench/tsconfig.json && node dist/bench/queue-put.js
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/events/log.js';
import { newQueueId } from '../src/message/ids.js';
import { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';

const BODY = Buffer.alloc(4096, 'x');
const MESSAGES = 400;
const RUNS = 5;

type Mode = 'body+put' | 'put';

async function writeBody(store: SqliteQueueStore, id: string): Promise<number> {
  const w = store.createBody(id);
  await w.write(BODY);
  await w.finish();
  return w.bytesWritten;
}

const put = (store: SqliteQueueStore, id: string, size: number) =>
  store.put({ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size, receivedAt: Date.now(),
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });

/**
 * One run: `writers` loops share MESSAGES messages; returns messages per second. Mode 'body+put'
 * times what an SMTP session waits for (body write + fsync, then put); 'put' times put() alone,
 * bodies written beforehand, which isolates the database commit that group commit shares.
 */
async function run(writers: number, mode: Mode): Promise<number> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-'));
  const store = new SqliteQueueStore({ dataDir, logger: createLogger('silent') });
  await store.open();
  const ids = Array.from({ length: MESSAGES }, () => newQueueId());
  if (mode === 'put') for (const id of ids) await writeBody(store, id);
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: writers }, async () => {
    for (let id = ids.pop(); id; id = ids.pop()) await put(store, id, mode === 'put' ? BODY.length : await writeBody(store, id));
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await store.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  return MESSAGES / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const mode of ['body+put', 'put'] as const) {
  for (const writers of [1, 20]) {
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) rates.push(await run(writers, mode));
    console.log(JSON.stringify({ mode, writers, messages: MESSAGES, bodyBytes: BODY.length, runs: rates.map(Math.round), medianPerSecond: Math.round(median(rates)) }));
  }
}
