// Two relay nodes on one PostgreSQL database (storage.url): mail accepted by either node is
// delivered exactly once in the normal case, by whichever node claims it. Needs the PostgreSQL
// server on 127.0.0.1:5432 (PL_TEST_PG_URL); skipped without it, except under CI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const MESSAGES = 40;
const skip = await skipUnless(TOOLS.postgres);

test('two nodes on one PostgreSQL queue: every message delivered exactly once', { skip }, async (t) => {
  const url = await freshDatabase(t);
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'cluster.test': { MX: [{ exchange: 'mx.cluster.test', priority: 10 }] }, 'mx.cluster.test': { A: ['127.0.0.2'] } });
  const config = {
    storage: { url },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms' },
  };
  const nodes = [await RelayProcess.create(config), await RelayProcess.create(config)];
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
    await mx.close(); await dns.close();
  });
  // A user added through node A's CLI exists for node B too: it is in the shared database.
  assert.equal((await nodes[0]!.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'cluster.test'])).code, 0);
  await Promise.all(nodes.map((n) => n.start()));

  const subs = nodes.map((n) => new Submitter({ port: n.port('submission'), user: 'app', pass: 'app-password' }));
  for (let i = 0; i < MESSAGES; i++) {
    await subs[i % 2]!.send('app@cluster.test', [`r${i}@cluster.test`], `Subject: n${i}\r\nX-Seq: ${i}\r\n\r\nseq ${i}\r\n`);
  }
  subs.forEach((s) => s.close());
  await eventually(() => mx.messages.length >= MESSAGES, 30_000);
  // Every recipient is final (the queue lists nothing): no copy is still on its way.
  await eventually(async () => (JSON.parse((await nodes[0]!.cli(['queue', 'list', '--json'])).stdout) as unknown[]).length === 0, 30_000, 200);
  const seqs = mx.messages.map((m) => Number(/X-Seq: (\d+)/.exec(m.body.toString())?.[1]));
  assert.equal(seqs.length, MESSAGES, 'no duplicates');
  assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), Array.from({ length: MESSAGES }, (_, i) => i));
  const status = JSON.parse((await nodes[1]!.cli(['cluster', 'status', '--json'])).stdout) as { nodes: { nodeId: string; up: boolean }[]; queue: { delivered: number } };
  assert.equal(status.nodes.filter((n) => n.up).length, 2, 'cluster status shows both nodes up');
  assert.equal(status.queue.delivered, MESSAGES);
  const deliveredBy = nodes.map((n) => n.logs.filter((l) => l.event === 'delivery.delivered').length);
  t.diagnostic(`deliveries per node: ${deliveredBy.join(', ')}`);
  assert.equal(deliveredBy[0]! + deliveredBy[1]!, MESSAGES);
});

test('kill -9 a node holding leases: the other node delivers its work after the lease expires', { skip }, async (t) => {
  const url = await freshDatabase(t);
  const dns = await startDnsServer();
  // After the first message, the MX holds each DATA answer until node A is dead: A cannot finish
  // all the work before the kill, however fast or slow the machine (the held copies are recorded
  // when released, as duplicates a crash may make).
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const mx = await startReceiver({ host: '127.0.0.2', port: 0, behaviour: { holdData: () => (mx.messages.length >= 1 ? gate : Promise.resolve()) } });
  dns.setZone({ 'takeover.test': { MX: [{ exchange: 'mx.takeover.test', priority: 10 }] }, 'mx.takeover.test': { A: ['127.0.0.2'] } });
  const config = {
    storage: { url },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms', leaseTime: '2s', maxConnectionsPerDestination: 2 },
  };
  const a = await RelayProcess.create(config);
  const b = await RelayProcess.create(config);
  t.after(async () => { release(); await a.cleanup(); await b.cleanup(); await mx.close(); await dns.close(); });
  assert.equal((await a.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'takeover.test'])).code, 0);
  await a.start();
  const sub = new Submitter({ port: a.port('submission'), user: 'app', pass: 'app-password' });
  for (let i = 0; i < MESSAGES; i++) {
    await sub.send('app@takeover.test', [`r${i}@takeover.test`], `Subject: t${i}\r\nX-Seq: ${i}\r\n\r\nseq ${i}\r\n`);
  }
  sub.close();
  await eventually(() => mx.messages.length >= 1, 15_000, 5);
  await a.stop('SIGKILL'); // node A dies with deliveries leased and in flight
  const deliveredByA = mx.messages.length;
  release();
  await b.start();
  const seqs = () => mx.messages.map((m) => Number(/X-Seq: (\d+)/.exec(m.body.toString())?.[1]));
  await eventually(() => new Set(seqs()).size === MESSAGES, 45_000, 100);
  const duplicates = seqs().length - new Set(seqs()).size;
  t.diagnostic(`delivered before the kill ${deliveredByA}, by node B ${b.logs.filter((l) => l.event === 'delivery.delivered').length}, duplicates ${duplicates}, lost 0`);
  assert.ok(b.logs.some((l) => l.event === 'delivery.delivered'), 'node B took the work over');
});
