// Quotas over real sockets (the ingress harness with a real SQLite store): each RCPT of a
// submission is charged to the user's account (and the user's own limits); the excess gets
// 452 4.7.1 (or 550 5.7.1 when the window resets more than a day away) for that RCPT only, the
// accepted recipients are queued, the message carries the account, and mx mail is never charged.
// The clock is injected (fixed), so "one second" is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthGrant } from '../../src/ingress/smtp/session.js';
import type { RateLimits } from '../../src/store/platform-store.js';
import { Client, USERS, startHarness, type Harness } from './harness.js';

const clockAt = (iso: string) => { const c = { t: Date.parse(iso), now: () => c.t }; return c; };

/** alice: account acme, no own limits; bob: account acme with the given own limits. */
async function harness(account: RateLimits, opts: { bob?: RateLimits; clock?: { now(): number }; overrides?: Record<string, unknown> } = {}) {
  const grants: Record<string, AuthGrant> = {
    alice: { allowedDomains: ['acme.test'], anyDomain: false, account: 'acme', limits: {} },
    bob: { allowedDomains: ['acme.test'], anyDomain: false, account: 'acme', limits: opts.bob ?? {} },
  };
  const h = await startHarness(opts.overrides ?? {}, {
    clock: opts.clock, quota: true,
    authenticate: async (user, password) => USERS.get(user) === password && (grants[user] ?? false),
  });
  await h.store.addAccount({ name: 'acme', createdAt: 0, limits: account });
  return h;
}

/** One transaction: the reply to each RCPT, then the DATA outcome (null if no RCPT was accepted). */
async function send(c: Client, rcpts: string[]): Promise<{ replies: string[]; queued: string | null }> {
  assert.match(await c.cmd('MAIL FROM:<app@acme.test>'), /^250 /);
  const replies: string[] = [];
  for (const r of rcpts) replies.push(await c.cmd(`RCPT TO:<${r}>`));
  if (!replies.some((r) => r.startsWith('250'))) { await c.cmd('RSET'); return { replies, queued: null }; }
  assert.match(await c.cmd('DATA'), /^354 /);
  const done = await c.cmd('From: <app@acme.test>\r\nSubject: quota\r\n\r\nhello\r\n.');
  return { replies, queued: /queued as (\S+)/.exec(done)?.[1] ?? null };
}

const rcpts = (n: number, tag = 'r') => Array.from({ length: n }, (_, i) => `${tag}${i}@dest.example`);
const codes = (replies: string[]) => replies.map((r) => r.slice(0, 9));

async function recipientsOf(h: Harness, id: string) {
  const m = await h.store.getMessage(id);
  assert.ok(m);
  return { recipients: m.recipients.map((r) => r.address), account: m.meta.account };
}

test('per second: a burst past the limit gets 452 4.7.1 for the excess RCPTs; the accepted ones are queued with the account', async () => {
  const clock = clockAt('2026-03-15T10:20:30.250Z');
  const h = await harness({ perSecond: 3 }, { clock });
  try {
    const c = await Client.ready(h.port('submission'), 'auth', 'alice');
    const { replies, queued } = await send(c, rcpts(5));
    assert.deepEqual(codes(replies), ['250 2.1.5', '250 2.1.5', '250 2.1.5', '452 4.7.1', '452 4.7.1']);
    assert.equal(replies[3], '452 4.7.1 Account limit of 3 per second reached; try again in 1 s\r\n');
    assert.ok(queued);
    assert.deepEqual(await recipientsOf(h, queued), { recipients: rcpts(3), account: 'acme' });

    // a second session in the same second has no room left either (the counter is the store's)
    const d = await Client.ready(h.port('submissions'), 'implicit-auth', 'alice');
    assert.deepEqual(codes((await send(d, ['late@dest.example'])).replies), ['452 4.7.1']);
    clock.t += 750; // the next second
    const next = await send(d, rcpts(4, 'n'));
    assert.deepEqual(codes(next.replies), ['250 2.1.5', '250 2.1.5', '250 2.1.5', '452 4.7.1']);
    assert.deepEqual((await recipientsOf(h, next.queued!)).recipients, rcpts(3, 'n'));

    const refusals = h.logs.filter((l) => l.event === 'smtp.quota_exceeded');
    assert.equal(refusals.length, 4);
    assert.deepEqual({ ...refusals[0], time: 0, ip: '', pid: 0, hostname: '', msg: '', retryAfterMs: 0 }, {
      level: 40, time: 0, pid: 0, hostname: '', msg: '', event: 'smtp.quota_exceeded', listener: 'submission', ip: '',
      account: 'acme', user: 'alice', key: 'account:acme', window: 'second', limit: 3, permanent: false, retryAfterMs: 0,
    });
    assert.equal(h.logs.filter((l) => l.event === 'smtp.accepted').length, 2);
    c.end(); d.end();
  } finally {
    await h.close();
  }
});

test('per second across concurrent sessions: exactly the limit is accepted in one second', async () => {
  const clock = clockAt('2026-03-15T10:20:30.000Z');
  const h = await harness({ perSecond: 10 }, { clock });
  try {
    const clients = await Promise.all(Array.from({ length: 5 }, () => Client.ready(h.port('submission'), 'auth', 'alice')));
    const results = await Promise.all(clients.map((c, i) => send(c, rcpts(4, `c${i}-`))));
    const accepted = results.flatMap((r) => r.replies).filter((r) => r.startsWith('250')).length;
    assert.equal(accepted, 10);
    assert.equal(results.flatMap((r) => r.replies).filter((r) => r.startsWith('452 4.7.1')).length, 10);
    let queued = 0;
    for (const r of results) if (r.queued) queued += (await recipientsOf(h, r.queued)).recipients.length;
    assert.equal(queued, 10, 'every accepted recipient is queued');
    for (const c of clients) c.end();
  } finally {
    await h.close();
  }
});

test('per day: the day\'s count holds across sessions; 452 4.7.1 until midnight UTC', async () => {
  const clock = clockAt('2026-03-15T22:00:00Z');
  const h = await harness({ perDay: 3 }, { clock });
  try {
    const a = await Client.ready(h.port('submission'), 'auth', 'alice');
    assert.deepEqual(codes((await send(a, rcpts(2, 'a'))).replies), ['250 2.1.5', '250 2.1.5']);
    a.end();
    const b = await Client.ready(h.port('submission'), 'auth', 'alice');
    const r = await send(b, rcpts(2, 'b'));
    assert.deepEqual(codes(r.replies), ['250 2.1.5', '452 4.7.1']);
    assert.equal(r.replies[1], '452 4.7.1 Account limit of 3 per day reached; try again in 7200 s\r\n');
    clock.t = Date.parse('2026-03-16T00:00:00Z');
    assert.deepEqual(codes((await send(b, rcpts(1, 'c'))).replies), ['250 2.1.5'], 'a new day');
    b.end();
  } finally {
    await h.close();
  }
});

test('per month, with the reset more than a day away: 550 5.7.1 (permanent)', async () => {
  const clock = clockAt('2026-03-15T12:00:00Z');
  const h = await harness({ perMonth: 2 }, { clock });
  try {
    const c = await Client.ready(h.port('submission'), 'auth', 'alice');
    const r = await send(c, rcpts(3));
    assert.deepEqual(codes(r.replies), ['250 2.1.5', '250 2.1.5', '550 5.7.1']);
    assert.equal(r.replies[2], '550 5.7.1 Account limit of 2 per month reached; sending refused\r\n');
    assert.deepEqual((await recipientsOf(h, r.queued!)).recipients, rcpts(2));
    // on the last day of the month the same refusal is temporary
    clock.t = Date.parse('2026-03-31T12:00:00Z');
    assert.deepEqual(codes((await send(c, ['x@dest.example'])).replies), ['452 4.7.1']);
    c.end();
  } finally {
    await h.close();
  }
});

test('a user limit lower than the account\'s refuses first, naming the user; other users keep the account\'s room', async () => {
  const clock = clockAt('2026-03-15T10:00:00Z');
  const h = await harness({ perDay: 10 }, { bob: { perDay: 2 }, clock });
  try {
    const bob = await Client.ready(h.port('submission'), 'auth', 'bob');
    const r = await send(bob, rcpts(3, 'b'));
    assert.deepEqual(codes(r.replies), ['250 2.1.5', '250 2.1.5', '452 4.7.1']);
    assert.match(r.replies[2]!, /^452 4\.7\.1 User limit of 2 per day reached; try again in \d+ s\r\n$/);
    const alice = await Client.ready(h.port('submission'), 'auth', 'alice');
    const a = await send(alice, rcpts(9, 'a'));
    assert.deepEqual(codes(a.replies).filter((x) => x.startsWith('250')).length, 8, 'the account had 10 - 2 left');
    assert.equal(a.replies[8], '452 4.7.1 Account limit of 10 per day reached; try again in 50400 s\r\n');
    assert.ok(h.logs.some((l) => l.event === 'smtp.quota_exceeded' && l.key === 'user:bob' && l.window === 'day' && l.limit === 2));
    bob.end(); alice.end();
  } finally {
    await h.close();
  }
});

test('relayNetworks submissions are charged to default; mx mail is never charged', async () => {
  const h = await harness({}, { overrides: { 'smtp.relayNetworks': ['127.0.0.1/32'] } });
  try {
    await h.store.setAccountLimits('default', { perDay: 1 });
    const c = await Client.ready(h.port('submission'), 'plain');
    const r = await send(c, rcpts(2));
    assert.deepEqual(codes(r.replies), ['250 2.1.5', '452 4.7.1']);
    assert.equal((await recipientsOf(h, r.queued!)).account, 'default');
    const mx = await Client.ready(h.port('mx'), 'plain');
    assert.match(await mx.cmd('MAIL FROM:<someone@far.example>'), /^250 /);
    for (let i = 0; i < 3; i++) assert.match(await mx.cmd('RCPT TO:<postmaster@relay.test>'), /^250 2\.1\.5/);
    assert.match(await mx.cmd('RCPT TO:<bounce-me@bounces.relay.test>'), /^250 2\.1\.5/);
    c.end(); mx.end();
  } finally {
    await h.close();
  }
});

test('the quota store failing: 451 4.3.0 for that RCPT, nothing accepted unmetered', async () => {
  const h = await startHarness({}, { quota: { charge: async () => { throw new Error('database unreachable'); } } });
  try {
    const c = await Client.ready(h.port('submission'), 'auth', 'alice');
    const r = await send(c, ['x@dest.example']);
    assert.deepEqual(r.replies, ['451 4.3.0 Temporary local problem, try again later\r\n']);
    assert.equal(r.queued, null);
    assert.deepEqual(await h.storedIds(), []);
    assert.ok(h.logs.some((l) => l.event === 'smtp.quota_error' && l.account === 'default'));
    c.end();
  } finally {
    await h.close();
  }
});
