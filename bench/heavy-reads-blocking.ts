// Benchmark (reads23, twenty-third session): how long the heavy read ops block the main thread's
// event loop, with the heavy reads on the main thread (store23's executor) or on the heavy-read
// thread (store/sqlite/reader-thread.ts). On a store filled by main-thread-reads.ts (N deferred
// recipients, 10 × N events), each op is run once to warm up, then REPS times with
// perf_hooks.monitorEventLoopDelay (1 ms resolution) enabled only while it runs: its max is the
// longest the loop was held (an SMTP session's command waited that long). Also the first heavy read
// of a cold thread (the thread's start), and the thread count before and after.
// Prints one JSON line: op → { ms, loopMaxMs, gapMaxMs }, each [min, median, max] over REPS.
//   npx tsc -p . && npx tsc -p bench/tsconfig.json
//   REPS=5 node dist/bench/heavy-reads-blocking.js DATA_DIR (filled by main-thread-reads.js; opened read-write)
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openStore } from './queue-fill.js';
import type { SqliteQueueStore } from '../src/store/sqlite/sqlite-store.js';

const REPS = Number(process.env.REPS ?? 5);
const dataDir = process.argv[2]!;
const store = openStore({ kind: 'sqlite', dataDir }) as SqliteQueueStore;
await store.open();
const now = Date.now();
const day = 86_400_000;
const tasks = () => fs.readdirSync('/proc/self/task').length;
const ops: Record<string, () => Promise<unknown>> = {
  events_type_since: () => store.listEvents({ account: 'default', types: ['delivered'], since: now - day, limit: 100 }),
  events_recipient: () => store.listEvents({ account: 'default', recipient: 'r5@d5.deferred.test', limit: 100 }),
  list_all_1000: () => store.listRecipients({ includeFinal: true, limit: 1000 }),
  search_subject: () => store.searchMessages({ account: 'default', subject: 'no such subject', limit: 50 }),
  search_from: () => store.searchMessages({ account: 'default', from: 'nobody@src.test', limit: 50 }),
  queue_overview_20: () => store.queueOverview(null, 20),
  counts: () => store.counts(),
  events_1000: () => store.listEvents({ account: 'default', limit: 1000 }),
};
// point reads that stay on the main thread (read-handlers.ts): their cost should not grow with the queue
let one: { messageId: string; address: string } = { messageId: '', address: '' };
let id = '';
const points: Record<string, () => Promise<unknown>> = {
  p_getMessage: () => store.getMessage(id),
  p_getMessageMeta: () => store.getMessageMeta(id),
  p_nextDueAt: () => store.nextDueAt(),
  p_events_of_message: () => store.listEvents({ account: 'default', messageId: id, limit: 1000 }),
  p_findSuppressions: () => store.findSuppressions('default', 'transactional', [one.address, 'x@example.com']),
  p_suppression_of_address: () => store.listSuppressions({ account: 'default', address: one.address }),
  p_listDomains: () => store.listDomains(),
  p_listUsers: () => store.listUsers(),
  p_listBreakers: () => store.listBreakers({ limit: 1000 }),
  p_listWebhooks: () => store.listWebhooks('default'),
};
const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return [+s[0]!.toFixed(1), +s[s.length >> 1]!.toFixed(1), +s[s.length - 1]!.toFixed(1)]; };
const h = monitorEventLoopDelay({ resolution: 1 });
/**
 * Wall time, the histogram's max, and the longest gap between the ticks of a 1 ms interval timer
 * (the loop held that long, at most 1 ms more). Both watch 20 ms past the answer: a statement on
 * this thread blocks the timer that would record it until it returns, so the late tick comes after.
 */
async function timed(f: () => Promise<unknown>): Promise<[number, number, number]> {
  h.reset();
  h.enable();
  let last = performance.now();
  let gap = 0;
  const tick = setInterval(() => { const t = performance.now(); gap = Math.max(gap, t - last); last = t; }, 1);
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(tick);
  h.disable();
  return [ms, h.max / 1e6, gap];
}
await new Promise((r) => setTimeout(r, 50));
const tasksBefore = tasks();
const [firstMs, firstLoop, firstGap] = await timed(ops.events_1000!); // the first heavy read: a cold thread (if any)
const tasksAfter = tasks();
one = (await store.listRecipients({ limit: 1 }))[0]!;
id = one.messageId;
const out: Record<string, { ms: number[]; loopMaxMs: number[]; gapMaxMs: number[] }> = {};
for (const [name, f] of [...Object.entries(ops), ...Object.entries(points)]) {
  await f();
  const ms: number[] = [];
  const loop: number[] = [];
  const gaps: number[] = [];
  for (let i = 0; i < REPS; i++) { const [a, b, c] = await timed(f); ms.push(a); loop.push(b); gaps.push(c); }
  out[name] = { ms: stats(ms), loopMaxMs: stats(loop), gapMaxMs: stats(gaps) };
}
await store.close();
console.log(JSON.stringify({ reps: REPS, dataDir, load: os.loadavg().map((l) => +l.toFixed(2)), threads: [tasksBefore, tasksAfter], first: { ms: +firstMs.toFixed(1), loopMaxMs: +firstLoop.toFixed(1), gapMaxMs: +firstGap.toFixed(1) }, ops: out }));
