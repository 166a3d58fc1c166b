// The choice of egress source without sockets: routes as a table, the merge of config sources
// with their stored state and run-time additions, turns within a pool, warmup caps (an in-memory
// counter with the store's semantics), overflow, waiting, and the implicit source.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import type { SourceStore, StoredSource } from '../store/source-store.js';
import type { DeliveryJob } from '../store/store.js';
import { canReach, Egress, mergeSources, poolOf } from './egress.js';

const src = (name: string, address: string, pool: string, warmup: { schedule: string; start: string } | null = null) => ({ name, address, ehlo: `${name}.relay.test`, pool, warmup });
const cfg = (egress: Record<string, unknown>) => loadConfig({ env: {}, overrides: { hostname: 'relay.test', egress, 'delivery.retrySchedule.initial': '1m' } });
const job = (domain: string, over: Partial<DeliveryJob> = {}) => ({ messageId: 'm', domain, mailFrom: 'a@news.example', account: 'default', stream: 'transactional', ...over }) as DeliveryJob;

function memoryStore(stored: StoredSource[] = []): SourceStore & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    listSources: async () => stored,
    addSource: async () => true, setSourceState: async () => undefined, readWarmup: async () => [], purgeWarmup: async () => 0, postponeJobs: async () => 0,
    async takeWarmup(source, provider, day, cap) {
      const k = `${source}|${provider}|${day}`;
      const n = counts.get(k) ?? 0;
      if (cap < 1 || n >= cap) return false;
      counts.set(k, n + 1);
      return true;
    },
  };
}

it('poolOf: the first route whose every given field matches; else defaultPool', () => {
  const c = cfg({
    sources: [src('a', '127.0.0.2', 'main'), src('b', '127.0.0.3', 'bulk'), src('c', '127.0.0.4', 'vip')], defaultPool: 'main',
    routes: [{ account: 'acme', stream: 'broadcast', pool: 'bulk' }, { sendingDomain: 'NEWS.example', pool: 'vip' }, { account: 'acme', pool: 'vip' }],
  });
  const table: [Partial<DeliveryJob>, string][] = [
    [{ account: 'acme', stream: 'broadcast' }, 'bulk'],
    [{ account: 'acme', stream: 'transactional', mailFrom: 'x@other.example' }, 'vip'],
    [{ account: 'shop', mailFrom: 'x@news.example' }, 'vip'],
    [{ account: 'shop', mailFrom: 'x@other.example' }, 'main'],
    [{ account: 'shop', mailFrom: '' }, 'main'],
  ];
  for (const [over, pool] of table) assert.equal(poolOf(c.egress, job('d.test', over)), pool, JSON.stringify(over));
});

it('mergeSources: config sources with their stored state, run-time additions, the implicit source only when there is none', () => {
  const c = cfg({ sources: [src('a', '127.0.0.2', 'main')], defaultPool: 'main' });
  const stored: StoredSource[] = [
    { name: 'a', state: 'paused', address: null, ehlo: null, pool: null, warmupSchedule: null, warmupStart: null, updatedAt: 1 },
    { name: 'n', state: 'active', address: '127.0.0.9', ehlo: 'n.relay.test', pool: null, warmupSchedule: 'stock', warmupStart: '2026-12-01', updatedAt: 2 },
  ];
  assert.deepEqual(mergeSources(c, stored).map((s) => [s.name, s.state, s.pool, s.origin, s.warmup?.start ?? null]),
    [['a', 'paused', 'main', 'config', null], ['n', 'active', 'main', 'added', '2026-12-01']]);
  assert.deepEqual(mergeSources(cfg({}), []).map((s) => [s.name, s.address, s.ehlo, s.origin]), [['default', null, 'relay.test', 'implicit']]);
  assert.equal(canReach(mergeSources(c, [])[0]!, '::1'), false);
  assert.equal(canReach(mergeSources(c, [])[0]!, '127.0.0.5'), true);
});

it('pick: turns within the pool; a warming source up to its cap per provider, then overflow; without overflow or before the start, wait', async () => {
  const now = Date.parse('2026-12-04T10:00:00Z');
  const clock = { now: () => now };
  const logger = createLogger('silent');
  const schedules = { tiny: [{ day: 1, perProvider: 1 }, { day: 5, perProvider: 3 }] };
  const pick = async (e: Egress, domain: string) => { const c = await e.pick(job(domain)); return 'source' in c ? c.source.name : `wait ${new Date(c.wait.until).toISOString()}`; };

  const both = new Egress({ config: cfg({ sources: [src('w', '127.0.0.2', 'p', { schedule: 'tiny', start: '2026-12-03' }), src('x', '127.0.0.3', 'p')], defaultPool: 'p', warmupSchedules: schedules }), store: memoryStore(), clock, logger });
  const seq = [];
  for (const d of ['gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com', 'gmail.com']) seq.push(await pick(both, d));
  assert.deepEqual(seq, ['w', 'x', 'x', 'x', 'x'], 'w (day 2: cap 1) took one gmail message, then overflowed; yahoo came on x\'s turn');
  assert.deepEqual([await pick(both, 'yahoo.com'), await pick(both, 'yahoo.com'), await pick(both, 'yahoo.com')], ['x', 'w', 'x'], 'w has its own count for yahoo (on its turn)');
  assert.deepEqual([await pick(both, 'yahoo.com'), await pick(both, 'yahoo.com')], ['x', 'x'], 'then yahoo overflows too');

  const alone = new Egress({ config: cfg({ sources: [src('w', '127.0.0.2', 'p', { schedule: 'tiny', start: '2026-12-04' })], pools: [{ name: 'p', overflow: false }], defaultPool: 'p', warmupSchedules: schedules }), store: memoryStore(), clock, logger });
  assert.deepEqual([await pick(alone, 'gmail.com'), await pick(alone, 'gmail.com')], ['w', 'wait 2026-12-05T00:00:00.000Z']);

  const early = new Egress({ config: cfg({ sources: [src('w', '127.0.0.2', 'p', { schedule: 'tiny', start: '2026-12-10' })], defaultPool: 'p', warmupSchedules: schedules }), store: memoryStore(), clock, logger });
  assert.equal(await pick(early, 'gmail.com'), 'wait 2026-12-05T00:00:00.000Z', 'nothing before the warmup starts');

  const paused = new Egress({ config: cfg({ sources: [src('a', '127.0.0.2', 'p')], defaultPool: 'p' }), clock, logger,
    store: memoryStore([{ name: 'a', state: 'draining', address: null, ehlo: null, pool: null, warmupSchedule: null, warmupStart: null, updatedAt: 1 }]) });
  const c = await paused.pick(job('gmail.com'));
  assert.ok('wait' in c && c.wait.until === now + 60_000 && /no active egress source in pool p/.test(c.wait.reason), JSON.stringify(c));

  const added = new Egress({ config: cfg({}), clock, logger, bindProblem: async (a) => (a === '192.0.2.1' ? 'not an address of this machine (EADDRNOTAVAIL)' : null),
    store: memoryStore([
      { name: 'far', state: 'active', address: '192.0.2.1', ehlo: 'far.relay.test', pool: 'default', warmupSchedule: null, warmupStart: null, updatedAt: 1 },
      { name: 'near', state: 'active', address: '127.0.0.7', ehlo: 'near.relay.test', pool: 'default', warmupSchedule: null, warmupStart: null, updatedAt: 1 },
    ]) });
  assert.deepEqual([await pick(added, 'a.test'), await pick(added, 'b.test'), await pick(added, 'c.test')], ['near', 'near', 'near'], 'a run-time source this node cannot bind is skipped here');
});
