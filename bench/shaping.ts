// Benchmark: the delivery scheduler's own cost per message with 10,000 destination domains, traffic
// shaping on against off, interleaved in one run (off, on, on, off, …) and quoted as a ratio of
// medians. The store is in memory (a Set-based exclusion, as the SQL does with json_each) and the
// runner does nothing, so what is measured is the scheduler: claims, slot books, exclusions and,
// with shaping on, the provider lookup (cached after the first run, as in a long-lived relay), the
// shaper's admission and the per-provider destination keys. Half the domains are Workspace-style
// (MX aspmx.l.google.com → one 'gmail' destination), half have MX hosts of their own. Limits are
// set high so nothing is throttled: the cost of the bookkeeping, not of waiting.
//   npx tsc -p bench/tsconfig.json && node dist/bench/shaping.js
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/events/log.js';
import { InProcessSlots } from '../src/store/in-process-slots.js';
import type { AcquireSlotsOptions, DeliveryJob, DestinationSlot, QueueStore } from '../src/store/store.js';
import { DeliveryScheduler } from '../src/delivery/scheduler.js';
import type { MxResolver } from '../src/delivery/resolver.js';

const DOMAINS = Number(process.env.DOMAINS ?? 10_000);
const MESSAGES = Number(process.env.MESSAGES ?? 20_000);
const REPS = Number(process.env.REPS ?? 4);
const logger = createLogger('silent');

const domainOf = (i: number) => `d${i % DOMAINS}.example`;
const jobs = (): DeliveryJob[] => Array.from({ length: MESSAGES }, (_, n) => ({
  messageId: `M${n}`, domain: domainOf(n), mailFrom: 'a@x.test', returnPath: 'a@x.test', isBounce: false, route: 'relay', size: 1, receivedAt: 0,
  recipients: [{ id: n, address: `r${n}@${domainOf(n)}`, attempts: 0 }], leaseUntil: 0, delayNotified: false, account: n % 3 === 0 ? 'shop' : 'bulk', stream: 'transactional',
}));

function memoryStore(all: DeliveryJob[]): QueueStore {
  let pending = all;
  const slots = new InProcessSlots();
  // The exclusion set is derived once per list handed in (the scheduler hands out the same frozen
  // list while the exclusion recurs), as the real stores keep what they derive from a list.
  const sets = new WeakMap<readonly string[], Set<string>>();
  return {
    async claimDue(o: { limit: number; excludeDomains?: readonly string[] }) {
      const list = o.excludeDomains ?? [];
      let exclude = sets.get(list);
      if (!exclude) sets.set(list, (exclude = new Set(list)));
      const out: DeliveryJob[] = [];
      const keep: DeliveryJob[] = [];
      let i = 0;
      for (; i < pending.length && out.length < o.limit; i++) (exclude.has(pending[i]!.domain) ? keep : out).push(pending[i]!);
      pending = keep.length ? [...keep, ...pending.slice(i)] : pending.slice(i);
      return out;
    },
    async nextDueAt() { return pending.length ? 0 : null; },
    async releaseLeases() { return 0; },
    acquireDestinationSlots: async (o: AcquireSlotsOptions) => slots.acquire(o),
    renewDestinationSlots: async (o: { owner: string; now: number; leaseMs: number }) => slots.renew(o),
    releaseDestinationSlots: async (owner: string, which?: DestinationSlot[]) => slots.release(owner, which),
    async unclaimJobs(_owner: string, given: { messageId: string; domain: string }[]) {
      const ids = new Set(given.map((g) => g.messageId));
      pending = [...all.filter((j) => ids.has(j.messageId)), ...pending];
      return given.length;
    },
  } as unknown as QueueStore;
}

/** Workspace-style domains (even) → Google's MX; the others → a host of their own. */
const resolver = {
  async resolveMx(domain: string) {
    const n = Number(/^d(\d+)\./.exec(domain)?.[1] ?? 0);
    return [{ exchange: n % 2 === 0 ? 'aspmx.l.google.com' : `mx.${domain}`, priority: 10 }];
  },
  async resolve4() { return ['127.0.0.1']; },
  async resolve6() { return []; },
} as unknown as MxResolver;

async function runOnce(shaping: boolean): Promise<number> {
  const config = loadConfig({ env: {}, overrides: {
    'delivery.concurrency': 100, 'delivery.maxConnectionsPerDestination': 10, 'delivery.pollInterval': '50ms',
    shaping: { enabled: shaping, providers: { gmail: { maxConnections: 50, perMinute: 1e9, perHour: null } } },
  } });
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((r) => { finished = r; });
  const runner = { async run() { await new Promise((r) => setImmediate(r)); if (++done === MESSAGES) finished(); }, async recordCrash() {} };
  const s = new DeliveryScheduler({ config, store: memoryStore(jobs()), logger, nodeId: 'bench', runner, resolver });
  const cpu0 = process.cpuUsage();
  s.start();
  await all;
  const cpu = process.cpuUsage(cpu0);
  await s.stop(100);
  return (cpu.user + cpu.system) / MESSAGES; // µs of CPU per message
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

await runOnce(true); // warm-up (JIT)
const off: number[] = [];
const on: number[] = [];
for (let r = 0; r < REPS; r++) {
  const order = r % 2 === 0 ? [false, true] : [true, false];
  for (const shaping of order) (shaping ? on : off).push(await runOnce(shaping));
}
console.log(JSON.stringify({
  bench: 'shaping', domains: DOMAINS, messages: MESSAGES, reps: REPS,
  offUsPerMsg: Number(median(off).toFixed(1)), onUsPerMsg: Number(median(on).toFixed(1)), ratio: Number((median(on) / median(off)).toFixed(2)),
  off: off.map((x) => Number(x.toFixed(1))), on: on.map((x) => Number(x.toFixed(1))),
}));
