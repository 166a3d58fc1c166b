// Benchmark: the SQLite store's side of workload (ii) without SMTP — intake (body written in 64 KiB
// chunks, finish, put) and delivery (claimDue, the whole body read back, recordResults delivered)
// running at once, for 100 KB bodies, in two or more builds interleaved in one process (A B / B A
// ...). Each build's store is imported from its own dist/, so the builds may differ in constants
// such as INLINE_MAX_BYTES. Prints one JSON line per run and a summary: messages/s (wall) and the
// process's CPU per message (all threads: main, the database worker, libuv's pool).
//   npx tsc -p bench/tsconfig.json
//   node dist/bench/large-store.js ROOT_A ROOT_B [ROUNDS=5] [MESSAGES=600] [BYTES=102400]
// ROOT: a checkout (or build_ref copy) with a built dist/.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import type { QueueStore } from '../src/store/store.js';

const [rootA, rootB, roundsArg, messagesArg, bytesArg] = process.argv.slice(2);
if (!rootA || !rootB) throw new Error('usage: large-store.js ROOT_A ROOT_B [ROUNDS] [MESSAGES] [BYTES]');
const ROUNDS = Number(roundsArg ?? 5);
const MESSAGES = Number(messagesArg ?? 600);
const BYTES = Number(bytesArg ?? 102_400);
const WRITERS = 20;
const DELIVERERS = 20;
const CHUNK = 64 * 1024;
const SOURCE = Buffer.alloc(BYTES, 'x');

interface Build { root: string; open: (dataDir: string) => Promise<QueueStore>; newId: () => string }

async function load(root: string): Promise<Build> {
  const mod = (f: string) => import(pathToFileURL(path.join(path.resolve(root), 'dist/src', f)).href);
  const { SqliteQueueStore } = await mod('store/sqlite/sqlite-store.js');
  const { createLogger } = await mod('events/log.js');
  const { newQueueId } = await mod('message/ids.js');
  return {
    root,
    newId: newQueueId,
    open: async (dataDir) => {
      const store = new SqliteQueueStore({ dataDir, logger: createLogger('silent') }) as QueueStore;
      await store.open();
      return store;
    },
  };
}

async function drain(r: Readable): Promise<number> {
  let n = 0;
  for await (const c of r) n += (c as Buffer).length;
  return n;
}

async function run(build: Build): Promise<{ perSecond: number; cpuMsPerMsg: number }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-large-store-'));
  const store = await build.open(dataDir);
  let toAccept = MESSAGES;
  let delivered = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const intake = async () => {
    while (toAccept > 0) {
      toAccept--;
      const id = build.newId();
      const w = store.createBody(id);
      for (let off = 0; off < BYTES; off += CHUNK) await w.write(SOURCE.subarray(off, Math.min(BYTES, off + CHUNK)));
      await w.finish();
      await store.put({ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: w.bytesWritten, receivedAt: Date.now(),
        origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    }
  };
  const deliver = async (n: number) => {
    while (delivered < MESSAGES) {
      const jobs = await store.claimDue({ now: Date.now() + 1000, limit: 2, leaseMs: 60_000, owner: `bench-${n}` });
      if (jobs.length === 0) { await new Promise((r) => setTimeout(r, 2)); continue; }
      for (const job of jobs) {
        const got = await drain(store.readBody(job.messageId));
        if (got !== BYTES) throw new Error(`read ${got} bytes of ${BYTES}`);
        await store.recordResults(job.messageId, job.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })));
        delivered++;
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: WRITERS }, intake),
    ...Array.from({ length: DELIVERERS }, (_, i) => deliver(i)),
  ]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  return { perSecond: MESSAGES / seconds, cpuMsPerMsg: (cpu.user + cpu.system) / 1000 / MESSAGES };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const builds = [await load(rootA), await load(rootB)];
const results = builds.map(() => ({ rate: [] as number[], cpu: [] as number[] }));
const ratios: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  const rates: number[] = [];
  for (const i of order) {
    const r = await run(builds[i]!);
    results[i]!.rate.push(r.perSecond);
    results[i]!.cpu.push(r.cpuMsPerMsg);
    rates[i] = r.perSecond;
    console.log(JSON.stringify({ round, build: builds[i]!.root, bytes: BYTES, messages: MESSAGES, perSecond: Math.round(r.perSecond), cpuMsPerMsg: +r.cpuMsPerMsg.toFixed(3) }));
  }
  ratios.push(rates[1]! / rates[0]!);
}
console.log(JSON.stringify({
  summary: true, bytes: BYTES, messages: MESSAGES, rounds: ROUNDS, loadavg: os.loadavg().map((l) => +l.toFixed(1)),
  builds: builds.map((b, i) => ({ root: b.root, medianPerSecond: Math.round(median(results[i]!.rate)), medianCpuMsPerMsg: +median(results[i]!.cpu).toFixed(3) })),
  medianRatioBoverA: +median(ratios).toFixed(2), ratios: ratios.map((r) => +r.toFixed(2)),
}));
