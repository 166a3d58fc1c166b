import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Account, QuotaResult, QuotaWindow, RateLimits } from '../store/platform-store.js';
import { QuotaService, subjectOf, windowsFor } from './quota.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const shape = (ws: QuotaWindow[]) => ws.map((w) => [w.window, iso(w.windowStart), iso(w.windowEnd), w.limit]);

test('windowsFor: second, hour, day and calendar month, in UTC; absent and null limits are skipped', () => {
  const all: RateLimits = { perSecond: 5, perHour: 100, perDay: 1000, perMonth: 20000 };
  assert.deepEqual(shape(windowsFor('account:acme', all, at('2026-03-15T10:20:30.750Z'))), [
    ['second', '2026-03-15T10:20:30.000Z', '2026-03-15T10:20:31.000Z', 5],
    ['hour', '2026-03-15T10:00:00.000Z', '2026-03-15T11:00:00.000Z', 100],
    ['day', '2026-03-15T00:00:00.000Z', '2026-03-16T00:00:00.000Z', 1000],
    ['month', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', 20000],
  ]);
  assert.deepEqual(windowsFor('account:acme', {}, 0), []);
  assert.deepEqual(shape(windowsFor('user:app', { perSecond: null, perDay: 0, perMonth: undefined }, at('2026-03-15T10:20:30Z'))),
    [['day', '2026-03-15T00:00:00.000Z', '2026-03-16T00:00:00.000Z', 0]], 'a limit of 0 is a limit; null/undefined are none');
  assert.deepEqual(windowsFor('key:k', all, 0).map((w) => w.key), ['key:k/second', 'key:k/hour', 'key:k/day', 'key:k/month']);
});

test('windowsFor: windows starting at the same instant have distinct counter keys (the store keys rows by key + start)', () => {
  const ws = windowsFor('account:acme', { perSecond: 1, perHour: 1, perDay: 1, perMonth: 1 }, at('2026-04-01T00:00:00.300Z'));
  assert.equal(new Set(ws.map((w) => w.windowStart)).size, 1, 'all four start at 2026-04-01T00:00:00Z');
  assert.equal(new Set(ws.map((w) => `${w.key}|${w.windowStart}`)).size, 4);
  assert.deepEqual(ws.map(subjectOf), ['account:acme', 'account:acme', 'account:acme', 'account:acme']);
});

test('windowsFor: month boundaries (year end, February in leap and common years, 31-day months, the last ms)', () => {
  const month = (now: string) => shape(windowsFor('a', { perMonth: 1, perDay: 1 }, at(now)));
  assert.deepEqual(month('2026-12-31T23:59:59.999Z'), [
    ['day', '2026-12-31T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 1],
    ['month', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 1],
  ]);
  assert.deepEqual(month('2027-01-01T00:00:00.000Z')[1], ['month', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z', 1]);
  assert.deepEqual(month('2028-02-29T12:00:00Z')[1], ['month', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z', 1]);
  assert.deepEqual(month('2027-02-28T23:59:59.999Z')[1], ['month', '2027-02-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z', 1]);
  assert.deepEqual(month('2026-01-31T23:59:59.999Z')[1], ['month', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', 1]);
  assert.deepEqual(month('2026-02-01T00:00:00.000Z')[1], ['month', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', 1]);
});

test('windowsFor does not depend on the process time zone', () => {
  const before = process.env.TZ;
  const now = at('2026-06-30T23:30:00Z'); // already July 1 in UTC+14, still June 30 in UTC-10
  const expected = shape(windowsFor('a', { perHour: 1, perDay: 1, perMonth: 1 }, now));
  try {
    for (const [tz, localDate] of [['Pacific/Kiritimati', 1], ['Pacific/Honolulu', 30], ['Asia/Kolkata', 1], ['America/St_Johns', 30]] as const) {
      process.env.TZ = tz;
      assert.equal(new Date(now).getDate(), localDate, `the zone ${tz} is in effect`);
      assert.deepEqual(shape(windowsFor('a', { perHour: 1, perDay: 1, perMonth: 1 }, now)), expected, tz);
    }
  } finally {
    if (before === undefined) delete process.env.TZ; else process.env.TZ = before;
  }
  assert.equal(expected[2]![1], '2026-06-01T00:00:00.000Z');
});

/** consumeQuota with the contract's semantics (all or nothing, first exceeded in the order given), in memory. */
class MemoryQuotaStore {
  counts = new Map<string, number>();
  accounts = new Map<string, Account>();
  charges: QuotaWindow[][] = [];
  getAccountCalls = 0;
  failing = false;
  async getAccount(name: string) { this.getAccountCalls++; return this.accounts.get(name) ?? null; }
  async consumeQuota(windows: QuotaWindow[], n: number): Promise<QuotaResult> {
    if (this.failing) throw new Error('database down');
    this.charges.push(windows);
    const id = (w: QuotaWindow) => `${w.key}|${w.windowStart}`; // the store's row key
    for (const w of windows) {
      const used = this.counts.get(id(w)) ?? 0;
      if (used + n > w.limit) return { ok: false, exceeded: w, used };
    }
    for (const w of windows) this.counts.set(id(w), (this.counts.get(id(w)) ?? 0) + n);
    return { ok: true };
  }
  withAccount(name: string, limits: RateLimits) { this.accounts.set(name, { name, createdAt: 0, limits }); return this; }
}

const clockAt = (iso: string) => { const c = { t: at(iso), now: () => c.t }; return c; };

test('charge: the hour, day and month counters of the 1st at 00:00 are separate rows (no double counting)', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', { perHour: 3, perDay: 3, perMonth: 5 });
  const clock = clockAt('2026-04-01T00:00:00.000Z');
  const quota = new QuotaService(store, clock);
  for (let i = 0; i < 3; i++) assert.ok((await quota.charge({ account: 'acme' })).ok, `charge ${i + 1}`);
  assert.deepEqual([...store.counts.values()], [3, 3, 3]);
  const r = await quota.charge({ account: 'acme' });
  assert.ok(!r.ok && r.window === 'day' && r.key === 'account:acme');
  clock.t = at('2026-04-02T00:00:00.000Z');
  assert.ok((await quota.charge({ account: 'acme' })).ok);
  assert.ok((await quota.charge({ account: 'acme' })).ok);
  const month = await quota.charge({ account: 'acme' });
  assert.ok(!month.ok && month.window === 'month' && month.permanent);
});

test('charge: within the limits ok; over a per-second limit 452 4.7.1 with the time to wait; the next second is fresh', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', { perSecond: 2 });
  const clock = clockAt('2026-03-15T10:20:30.250Z');
  const quota = new QuotaService(store, clock);
  assert.deepEqual(await quota.charge({ account: 'acme' }), { ok: true });
  assert.deepEqual(await quota.charge({ account: 'acme' }), { ok: true });
  const refused = await quota.charge({ account: 'acme' });
  assert.deepEqual(refused, {
    ok: false, key: 'account:acme', window: 'second', limit: 2, retryAfterMs: 750, permanent: false,
    reply: { code: 452, enhanced: '4.7.1', text: 'Account limit of 2 per second reached; try again in 1 s' },
  });
  clock.t += 750;
  assert.deepEqual(await quota.charge({ account: 'acme' }), { ok: true });
});

test('charge: per-day full → 452 with the seconds until midnight UTC; per-month far from its end → 550 5.7.1', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', { perDay: 1 }).withAccount('plan', { perMonth: 1 });
  const clock = clockAt('2026-03-15T22:00:00Z');
  const quota = new QuotaService(store, clock);
  await quota.charge({ account: 'acme' });
  const day = await quota.charge({ account: 'acme' });
  assert.ok(!day.ok);
  assert.equal(day.retryAfterMs, 2 * 3_600_000);
  assert.equal(day.permanent, false);
  assert.deepEqual(day.reply, { code: 452, enhanced: '4.7.1', text: 'Account limit of 1 per day reached; try again in 7200 s' });

  await quota.charge({ account: 'plan' });
  const month = await quota.charge({ account: 'plan' });
  assert.ok(!month.ok);
  assert.equal(month.permanent, true);
  assert.equal(month.retryAfterMs, at('2026-04-01T00:00:00Z') - clock.t);
  assert.deepEqual(month.reply, { code: 550, enhanced: '5.7.1', text: 'Account limit of 1 per month reached; sending refused' });
});

test('charge: a month that resets within a day is temporary (452)', async () => {
  const store = new MemoryQuotaStore().withAccount('plan', { perMonth: 1 });
  const clock = clockAt('2026-03-31T12:00:00Z');
  const quota = new QuotaService(store, clock);
  await quota.charge({ account: 'plan' });
  const r = await quota.charge({ account: 'plan' });
  assert.ok(!r.ok);
  assert.equal(r.permanent, false);
  assert.equal(r.reply.code, 452);
  assert.equal(r.retryAfterMs, 12 * 3_600_000);
});

test('charge: the principal is charged with the account; its lower limit refuses first, naming it', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', { perDay: 100 });
  const quota = new QuotaService(store, clockAt('2026-03-15T10:00:00Z'));
  const subject = { account: 'acme', principal: { kind: 'user' as const, id: 'app', limits: { perDay: 2 } } };
  assert.ok((await quota.charge(subject)).ok);
  assert.ok((await quota.charge(subject)).ok);
  const r = await quota.charge(subject);
  assert.ok(!r.ok);
  assert.equal(r.key, 'user:app');
  assert.match(String(r.reply.text), /^User limit of 2 per day reached/);
  // nothing was added to the account's window by the refused charge (all or nothing)
  assert.deepEqual([...store.counts.values()], [2, 2]);
  // another user of the same account still has the account's room
  assert.ok((await quota.charge({ account: 'acme', principal: { kind: 'key', id: 'k1', limits: {} } })).ok);
});

test('charge: windows go to the store longest-reset first, ties by key; with several full, the latest reset is reported', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', { perSecond: 1, perMonth: 1, perDay: 5 });
  const quota = new QuotaService(store, clockAt('2026-03-15T10:00:00Z'));
  await quota.charge({ account: 'acme', principal: { kind: 'user', id: 'app', limits: { perDay: 3, perSecond: 1 } } });
  assert.deepEqual(store.charges[0]!.map((w) => w.key),
    ['account:acme/month', 'account:acme/day', 'user:app/day', 'account:acme/second', 'user:app/second']);
  const r = await quota.charge({ account: 'acme' }); // second and month both full
  assert.ok(!r.ok);
  assert.equal(r.window, 'month');
  assert.equal(r.permanent, true);
});

test('charge: unlimited subjects cost no quota call; account limits are cached for a few seconds', async () => {
  const store = new MemoryQuotaStore().withAccount('free', {});
  const clock = clockAt('2026-03-15T10:00:00Z');
  const quota = new QuotaService(store, clock);
  for (let i = 0; i < 3; i++) assert.deepEqual(await quota.charge({ account: 'free', principal: { kind: 'user', id: 'u', limits: { perDay: null } } }), { ok: true });
  assert.equal(store.charges.length, 0);
  assert.equal(store.getAccountCalls, 1);
  assert.deepEqual(await quota.charge({ account: 'unknown' }), { ok: true }, 'an unknown account has no limits');
  store.withAccount('free', { perDay: 0 });
  assert.ok((await quota.charge({ account: 'free' })).ok, 'the cached limits still apply');
  clock.t += 5000;
  assert.ok(!(await quota.charge({ account: 'free' })).ok, 'new limits after the cache expires');
});

test('chargeNow: ok without waiting only when charge() would meter nothing with the same cached account; else undefined', async () => {
  const store = new MemoryQuotaStore().withAccount('free', {}).withAccount('acme', { perDay: 5 });
  const clock = clockAt('2026-03-15T10:00:00Z');
  const quota = new QuotaService(store, clock);
  assert.equal(quota.chargeNow({ account: 'free' }), undefined, 'not read yet: charge() must look it up');
  assert.deepEqual(await quota.charge({ account: 'free' }), { ok: true });
  assert.deepEqual(quota.chargeNow({ account: 'free' }), { ok: true });
  assert.deepEqual(quota.chargeNow({ account: 'free', principal: { kind: 'user', id: 'u', limits: { perDay: null } } }), { ok: true });
  assert.equal(quota.chargeNow({ account: 'free', principal: { kind: 'user', id: 'u', limits: { perDay: 0 } } }), undefined, 'a limited user is charged');
  await quota.charge({ account: 'acme' });
  assert.equal(quota.chargeNow({ account: 'acme' }), undefined, 'a limited account is charged');
  assert.equal(store.getAccountCalls, 2);
  assert.equal(store.charges.length, 1);
  store.withAccount('free', { perDay: 0 });
  clock.t += 4999;
  assert.deepEqual(quota.chargeNow({ account: 'free' }), { ok: true }, 'the cached limits still apply, as in charge()');
  clock.t += 1;
  assert.equal(quota.chargeNow({ account: 'free' }), undefined, 'the cache expired: charge() reads the new limits');
  assert.ok(!(await quota.charge({ account: 'free' })).ok);
  assert.equal(quota.chargeNow({ account: 'free' }), undefined);
});

test('charge: more than the limit at once, or a limit of 0, is permanent even in a short window', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', { perSecond: 10 }).withAccount('paused', { perHour: 0 });
  const quota = new QuotaService(store, clockAt('2026-03-15T10:00:00Z'));
  const big = await quota.charge({ account: 'acme' }, 11);
  assert.ok(!big.ok);
  assert.equal(big.permanent, true);
  assert.equal(big.reply.code, 550);
  assert.ok((await quota.charge({ account: 'acme' }, 10)).ok);
  const paused = await quota.charge({ account: 'paused' });
  assert.ok(!paused.ok && paused.permanent && paused.reply.enhanced === '5.7.1');
});

test('charge: a store failure propagates (the caller answers 451); bad counts are refused', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', { perDay: 10 });
  store.failing = true;
  const quota = new QuotaService(store, clockAt('2026-03-15T10:00:00Z'));
  await assert.rejects(quota.charge({ account: 'acme' }), /database down/);
  await assert.rejects(quota.charge({ account: 'acme' }, 0), RangeError);
  await assert.rejects(quota.charge({ account: 'acme' }, 1.5), RangeError);
});

test('limited: true when the account or the principal has a limit (what charge would meter), false otherwise; no store write', async () => {
  const store = new MemoryQuotaStore().withAccount('acme', {}).withAccount('capped', { perDay: 10 });
  const quota = new QuotaService(store, clockAt('2026-03-15T10:20:30.250Z'));
  assert.equal(await quota.limited({ account: 'acme' }), false);
  assert.equal(await quota.limited({ account: 'acme', principal: { kind: 'key', id: 'k1', limits: { perSecond: null } } }), false);
  assert.equal(await quota.limited({ account: 'acme', principal: { kind: 'key', id: 'k1', limits: { perHour: 5 } } }), true);
  assert.equal(await quota.limited({ account: 'capped' }), true);
  assert.equal(await quota.limited({ account: 'unknown' }), false, 'an account without a row has no limits (as charge reads it)');
  assert.deepEqual(store.charges, []);
});
