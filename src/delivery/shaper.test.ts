// The shaper on an injected clock: token buckets per provider, the account share while accounts
// compete, suspensions from real throttle replies with the events logged, and gradual recovery.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import { Shaper } from './shaper.js';

function setup(shaping: unknown) {
  let now = 1_000_000;
  const out = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  out.on('data', (b: Buffer) => { for (const l of b.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>); });
  const cfg = loadConfig({ env: {}, overrides: { hostname: 'relay.example.com', shaping } });
  const shaper = new Shaper({ config: cfg.shaping, clock: { now: () => now }, logger: createLogger('info', out) });
  return { shaper, lines, advance: (ms: number) => { now += ms; }, now: () => now };
}

/** How many messages are admitted over `ms`, trying every `step` ms. */
function admitted(t: ReturnType<typeof setup>, provider: string, account: string, ms: number, step = 100): number {
  let n = 0;
  for (let at = 0; at < ms; at += step) {
    while (t.shaper.admit(provider, 'default', account).ok) n++;
    t.advance(step);
  }
  return n;
}

test('a per-minute limit holds over several minutes (burst of a tenth, then steady)', () => {
  const t = setup({ providers: { gmail: { perMinute: 60, perHour: null } } });
  const n = admitted(t, 'gmail', 'a', 5 * 60_000);
  assert.ok(n >= 5 * 60 && n <= 5 * 60 + 6, `admitted ${n}`);
  const r = t.shaper.admit('gmail', 'default', 'a');
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.until > t.now() && r.reason === 'rate');
});

test('unshaped providers are never held', () => {
  const t = setup({});
  let n = 0;
  while (n < 1000 && t.shaper.admit('mx:hoster.example', 'default', 'a').ok) n++;
  assert.equal(n, 1000);
});

test('competing accounts: each gets at most its share, so one account cannot take the whole rate', () => {
  const t = setup({ providers: { yahoo: { perMinute: 600, perHour: null } }, accountShare: 0.5 });
  let a = 0; let b = 0;
  for (let i = 0; i < 600; i++) { // one minute, 100 ms steps; the broadcast account tries far more
    for (let k = 0; k < 50; k++) if (t.shaper.admit('yahoo', 'default', 'bulk').ok) a++;
    if (t.shaper.admit('yahoo', 'default', 'shop').ok) b++;
    t.advance(100);
  }
  assert.ok(a <= 0.5 * 600 + 60 + 30, `bulk took ${a}`);
  assert.ok(b >= 250, `shop got ${b}`);
});

test('a Gmail 4.7.28 reply suspends gmail for this source, logs it, then resumes at half rate and recovers', () => {
  const t = setup({ providers: { gmail: { perMinute: 600, perHour: null } }, maxSuspend: '2m', recoverEvery: '1m' });
  const action = t.shaper.observe('gmail', 'default', '421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of\n421 4.7.28 unsolicited mail - gsmtp');
  assert.equal(action?.name, 'gmail-rate-limited');
  const held = t.shaper.admit('gmail', 'default', 'a');
  assert.deepEqual(held, { ok: false, until: t.now() + 120_000, reason: 'gmail-rate-limited' });
  assert.equal(t.shaper.admit('microsoft', 'default', 'a').ok, true, 'other providers go on');
  assert.equal(t.shaper.views().find((v) => v.provider === 'gmail')?.reason, 'gmail-rate-limited');
  assert.ok(t.lines.some((l) => l.event === 'shaping.suspended' && l.provider === 'gmail' && l.action === 'gmail-rate-limited'));
  t.advance(120_000);
  const first = admitted(t, 'gmail', 'a', 60_000);
  assert.ok(t.lines.some((l) => l.event === 'shaping.resumed' && l.provider === 'gmail'));
  assert.ok(first <= 330 && first >= 250, `first minute after: ${first}`);
  t.advance(3 * 60_000);
  assert.equal(t.shaper.views().find((v) => v.provider === 'gmail')?.scale, 1);
  assert.equal(t.shaper.maxConnections('gmail', 'default'), 10);
});

test('a connection-limit reply scales connections down without suspending', () => {
  const t = setup({});
  t.shaper.observe('yahoo', 'default', '421 4.7.0 Try again later, closing connection.');
  assert.equal(t.shaper.maxConnections('yahoo', 'default'), 2);
  assert.equal(t.shaper.admit('yahoo', 'default', 'a').ok, true);
  assert.ok(t.lines.some((l) => l.event === 'shaping.scaled_down'));
  assert.equal(t.shaper.observe('yahoo', 'default', '451 4.7.1 Greylisted, please try again later'), null);
});

test('a suspension recorded by another node is adopted (and ours is handed to the store)', () => {
  const shared: unknown[] = [];
  let now = 5_000_000;
  const cfg = loadConfig({ env: {}, overrides: { hostname: 'relay.example.com' } });
  const shaper = new Shaper({ config: cfg.shaping, clock: { now: () => now }, logger: createLogger('silent', new PassThrough()), onSuspended: (s) => shared.push(s) });
  shaper.adopt([{ provider: 'microsoft', source: 'default', until: now + 5000, reason: 'microsoft-reputation' }, { provider: 'mx:x.example', source: 'default', until: now + 5000, reason: 'x' }]);
  assert.deepEqual(shaper.admit('microsoft', 'default', 'a'), { ok: false, until: now + 5000, reason: 'microsoft-reputation' });
  shaper.observe('yahoo', 'default', '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred');
  assert.deepEqual(shared, [{ provider: 'yahoo', source: 'default', until: now + 600_000, reason: 'yahoo-volume', at: now }]);
  now += 5000;
  assert.equal(shaper.admit('microsoft', 'default', 'a').ok, true);
});

test('a suspension adopted after ours has ended (admit has not resumed it yet) is a new one and is logged', () => {
  const t = setup({ maxSuspend: '2s' });
  t.shaper.observe('yahoo', 'default', '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred');
  assert.equal(t.lines.filter((l) => l.event === 'shaping.suspended').length, 1);
  t.advance(3000); // ours is over; nothing has asked admit() since
  t.shaper.adopt([{ provider: 'yahoo', source: 'default', until: t.now() + 2000, reason: 'yahoo-volume' }]);
  assert.equal(t.lines.filter((l) => l.event === 'shaping.suspended' && l.shared === true).length, 1);
  assert.equal(t.shaper.admit('yahoo', 'default', 'a').ok, false);
  t.advance(3000);
  t.shaper.observe('yahoo', 'default', '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred');
  assert.equal(t.lines.filter((l) => l.event === 'shaping.suspended').length, 3, 'a throttle reply after an ended suspension starts (and logs) a new one');
});
