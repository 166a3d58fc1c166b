// Benchmark: main-thread cost of the SQLite store's round trips, two builds side by side in one
// process (issue 14, "Main-thread CPU per message", fifth session). 20 writers each write a 4 KB
// body and put() it, as SMTP sessions do; per run: the main thread's busy time per message
// (performance.eventLoopUtilization: it excludes the worker thread and the fsync) and messages/s.
// Builds alternate A B B A A B … on fresh data directories.
//   npx tsc -p bench/tsconfig.json && nice -n 5 node dist/bench/store-roundtrip.js BASE_ROOT BRANCH_ROOT [RUNS=8] [MESSAGES=2000]
// (a ROOT is a checkout with a built dist/, e.g. bench/build-ref.sh's copy of main in /tmp)
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const [baseRoot, branchRoot] = [process.argv[2], process.argv[3]];
if (!baseRoot || !branchRoot) throw new Error('usage: store-roundtrip.js BASE_ROOT BRANCH_ROOT [RUNS] [MESSAGES]');
const RUNS = Number(process.argv[4] ?? 8);
const MESSAGES = Number(process.argv[5] ?? 2000);
const WRITERS = 20;
const BODY = Buffer.alloc(4096, 'x');

interface Store {
  open(): Promise<void>; close(): Promise<void>;
  createBody(id: string): { write(b: Buffer): Promise<void>; finish(): Promise<void>; bytesWritten: number };
  put(m: unknown): Promise<void>;
}
interface Build { name: string; Store: new (o: unknown) => Store; newQueueId: () => string; createLogger: (l: string) => unknown }

async function load(name: string, root: string): Promise<Build> {
  const dist = path.resolve(root, 'dist/src');
  const { SqliteQueueStore } = await import(path.join(dist, 'store/sqlite/sqlite-store.js'));
  const { newQueueId } = await import(path.join(dist, 'message/ids.js'));
  const { createLogger } = await import(path.join(dist, 'events/log.js'));
  return { name, Store: SqliteQueueStore, newQueueId, createLogger };
}

async function run(b: Build): Promise<{ busyMsPerMsg: number; perSecond: number }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-rt-'));
  const store = new b.Store({ dataDir, logger: b.createLogger('silent') });
  await store.open();
  let left = MESSAGES;
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (left-- > 0) {
      const id = b.newQueueId();
      const w = store.createBody(id);
      await w.write(BODY);
      await w.finish();
      await store.put({ id, mailFrom: 'a@example.org', recipients: ['b@example.com'], size: w.bytesWritten, receivedAt: Date.now(),
        origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    }
  }));
  const elu = performance.eventLoopUtilization(elu0);
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  return { busyMsPerMsg: elu.active / MESSAGES, perSecond: MESSAGES / seconds };
}

const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
const builds = [await load('base', baseRoot), await load('branch', branchRoot)];
const results = new Map<string, { busyMsPerMsg: number; perSecond: number }[]>(builds.map((b) => [b.name, []]));
await run(builds[0]!); await run(builds[1]!); // warm-up
for (let i = 0; i < RUNS; i++) {
  const order = i % 2 === 0 ? builds : [...builds].reverse();
  for (const b of order) {
    const r = await run(b);
    results.get(b.name)!.push(r);
    console.log(JSON.stringify({ run: i, build: b.name, busyMsPerMsg: +r.busyMsPerMsg.toFixed(4), perSecond: Math.round(r.perSecond) }));
  }
}
const summary = Object.fromEntries([...results].map(([name, rs]) => [name, {
  busyMsPerMsg: +median(rs.map((r) => r.busyMsPerMsg)).toFixed(4), perSecond: Math.round(median(rs.map((r) => r.perSecond))),
}]));
const base = results.get('base')!, branch = results.get('branch')!;
const ratios = base.map((r, i) => r.busyMsPerMsg / branch[i]!.busyMsPerMsg);
console.log(JSON.stringify({ summary, busyRatioBaseOverBranch: { median: +median(ratios).toFixed(3), runs: ratios.map((x) => +x.toFixed(2)) }, messages: MESSAGES, writers: WRITERS, bodyBytes: BODY.length }));
