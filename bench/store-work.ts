// The store work that bench/queue-count-cost.ts and bench/sqlite-temp-store.ts time: intake (put of
// one-recipient messages with inline 4 KB bodies, 20 writers at once), then delivery (claimDue of 50
// jobs, recordResults delivered for each, 4 at once). Per phase: wall ms and CPU ms per message of
// this process (every thread, so SQLite's worker too) and of the database server, if any.
import { newQueueId } from '../src/message/ids.js';
import type { NewMessage, QueueStore } from '../src/store/store.js';

const WRITERS = 20;
const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };
const BODY = Buffer.alloc(4096, 'x');
export interface Phase { wallMs: number; cpuMs: number; serverMs: number }
export interface Opened { store: QueueStore; serverCpuMs: () => Promise<number>; close: () => Promise<void> }

async function timed(o: Opened, messages: number, fn: () => Promise<void>): Promise<Phase> {
  const s0 = await o.serverCpuMs();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wallMs: wallMs / messages, cpuMs: (c.user + c.system) / 1000 / messages, serverMs: ((await o.serverCpuMs()) - s0) / messages };
}

export async function storeRound(o: Opened, messages: number): Promise<{ intake: Phase; delivery: Phase }> {
  const { store } = o;
  await store.addAccount({ name: 'acme', createdAt: 1, limits: {} });
  const ids = Array.from({ length: messages }, () => newQueueId());
  const sizes = new Map<string, number>();
  for (const id of ids) {
    const w = store.createBody(id);
    await w.write(BODY);
    await w.finish();
    sizes.set(id, w.bytesWritten);
  }
  const message = (id: string, i: number): NewMessage => ({
    id, mailFrom: 'news@acme.example', recipients: [`r${i}@d${i % 50}.example`], size: sizes.get(id)!, receivedAt: Date.now(), origin,
    isBounce: false, route: 'relay', meta: { account: 'acme', stream: 'broadcast', tags: [], metadata: {} },
  });
  let next = 0;
  const intake = await timed(o, messages, async () => {
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      while (next < ids.length) {
        const i = next++;
        await store.put(message(ids[i]!, i));
      }
    }));
  });
  const delivery = await timed(o, messages, async () => {
    for (;;) {
      const jobs = await store.claimDue({ now: Date.now() + 1000, limit: 50, leaseMs: 60_000, owner: 'bench' });
      if (jobs.length === 0) break;
      for (let i = 0; i < jobs.length; i += 4) { // as many at once as the PostgreSQL pool has connections
        await Promise.all(jobs.slice(i, i + 4).map((j) => store.recordResults(j.messageId,
          j.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })), [], { owner: 'bench' })));
      }
    }
  });
  return { intake, delivery };
}
