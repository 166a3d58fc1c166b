// End to end on PostgreSQL: two relay nodes on one database share one webhook. Mail accepted by
// either node produces events that reach a local receiver exactly as stored, signed, with the
// events of each message in order and never two POSTs of that webhook in flight at once (one
// leased batch per webhook across nodes). Needs the PostgreSQL server on 127.0.0.1:5432
// (PL_TEST_PG_URL); skipped without it, except under CI.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { PythonWebhookVerifier } from '../helpers/webhook-verifiers.js';

const skip = await skipUnless(TOOLS.postgres, TOOLS.python3);
const PASSWORD = 'correct horse battery';

interface HookEvent { id: string; type: string; message_id: string | null; recipient: string | null }

test('two nodes on one PostgreSQL database: one webhook, every event once in order per message, one POST in flight', { skip }, async (t) => {
  const url = await freshDatabase(t);
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', tls: false, behaviour: { rcpt: (a) => (a.startsWith('nobody-') ? { code: 550, message: '5.1.1 No such user' } : null) } });
  dns.setZone({ 'example.net': { MX: [{ exchange: 'mx.example.net', priority: 10 }] }, 'mx.example.net': { A: ['127.0.0.2'] } });
  let secret = '';
  const received: HookEvent[] = [];
  let open = 0, maxOpen = 0, bad = 0;
  // Every POST is verified by python3 (documented recipe + Standard Webhooks), not by our code.
  const verifier = await PythonWebhookVerifier.start();
  t.after(() => verifier.close());
  const server = http.createServer((req, res) => {
    open++; maxOpen = Math.max(maxOpen, open);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const verdict = await verifier.verify(secret, req.headers, raw);
      if (!verdict.postlane || !verdict.standard) bad++;
      await new Promise((r) => setTimeout(r, 30)); // slow enough that a second POST would overlap
      received.push(...(JSON.parse(raw.toString()) as { events: HookEvent[] }).events);
      open--;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const config = {
    storage: { url },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms' },
    webhooks: { pollInterval: '100ms', batchSize: 5, allowPrivateDestinations: true },
  };
  const nodes = [await RelayProcess.create(config), await RelayProcess.create(config)];
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
    server.closeAllConnections();
    server.close();
    await Promise.all([mx.close(), dns.close()]);
  });
  assert.equal((await nodes[0]!.cli(['users', 'add', 'alice', '--domain', 'example.com'], PASSWORD + '\n')).code, 0);
  const add = await nodes[0]!.cli(['webhooks', 'add', '--url', `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, '--json']);
  assert.equal(add.code, 0, add.stderr);
  secret = (JSON.parse(add.stdout) as { secret: string }).secret;
  const key = await nodes[0]!.cli(['keys', 'create', '--account', 'default', '--scope', 'read']);
  assert.equal(key.code, 0, key.stderr);
  for (const n of nodes) await n.start();

  const ids: string[] = [];
  for (const [i, n] of nodes.entries()) {
    const sub = new Submitter({ port: n.port('submission'), user: 'alice', pass: PASSWORD });
    for (let j = 0; j < 10; j++) {
      const rcpts = [`a${i}-${j}@example.net`, `nobody-${i}-${j}@example.net`];
      ids.push(queueIdOf(await sub.send('alice@example.com', rcpts, `Subject: ${i}-${j}\r\n\r\nbody\r\n`))!);
    }
    sub.close();
  }
  // accepted ×2, delivered, bounced per message.
  await eventually(() => ids.every((id) => received.filter((e) => e.message_id === id).length >= 4), 60_000, 100);
  const res = await fetch(`http://127.0.0.1:${nodes[1]!.port('http')}/v1/events?limit=1000`, { headers: { authorization: `Bearer ${key.stdout.trim()}` } });
  assert.equal(res.status, 200);
  const stored = ((await res.json()) as { data: HookEvent[] }).data;
  const got = new Map<string, number>();
  for (const e of received) got.set(e.id, (got.get(e.id) ?? 0) + 1);
  for (const e of stored) assert.ok(got.has(e.id), `event ${e.id} (${e.type}) arrived`);
  t.diagnostic(`${stored.length} stored, ${received.length} received, ${[...got.values()].filter((n) => n > 1).length} duplicates, max ${maxOpen} POST(s) at once`);
  assert.equal(bad, 0, 'every signature verifies');
  assert.equal(maxOpen, 1, 'one batch of the webhook in flight at a time, across both nodes');
  for (const id of ids) {
    const seqs = received.filter((e) => e.message_id === id).map((e) => Number(e.id.slice(3)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `events of ${id} in order`);
  }
});
