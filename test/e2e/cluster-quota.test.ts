// Quotas across a cluster: three relay nodes on one fresh PostgreSQL database, an account with
// perDay = 30, and many concurrent SMTP sessions spread over the nodes asking for 60 recipients:
// exactly 30 are accepted across the cluster (store.consumeQuota checks and adds under row
// locks in one transaction: margin 0), the other 30 get 452 4.7.1, and exactly the accepted
// recipients are delivered. Needs PostgreSQL on 127.0.0.1:5432 (PL_TEST_PG_URL); skipped without
// it, except under CI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { Client, b64 } from '../ingress/harness.js';

const NODES = 3;
const SESSIONS_PER_NODE = 4;
const RCPTS_PER_SESSION = 5;   // 3 × 4 × 5 = 60 recipients asked for
const PER_DAY = 30;
const PASSWORD = 'cluster-quota-password';

const skip = await skipUnless(TOOLS.postgres);

/** One authenticated session on `port`: MAIL, the RCPTs one by one, DATA if any was accepted. */
async function session(port: number, tag: string): Promise<{ replies: string[]; queued: boolean }> {
  const c = await Client.connect(port);
  // generous reply timeouts: scrypt AUTH checks on a loaded 2-core machine can take seconds
  const cmd = async (line: string) => { c.send(line); return c.read(60_000); };
  try {
    await c.read(60_000);
    await cmd('EHLO client.test');
    assert.match(await cmd('STARTTLS'), /^220 /);
    await c.upgrade();
    await cmd('EHLO client.test');
    assert.match(await cmd(`AUTH PLAIN ${b64(`\0app\0${PASSWORD}`)}`), /^235 /);
    assert.match(await cmd('MAIL FROM:<app@quota.test>'), /^250 /);
    const replies: string[] = [];
    for (let i = 0; i < RCPTS_PER_SESSION; i++) replies.push(await cmd(`RCPT TO:<${tag}-${i}@quota.test>`));
    if (!replies.some((r) => r.startsWith('250'))) return { replies, queued: false };
    assert.match(await cmd('DATA'), /^354 /);
    assert.match(await cmd(`From: <app@quota.test>\r\nSubject: ${tag}\r\n\r\ncluster quota\r\n.`), /^250 2\.0\.0 Ok: queued as /);
    await cmd('QUIT');
    return { replies, queued: true };
  } finally {
    c.end();
  }
}

test('three nodes on one PostgreSQL database: an account\'s per-day limit holds exactly across the cluster', { skip }, async (t) => {
  const toMidnight = 86_400_000 - (Date.now() % 86_400_000);
  if (toMidnight < 120_000) await new Promise((r) => setTimeout(r, toMidnight + 1000)); // one day window for the whole test
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
  const cli = async (...args: string[]) => {
    const r = await nodes[0]!.cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  // the first node's CLI migrates the fresh database; the nodes then start together
  await cli('accounts', 'add', 'acme', '--per-day', String(PER_DAY));
  await cli('domains', 'add', 'quota.test', '--account', 'acme', '--key', 'ed25519');
  await cli('users', 'add', 'app', '--account', 'acme', '--domain', 'quota.test', '--password', PASSWORD);
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

  const usage = JSON.parse(await cli('accounts', 'list', '--json')) as { name: string; usage: { window: string; used: number; limit: number }[] }[];
  assert.deepEqual(usage.find((a) => a.name === 'acme')?.usage.map((u) => [u.window, u.used, u.limit]), [['day', PER_DAY, PER_DAY]]);

  // exactly the accepted recipients are delivered, once each
  await eventually(() => mx.messages.flatMap((m) => m.rcptTo).length >= PER_DAY, 30_000);
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive right behind
  const delivered = mx.messages.flatMap((m) => m.rcptTo);
  assert.equal(delivered.length, PER_DAY);
  assert.equal(new Set(delivered).size, PER_DAY);

  // one more from any node is still refused: the count is the database's, not a node's
  const late = await session(nodes[2]!.port('submission'), 'late');
  assert.equal(late.queued, false);
  assert.ok(nodes.some((n) => n.logs.some((l) => l.event === 'smtp.quota_exceeded' && l.account === 'acme' && l.window === 'day')));
});
