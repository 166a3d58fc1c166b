// Webhook DNS rebinding by name, end to end: the relay (default webhooks.allowPrivateDestinations:
// false) resolves webhook hosts through its configured dns.servers (the test DNS server). A tenant
// creates a webhook whose host name resolves to a public address; the name is then re-pointed at
// 127.0.0.1, where a live HTTP receiver listens. The POST must be refused at connect time (the
// attempt fails with ERR_WEBHOOK_DESTINATION and is retried like any failure): the receiver never
// gets a request, although it answers anyone who reaches it.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';
import { call } from '../helpers/api-fixture.js';

const HOOK_HOST = 'hooks.rebind.test';
const PUBLIC_ADDRESS = '93.184.215.14';

test('a webhook host re-pointed from a public address to 127.0.0.1 is refused at connect time', { timeout: 120_000 }, async (t) => {
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  const posts: string[] = [];
  const receiver = http.createServer((req, res) => { posts.push(`${req.method} ${req.url}`); req.resume(); res.writeHead(200).end(); });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  dns.setZone({
    'example.net': { MX: [{ exchange: 'mx.example.net', priority: 10 }] }, 'mx.example.net': { A: ['127.0.0.2'] },
    [HOOK_HOST]: { A: [PUBLIC_ADDRESS] },
  });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`], timeout: '2s' },
    delivery: { port: mx.port, pollInterval: '200ms' },
    webhooks: { pollInterval: '200ms', timeout: '2s' },
  });
  t.after(async () => {
    await relay.cleanup();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await mx.close(); await dns.close();
  });
  assert.equal((await relay.cli(['users', 'add', 'alice', '--domain', 'example.com', '--password', 'alice-password'])).code, 0);
  const admin = (await relay.cli(['keys', 'create', '--account', 'default', '--scope', 'admin,read'])).stdout.trim();
  await relay.start();
  const api = `http://127.0.0.1:${relay.port('http')}`;

  // Creation: a host name (public in DNS now) is accepted; a literal loopback URL is not.
  const url = `http://${HOOK_HOST}:${port}/hook`;
  const created = await call(api, 'POST', '/v1/webhooks', { token: admin, body: { url } });
  assert.equal(created.status, 201, created.text);
  const literal = await call(api, 'POST', '/v1/webhooks', { token: admin, body: { url: `http://127.0.0.1:${port}/hook` } });
  assert.equal(literal.status, 422, literal.text);

  // Rebinding: the same name now answers 127.0.0.1, where the receiver does answer.
  dns.set(HOOK_HOST, 'A', ['127.0.0.1']);
  assert.equal((await fetch(url.replace(HOOK_HOST, '127.0.0.1'), { method: 'POST', body: '{}' })).status, 200, 'the receiver is reachable');
  posts.length = 0;

  const queriesBefore = dns.queries.filter((q) => q.name === HOOK_HOST).length;
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'alice-password' });
  await sub.send('alice@example.com', ['bob@example.net'], 'Subject: rebinding\r\n\r\nevents for the webhook\r\n');
  sub.close();

  // The dispatcher tried, asked the configured DNS server at connect time, and was refused.
  const attempts = await eventually(async () => {
    const r = await relay.cli(['webhooks', 'attempts', created.body.id, '--json']);
    const list = JSON.parse(r.stdout) as { ok: boolean; status: number | null; error: string | null }[];
    return list.length > 0 ? list : null;
  }, 30_000, 200);
  assert.ok(attempts.every((a) => !a.ok && a.status === null), JSON.stringify(attempts));
  assert.match(attempts[0]!.error ?? '', /ERR_WEBHOOK_DESTINATION|not a public address/);
  assert.ok(dns.queries.filter((q) => q.name === HOOK_HOST).length > queriesBefore, 'the host was resolved through dns.servers when connecting');
  assert.deepEqual(posts, [], 'no request reached the rebound address');
  assert.ok(relay.logs.some((l) => l.event === 'webhook.failed' && l.webhookId === created.body.id));
});
