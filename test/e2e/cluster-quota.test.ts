// Quotas across a cluster: three relay nodes on one fresh PostgreSQL database, an account with
// perDay = 30, and many concurrent SMTP sessions spread over the nodes asking for 60 recipients:
// exactly 30 are accepted across the cluster (store.consumeQuota checks and adds under row
// locks in one transaction: margin 0), the other 30 get 452 4.7.1, and exactly the accepted
// recipients are delivered. A second cluster holds the other windows the same way: per hour and
// per calendar month (accounts), per user (two SMTP users of one account), and per second (an API
// key, over HTTP on all three nodes). Every window is checked against the counters the database
// kept (usage_counter): no window ever holds more than its limit, the counters add up to exactly
// what the clients were told was accepted, and the limit was reached. Needs PostgreSQL on
// 127.0.0.1:5432 (PL_TEST_PG_URL); skipped without it, except under CI.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { Client, b64 } from '../ingress/harness.js';
import { call } from '../helpers/api-fixture.js';
import { cliFixture } from '../helpers/cli-fixture.js';

const NODES = 3;
const SESSIONS_PER_NODE = 4;
const RCPTS_PER_SESSION = 5;   // 3 × 4 × 5 = 60 recipients asked for
const PER_DAY = 30;
const PASSWORD = 'cluster-quota-password';

const skip = await skipUnless(TOOLS.postgres);

/** One authenticated session on `port`: MAIL, the RCPTs one by one, DATA if any was accepted. */
async function session(port: number, tag: string, as = { user: 'app', password: PASSWORD, from: 'app@quota.test' }): Promise<{ replies: string[]; queued: boolean }> {
  const c = await Client.connect(port);
  // generous reply timeouts: scrypt AUTH checks on a loaded 2-core machine can take seconds
  const cmd = async (line: string) => { c.send(line); return c.read(60_000); };
  try {
    await c.read(60_000);
    await cmd('EHLO client.test');
    assert.match(await cmd('STARTTLS'), /^220 /);
    await c.upgrade();
    await cmd('EHLO client.test');
    assert.match(await cmd(`AUTH PLAIN ${b64(`\0${as.user}\0${as.password}`)}`), /^235 /);
    assert.match(await cmd(`MAIL FROM:<${as.from}>`), /^250 /);
    const replies: string[] = [];
    for (let i = 0; i < RCPTS_PER_SESSION; i++) replies.push(await cmd(`RCPT TO:<${tag}-${i}@quota.test>`));
    if (!replies.some((r) => r.startsWith('250'))) return { replies, queued: false };
    assert.match(await cmd('DATA'), /^354 /);
    assert.match(await cmd(`From: <${as.from}>\r\nSubject: ${tag}\r\n\r\ncluster quota\r\n.`), /^250 2\.0\.0 Ok: queued as /);
    await cmd('QUIT');
    return { replies, queued: true };
  } finally {
    c.end();
  }
}

/**
 * NODES relay nodes (not started) on a fresh database, delivering to a receiving MX on 127.0.0.2
 * for quota.test; `out` and `addTenant` run the first node's CLI (which migrates the database).
 */
async function cluster(t: TestContext) {
  const url = await freshDatabase(t);
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'quota.test': { MX: [{ exchange: 'mx.quota.test', priority: 10 }] }, 'mx.quota.test': { A: ['127.0.0.2'] } });
  const config = { storage: { url }, dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port, pollInterval: '200ms' } };
  const nodes: RelayProcess[] = [];
  for (let i = 0; i < NODES; i++) nodes.push(await RelayProcess.create(config));
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
    await mx.close(); await dns.close();
  });
  return { url, mx, nodes, ...cliFixture(() => nodes[0]!) };
}

test('three nodes on one PostgreSQL database: an account\'s per-day limit holds exactly across the cluster', { skip }, async (t) => {
  const toMidnight = 86_400_000 - (Date.now() % 86_400_000);
  if (toMidnight < 120_000) await new Promise((r) => setTimeout(r, toMidnight + 1000)); // one day window for the whole test
  const { mx, nodes, out, addTenant } = await cluster(t);
  // the first node's CLI migrates the fresh database; the nodes then start together
  await addTenant({ account: 'acme', limits: ['--per-day', String(PER_DAY)], domain: 'quota.test', users: [{ name: 'app', password: PASSWORD }] });
  await Promise.all(nodes.map((n) => n.start()));

  const sessions = nodes.flatMap((n, ni) => Array.from({ length: SESSIONS_PER_NODE }, (_, si) => session(n.port('submission'), `n${ni}s${si}`)));
  const results = await Promise.all(sessions);
  const replies = results.flatMap((r) => r.replies);
  assert.equal(replies.length, NODES * SESSIONS_PER_NODE * RCPTS_PER_SESSION);
  const accepted = replies.filter((r) => r.startsWith('250 2.1.5')).length;
  const refused = replies.filter((r) => /^452 4\.7\.1 Account limit of 30 per day reached; try again in \d+ s\r\n$/.test(r)).length;
  const perNode = nodes.map((_, ni) => results.slice(ni * SESSIONS_PER_NODE, (ni + 1) * SESSIONS_PER_NODE)
    .flatMap((r) => r.replies).filter((r) => r.startsWith('250')).length);
  t.diagnostic(`accepted per node: ${perNode.join(', ')}`);
  assert.equal(accepted, PER_DAY, 'exactly the limit, across the cluster');
  assert.equal(refused, replies.length - PER_DAY, replies.filter((r) => !r.startsWith('250') && !r.startsWith('452')).join(''));

  const usage = JSON.parse(await out('accounts', 'list', '--json')) as { name: string; usage: { window: string; used: number; limit: number }[] }[];
  assert.deepEqual(usage.find((a) => a.name === 'acme')?.usage.map((u) => [u.window, u.used, u.limit]), [['day', PER_DAY, PER_DAY]]);

  // exactly the accepted recipients are delivered, once each (the queue is empty: nothing more can come)
  await eventually(() => mx.messages.flatMap((m) => m.rcptTo).length >= PER_DAY, 30_000);
  await eventually(async () => (JSON.parse(await out('queue', 'list', '--json')) as unknown[]).length === 0, 30_000, 200);
  const delivered = mx.messages.flatMap((m) => m.rcptTo);
  assert.equal(delivered.length, PER_DAY);
  assert.equal(new Set(delivered).size, PER_DAY);

  // one more from any node is still refused: the count is the database's, not a node's
  const late = await session(nodes[2]!.port('submission'), 'late');
  assert.equal(late.queued, false);
  assert.ok(nodes.some((n) => n.logs.some((l) => l.event === 'smtp.quota_exceeded' && l.account === 'acme' && l.window === 'day')));
});

/** Every counter row the cluster kept for one quota key ('account:hourly/hour'), oldest first. */
async function counters(url: string, key: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ count: string }>('SELECT count FROM usage_counter WHERE key LIKE $1 ORDER BY window_start', [key]);
    return rows.map((r) => Number(r.count));
  } finally { await c.end(); }
}

/**
 * What the database counted for `key` against what the clients were told: the same total, no
 * window above the limit, and a full window (refusals happened, so one was). A run inside one
 * window (the usual case) accepted exactly the limit.
 */
async function assertWindows(url: string, key: string, limit: number, accepted: number) {
  const rows = await counters(url, key);
  assert.ok(rows.length > 0, `${key}: counted`);
  assert.equal(rows.reduce((a, b) => a + b, 0), accepted, `${key}: the counters add up to the acceptances (${rows.join(', ')})`);
  assert.ok(rows.every((n) => n <= limit), `${key}: no window over ${limit} (${rows.join(', ')})`);
  assert.equal(Math.max(...rows), limit, `${key}: the limit was reached`);
  if (rows.length === 1) assert.equal(accepted, limit, `${key}: exactly the limit in one window`);
}

test('three nodes: per-hour and per-month (account), per-user and per-second (API key) limits hold across the cluster', { skip, timeout: 240_000 }, async (t) => {
  const { url, mx, nodes, out, addTenant } = await cluster(t);
  const LIMITS = { hour: 12, month: 9, u1: 5, u2: 7, second: 3 };
  await addTenant({ account: 'hourly', limits: ['--per-hour', String(LIMITS.hour)], domain: 'hourly.test', users: [{ name: 'h', password: PASSWORD }] });
  await addTenant({ account: 'monthly', limits: ['--per-month', String(LIMITS.month)], domain: 'monthly.test', users: [{ name: 'm', password: PASSWORD }] });
  await addTenant({
    account: 'team', domain: 'team.test',
    users: [{ name: 'u1', password: PASSWORD, args: ['--per-day', String(LIMITS.u1)] }, { name: 'u2', password: PASSWORD, args: ['--per-day', String(LIMITS.u2)] }],
  });
  const burstToken = await addTenant({ account: 'burst', domain: 'burst.test', key: { scope: 'send', args: ['--per-second', String(LIMITS.second)] } });
  await Promise.all(nodes.map((n) => n.start()));

  // SMTP: every subject asks on every node at once for more than its limit.
  const subjects = [
    { name: 'hour', user: 'h', from: 'h@hourly.test', sessions: 2, refusal: /^452 4\.7\.1 Account limit of 12 per hour reached; try again in \d+ s\r\n$/ },
    { name: 'month', user: 'm', from: 'm@monthly.test', sessions: 2, refusal: /^(452 4\.7\.1|550 5\.7\.1) Account limit of 9 per month reached/ },
    { name: 'u1', user: 'u1', from: 'u1@team.test', sessions: 1, refusal: /^452 4\.7\.1 User limit of 5 per day reached/ },
    { name: 'u2', user: 'u2', from: 'u2@team.test', sessions: 1, refusal: /^452 4\.7\.1 User limit of 7 per day reached/ },
  ] as const;
  const runs = await Promise.all(subjects.map(async (sub) => {
    const results = await Promise.all(nodes.flatMap((n, ni) => Array.from({ length: sub.sessions }, (_, si) =>
      session(n.port('submission'), `${sub.name}-n${ni}s${si}`, { user: sub.user, password: PASSWORD, from: sub.from }))));
    const replies = results.flatMap((r) => r.replies);
    return { ...sub, accepted: replies.filter((r) => r.startsWith('250 2.1.5')).length, refused: replies.filter((r) => sub.refusal.test(r)).length, asked: replies.length };
  }));
  for (const r of runs) {
    t.diagnostic(`${r.name}: asked ${r.asked}, accepted ${r.accepted}, refused ${r.refused}`);
    assert.equal(r.accepted + r.refused, r.asked, `${r.name}: every RCPT is accepted or refused with the limit's reply`);
  }
  const acceptedOf = (name: string) => runs.find((r) => r.name === name)!.accepted;
  await assertWindows(url, 'account:hourly/hour', LIMITS.hour, acceptedOf('hour'));
  await assertWindows(url, 'account:monthly/month', LIMITS.month, acceptedOf('month'));
  await assertWindows(url, 'user:u1/day', LIMITS.u1, acceptedOf('u1'));
  await assertWindows(url, 'user:u2/day', LIMITS.u2, acceptedOf('u2'));

  // HTTP: bursts at the three nodes at once until one is refused; every 429 is the per-second
  // limit (Retry-After: 1). Which second each request fell in is the database's business: the
  // check is on its counters, not on this machine's speed.
  let ok = 0;
  let limited = 0;
  for (let round = 0; limited === 0; round++) {
    assert.ok(round < 30, 'no burst ever outran a limit of 3 per second');
    const answers = await Promise.all(nodes.flatMap((n, ni) => Array.from({ length: 4 }, (_, i) =>
      call(`http://127.0.0.1:${n.port('http')}`, 'POST', '/v1/messages', { token: burstToken, body: { from: 'app@burst.test', to: [`b${round}-${ni}-${i}@quota.test`], subject: 'burst', text: 'burst' } }))));
    for (const a of answers) {
      assert.ok(a.status === 202 || a.status === 429, `${a.status} ${a.text}`);
      if (a.status === 429) assert.equal(a.headers.get('retry-after'), '1', a.text);
    }
    ok += answers.filter((a) => a.status === 202).length;
    limited += answers.filter((a) => a.status === 429).length;
  }
  t.diagnostic(`HTTP per second: ${ok} accepted, ${limited} refused`);
  await assertWindows(url, 'key:%/second', LIMITS.second, ok);

  // Exactly the accepted recipients are delivered, once each.
  const expected = runs.reduce((a, r) => a + r.accepted, 0) + ok;
  await eventually(() => mx.messages.flatMap((m) => m.rcptTo).length >= expected, 60_000);
  await eventually(async () => (JSON.parse(await out('queue', 'list', '--json')) as unknown[]).length === 0, 60_000, 200);
  const delivered = mx.messages.flatMap((m) => m.rcptTo);
  assert.equal(delivered.length, expected);
  assert.equal(new Set(delivered).size, expected);
});
