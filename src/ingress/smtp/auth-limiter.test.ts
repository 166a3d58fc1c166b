import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthLimiter, type AuthAttempt } from './auth-limiter.js';

const limits = { maxFailures: 4, failureWindow: 60_000, lockout: 300_000, failureDelay: 1000 };
const fakeClock = (t = 1_000_000) => ({ t, now() { return this.t; } });

async function admitted(lim: AuthLimiter, ip: string, user = 'alice'): Promise<AuthAttempt> {
  const a = await lim.begin(ip, user);
  assert.notEqual(a, 'locked', `${user}@${ip} admitted`);
  return a as AuthAttempt;
}
const fail = async (lim: AuthLimiter, ip: string, user = 'alice') => (await admitted(lim, ip, user)).failed();
const succeed = async (lim: AuthLimiter, ip: string, user = 'alice') => (await admitted(lim, ip, user)).succeeded();

test('each failure doubles the delay; the last one locks the client out', async () => {
  const clock = fakeClock();
  const lim = new AuthLimiter(limits, clock);
  assert.deepEqual(await fail(lim, '192.0.2.1'), { delayMs: 1000, lockedOut: false });
  assert.deepEqual(await fail(lim, '192.0.2.1', 'bob'), { delayMs: 2000, lockedOut: false });
  assert.deepEqual(await fail(lim, '192.0.2.1', 'carol'), { delayMs: 4000, lockedOut: false });
  assert.deepEqual(await fail(lim, '192.0.2.1', 'dave'), { delayMs: 8000, lockedOut: true });
  assert.equal(await lim.begin('192.0.2.1', 'erin'), 'locked');
  await succeed(lim, '192.0.2.2', 'erin');
  clock.t += 299_999;
  assert.equal(await lim.begin('192.0.2.1', 'erin'), 'locked');
  clock.t += 1;
  assert.deepEqual(await fail(lim, '192.0.2.1', 'erin'), { delayMs: 1000, lockedOut: false }, 'the lockout ends and counting starts again');
});

test('failures outside the window are forgotten', async () => {
  const clock = fakeClock();
  const lim = new AuthLimiter(limits, clock);
  await fail(lim, '192.0.2.1');
  await fail(lim, '192.0.2.1');
  clock.t += 60_000;
  assert.deepEqual(await fail(lim, '192.0.2.1'), { delayMs: 1000, lockedOut: false });
});

test('a success clears only its own user name’s failures from that address', async () => {
  const lim = new AuthLimiter({ ...limits, maxFailures: 5 }, fakeClock());
  // The attack pass: rounds of 4 wrong passwords for alice, each followed by a good login as bob.
  for (let i = 0; i < 4; i++) await fail(lim, '192.0.2.1', 'alice');
  await succeed(lim, '192.0.2.1', 'bob');
  assert.deepEqual(await fail(lim, '192.0.2.1', 'alice'), { delayMs: 16_000, lockedOut: true }, 'the fifth guess locks');
  assert.equal(await lim.begin('192.0.2.1', 'alice'), 'locked');
  assert.equal(await lim.begin('192.0.2.1', 'bob'), 'locked', 'the address is locked for every user');

  // A user who mistypes and then gets it right starts afresh.
  const lim2 = new AuthLimiter({ ...limits, maxFailures: 5 }, fakeClock());
  for (let i = 0; i < 4; i++) await fail(lim2, '192.0.2.1', 'alice');
  await succeed(lim2, '192.0.2.1', 'alice');
  for (let i = 0; i < 4; i++) assert.equal((await fail(lim2, '192.0.2.1', 'alice')).lockedOut, false);
});

test('concurrent attempts count from their start: at most maxFailures are checked, the rest wait and are locked out', async () => {
  const lim = new AuthLimiter(limits, fakeClock());
  const begun = Array.from({ length: 30 }, (_, i) => lim.begin('192.0.2.1', `user${i}`));
  const settled: (AuthAttempt | 'locked' | 'waiting')[] = await Promise.all(begun.map((p) => Promise.race([p, new Promise<'waiting'>((r) => setImmediate(() => r('waiting')))])));
  const running = settled.filter((s): s is AuthAttempt => typeof s === 'object');
  assert.equal(running.length, 4, 'only maxFailures checks run at once');
  for (const a of running) a.failed();
  const rest = await Promise.all(begun);
  assert.equal(rest.filter((r) => r === 'locked').length, 26, 'the waiting ones are refused once the failures lock the address');
});

test('waiting attempts proceed when the running ones succeed (a pool of right passwords is not refused)', async () => {
  const lim = new AuthLimiter(limits, fakeClock());
  const begun = Array.from({ length: 12 }, () => lim.begin('192.0.2.1', 'app'));
  let done = 0;
  await Promise.all(begun.map(async (p) => { const a = await p; assert.notEqual(a, 'locked'); (a as AuthAttempt).succeeded(); done++; }));
  assert.equal(done, 12);
});

test('an abandoned check (store error) releases its place without counting', async () => {
  const lim = new AuthLimiter({ ...limits, maxFailures: 1 }, fakeClock());
  (await admitted(lim, '192.0.2.1')).abandoned();
  assert.deepEqual(await fail(lim, '192.0.2.1'), { delayMs: 1000, lockedOut: true });
});

test('a user guessed at from many addresses is locked; addresses it logged in from stay admitted', async () => {
  const lim = new AuthLimiter({ ...limits, maxFailuresPerUser: 6 }, fakeClock());
  await succeed(lim, '198.51.100.9', 'alice');
  let locked = false;
  for (let i = 0; i < 6; i++) locked = (await fail(lim, `203.0.113.${i}`, 'alice')).lockedOut;
  assert.equal(locked, true);
  assert.equal(await lim.begin('203.0.113.77', 'alice'), 'locked', 'a new address is refused for alice');
  await succeed(lim, '203.0.113.77', 'bob');
  await succeed(lim, '198.51.100.9', 'alice');
});

test('the delay is capped at 30 s', async () => {
  const lim = new AuthLimiter({ ...limits, maxFailures: 100, maxFailuresPerUser: 100 }, fakeClock());
  let last = 0;
  for (let i = 0; i < 20; i++) last = (await fail(lim, '192.0.2.1')).delayMs;
  assert.equal(last, 30_000);
});

test('IPv6 clients are counted per /64, IPv4-mapped as IPv4', async () => {
  const lim = new AuthLimiter({ ...limits, maxFailures: 2 }, fakeClock());
  await fail(lim, '2001:db8:1:2::1', 'a');
  await fail(lim, '2001:db8:1:2::2', 'b');
  assert.equal(await lim.begin('2001:db8:1:2::3', 'c'), 'locked');
  await succeed(lim, '2001:db8:1:3::1', 'c');
});

test('expired entries are swept, so the map stays bounded', async () => {
  const clock = fakeClock();
  const lim = new AuthLimiter(limits, clock);
  for (let i = 0; i < 5_000; i++) await fail(lim, `10.0.${i >> 8}.${i & 255}`, `u${i}`);
  clock.t += 60_000;
  await fail(lim, '192.0.2.1', 'z');
  assert.equal(lim.size, 2);
});

test('tryBegin (the API): never waits, refuses with the time to wait, trusted pairs pass the address limit', () => {
  const clock = fakeClock();
  const lim = new AuthLimiter({ ...limits, maxFailures: 3, maxFailuresPerUser: Number.MAX_SAFE_INTEGER, failureDelay: 0 }, clock);
  const take = (ip: string, user: string): AuthAttempt => {
    const a = lim.tryBegin(ip, user);
    assert.ok(!('retryAfterMs' in a), `${user}@${ip} admitted`);
    return a as AuthAttempt;
  };
  take('192.0.2.1', 'k-good').succeeded(); // the neighbour's key, once
  // Three lookups in flight from one address: a fourth is refused at once (1 s), before any failure is known.
  const inFlight = ['k1', 'k2', 'k3'].map((k) => take('192.0.2.1', k));
  assert.deepEqual(lim.tryBegin('192.0.2.1', 'k4'), { retryAfterMs: 1000 });
  const sizeBefore = lim.size;
  assert.deepEqual(inFlight.map((a) => a.failed()), [
    { delayMs: 0, lockedOut: false }, { delayMs: 0, lockedOut: false }, { delayMs: 0, lockedOut: true }]);
  assert.deepEqual(lim.tryBegin('192.0.2.1', 'k5'), { retryAfterMs: 300_000 });
  assert.equal(lim.size, sizeBefore, 'a refused attempt adds no entry');
  clock.t += 100_000;
  assert.deepEqual(lim.tryBegin('192.0.2.1', 'k6'), { retryAfterMs: 200_000 });
  // The key that authenticated from this address in the last day still gets its lookup.
  take('192.0.2.1', 'k-good').succeeded();
  // Another address, and the same address after the lockout, are admitted.
  take('192.0.2.2', 'k7').failed();
  clock.t += 200_000;
  take('192.0.2.1', 'k8').failed();
});

test('entries of addresses that only succeed are swept too (the API admits many)', () => {
  const clock = fakeClock();
  const lim = new AuthLimiter({ ...limits, maxFailuresPerUser: Number.MAX_SAFE_INTEGER, failureDelay: 0 }, clock);
  for (let i = 0; i < 12_000; i++) {
    const a = lim.tryBegin(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 'k1');
    assert.ok(!('retryAfterMs' in a));
    (a as AuthAttempt).succeeded();
  }
  assert.ok(lim.size < 10_100, `${lim.size} entries: address entries without failures are swept (the key's trust stays)`);
});
