// Attack pass, thirtieth session: a tenant's webhook servers as a tarpit. Webhook POSTs share
// webhooks.concurrency slots per node; a tenant that points a dozen webhooks at a server that
// accepts and never answers held every slot for webhooks.timeout, batch after batch, and another
// tenant's events waited behind all of them (here 4 slots, 12 tarpit webhooks, a 3 s timeout: 6 s
// and more; with the default 10 slots, 10 s and a few hundred webhooks, minutes). Now one account
// has at most webhooks.concurrencyPerAccount POSTs in flight (default 3): the tarpit never sees
// more than that at once, and the other tenant's event arrives within a poll.
// Over real sockets: a relay process, a raw TCP tarpit on 127.0.62.1, an honest receiver on 127.0.62.2.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';

const TIMEOUT_MS = 3000;

/**
 * Accepts connections, reads what comes and never answers; counts the sockets open at once. A
 * count is taken 250 ms after each accept, not at it: the relay's POST that timed out has closed
 * its socket before the next one connects, but under load this process may see the new connection
 * before the old one's end (each tarpit POST is held for the whole 3 s timeout, so a fourth held
 * at once would still be counted).
 */
async function startTarpit(host: string) {
  const sockets = new Set<net.Socket>();
  let maxOpen = 0;
  let accepted = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    const count = setTimeout(() => { timers.delete(count); maxOpen = Math.max(maxOpen, sockets.size); }, 250);
    timers.add(count);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('end', () => sockets.delete(s));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: (path: string) => `http://${host}:${(server.address() as AddressInfo).port}/${path}`,
    get open() { return sockets.size; }, get maxOpen() { return maxOpen; }, get accepted() { return accepted; },
    close: () => new Promise<void>((resolve) => { for (const c of timers) clearTimeout(c); for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** Answers 200 at once; keeps the message ids of the events received and when. */
async function startReceiver(host: string) {
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: { message_id: string | null }[] };
      for (const e of body.events) if (e.message_id && !seen.has(e.message_id)) seen.set(e.message_id, Date.now());
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/hook`, seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

test('a tenant\'s tarpit webhooks hold at most webhooks.concurrencyPerAccount slots; another tenant\'s events still go out', async (t) => {
  const tarpit = await startTarpit('127.0.62.1');
  const receiver = await startReceiver('127.0.62.2');
  // No DNS for the recipients: messages stay queued; their accepted events are all this needs.
  const relay = await RelayProcess.create({
    dns: { servers: ['127.0.0.1:9'] },
    webhooks: { allowPrivateDestinations: true, concurrency: 4, timeout: `${TIMEOUT_MS}ms`, pollInterval: '200ms' },
  });
  t.after(async () => { await relay.cleanup(); await tarpit.close(); await receiver.close(); });
  const evil = await seedRelayTenant(relay, { account: 'evil', domains: ['evil.test'], keys: { admin: ['admin'] } });
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { admin: ['admin'] } });
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const as = (token: string) => (method: string, path: string, body?: unknown) => call(base, method, path, { token, body });
  const asEvil = as(evil.tokens.admin!);
  const asAcme = as(acme.tokens.admin!);

  for (let i = 0; i < 12; i++) {
    const r = await asEvil('POST', '/v1/webhooks', { url: tarpit.url(`hook${i}`), events: ['accepted'] });
    assert.equal(r.status, 201, r.text);
  }
  assert.equal((await asAcme('POST', '/v1/webhooks', { url: receiver.url, events: ['accepted'] })).status, 201);

  // evil's event first: its twelve deliveries are due before acme's.
  assert.equal((await asEvil('POST', '/v1/messages', { from: 'a@evil.test', to: ['x@far.test'], subject: 's', text: 'x' })).status, 202);
  await eventually(async () => (tarpit.open >= 3 ? true : null));
  await new Promise((r) => setTimeout(r, 600)); // a few polls: a fourth slot would be taken by now
  const sentAt = Date.now();
  const sent = await asAcme('POST', '/v1/messages', { from: 'a@acme.test', to: ['y@far.test'], subject: 's', text: 'y' });
  assert.equal(sent.status, 202, sent.text);
  const arrivedAt = await eventually(async () => receiver.seen.get(sent.body.id) ?? null, 20_000);
  const waited = arrivedAt - sentAt;
  assert.ok(tarpit.maxOpen <= 3, `the tarpit held ${tarpit.maxOpen} POSTs at once (webhooks.concurrencyPerAccount: 3)`);
  assert.ok(waited < TIMEOUT_MS - 500, `acme's event waited ${waited} ms behind evil's tarpit (timeout ${TIMEOUT_MS} ms)`);
  // The tarpit is still served, within its share: its POSTs time out and are retried with backoff.
  await eventually(async () => (tarpit.accepted >= 6 ? true : null), 15_000);
  assert.ok(tarpit.maxOpen <= 3);
});

// Every event is queued once per webhook of its account, in the transaction that writes it (the
// outbox): with 2,000 webhooks, 100 events held the SQLite writer 0.8-2 s, growing with the
// outbox (bench/results/20261208-0055-attack30-scripts/fanout.mjs), and every ingress and delivery
// write of every tenant waited. The API now lets an account have webhooks.maxPerAccount (20), also
// against parallel creations (counted in the same transaction).
test('an account creates at most webhooks.maxPerAccount webhooks through the API, also in parallel', async (t) => {
  const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] }, webhooks: { allowPrivateDestinations: true, maxPerAccount: 5 } });
  t.after(() => relay.cleanup());
  const evil = await seedRelayTenant(relay, { account: 'evil', domains: ['evil.test'], keys: { admin: ['admin'] } });
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { admin: ['admin'] } });
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const create = (token: string, i: number) => call(base, 'POST', '/v1/webhooks', { token, body: { url: `http://127.0.62.9:9/h${i}` } });
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => create(evil.tokens.admin!, i)));
  assert.deepEqual(answers.map((a) => a.status).sort(), [...Array(5).fill(201), ...Array(15).fill(409)]);
  const refused = answers.find((a) => a.status === 409)!;
  assert.equal(refused.body.error.code, 'webhook_limit');
  assert.equal((await call(base, 'GET', '/v1/webhooks', { token: evil.tokens.admin! })).body.data.length, 5);
  assert.equal((await create(acme.tokens.admin!, 0)).status, 201, 'another account is not counted against it');
  // Removing one makes room for one.
  const first = answers.find((a) => a.status === 201)!.body.id as string;
  assert.equal((await call(base, 'DELETE', `/v1/webhooks/${first}`, { token: evil.tokens.admin! })).status, 204);
  assert.equal((await create(evil.tokens.admin!, 99)).status, 201);
  assert.equal((await create(evil.tokens.admin!, 100)).status, 409);
});
