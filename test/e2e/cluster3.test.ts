// Three relay nodes on one PostgreSQL database: mail submitted round-robin to all three is
// delivered exactly once, and the per-destination concurrency limit holds over the cluster — the
// receiving MX (which holds each DATA reply a little, so deliveries overlap) never sees more
// simultaneous sessions than delivery.maxConnectionsPerDestination, although each node alone may
// open that many. Needs PostgreSQL on 127.0.0.1:5432 (PL_TEST_PG_URL); skipped without it, except under CI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';

const MESSAGES = 60;
const LIMIT = 2;

const skip = await skipUnless(TOOLS.postgres);

test('three nodes on one PostgreSQL queue: each message delivered once, per-destination limit held cluster-wide', { skip }, async (t) => {
  const url = await freshDatabase(t);
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0, behaviour: { dataDelayMs: 80 } });
  dns.setZone({ 'three.test': { MX: [{ exchange: 'mx.three.test', priority: 10 }] }, 'mx.three.test': { A: ['127.0.0.2'] } });
  const config = {
    storage: { url },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms', leaseTime: '30s', maxConnectionsPerDestination: LIMIT },
  };
  const nodes = [await RelayProcess.create(config), await RelayProcess.create(config), await RelayProcess.create(config)];
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
    await mx.close(); await dns.close();
  });
  assert.equal((await nodes[0]!.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'three.test'])).code, 0);
  await Promise.all(nodes.map((n) => n.start()));

  const subs = nodes.map((n) => new Submitter({ port: n.port('submission'), user: 'app', pass: 'app-password' }));
  for (let i = 0; i < MESSAGES; i++) {
    await subs[i % 3]!.send('app@three.test', [`r${i}@three.test`], `Subject: n${i}\r\nX-Seq: ${i}\r\n\r\nseq ${i}\r\n`);
  }
  subs.forEach((s) => s.close());
  await eventually(() => mx.messages.length >= MESSAGES, 60_000);
  // Every recipient is final (the queue lists nothing): no copy is still on its way.
  await eventually(async () => (JSON.parse((await nodes[0]!.cli(['queue', 'list', '--json'])).stdout) as unknown[]).length === 0, 30_000, 200);
  const seqs = mx.messages.map((m) => Number(/X-Seq: (\d+)/.exec(m.body.toString())?.[1]));
  assert.equal(seqs.length, MESSAGES, 'no duplicates');
  assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), Array.from({ length: MESSAGES }, (_, i) => i));

  const deliveredBy = nodes.map((n) => n.logs.filter((l) => l.event === 'delivery.delivered').length);
  t.diagnostic(`deliveries per node: ${deliveredBy.join(', ')}; MX sessions ${mx.sessions}, most at once ${mx.maxConcurrentSessions} (limit ${LIMIT})`);
  assert.equal(deliveredBy.reduce((a, b) => a + b, 0), MESSAGES);
  assert.ok(mx.maxConcurrentSessions <= LIMIT, `at most ${LIMIT} sessions at once over the three nodes (saw ${mx.maxConcurrentSessions})`);
  assert.equal(mx.maxConcurrentSessions, LIMIT, 'the limit was reached (deliveries did overlap)');
  assert.ok(nodes.every((n) => !n.logs.some((l) => l.event === 'delivery.slots_lost')), 'no slot expired while held');
});
