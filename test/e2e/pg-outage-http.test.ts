// The HTTP side of a database outage, end to end: a relay on a private PostgreSQL server
// (test/helpers/pg-instance.ts) whose server is stopped. While it is down, POST /v1/messages is
// answered 503 `unavailable` with Retry-After (never 2xx), /readyz is 503 on both listeners (the
// API's and the metrics listener) while /healthz stays 200; nothing sent during the outage is
// queued or delivered. Once the server is back, /readyz is 200 again and a send is accepted and
// delivered. Every step waits on the condition it needs, never on a fixed time.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PgInstance } from '../helpers/pg-instance.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { call } from '../helpers/api-fixture.js';
import { cliFixture } from '../helpers/cli-fixture.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const skip = await skipUnless(TOOLS.pgServerBinaries);

test('PostgreSQL stopped: HTTP sends get 503 + Retry-After and /readyz is 503; back up, both recover', { skip, timeout: 120_000 }, async (t) => {
  const pg = (await PgInstance.create())!;
  let relay: RelayProcess | null = null;
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  t.after(async () => { await relay?.cleanup(); await mx.close(); await dns.close(); await pg.cleanup(); });
  await pg.start();
  dns.setZone({ 'dest.test': { MX: [{ exchange: 'mx.dest.test', priority: 10 }] }, 'mx.dest.test': { A: ['127.0.0.2'] } });
  relay = await RelayProcess.create({
    storage: { url: pg.url(), connectTimeout: '2s' },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms' },
  });
  const token = await cliFixture(() => relay!).addTenant({ account: 'acme', domain: 'acme.test', key: { scope: 'send,read' } });
  await relay.start();
  const api = `http://127.0.0.1:${relay.port('http')}`;
  const metrics = `http://127.0.0.1:${relay.port('metrics')}`;
  const send = (marker: string) => call(api, 'POST', '/v1/messages', { token, body: { from: 'app@acme.test', to: ['bob@dest.test'], subject: marker, text: marker } });
  const bodyHas = (marker: string) => mx.messages.some((m) => m.body.toString().includes(marker));

  // Up: ready, and a send is accepted and delivered (the key works, the path is sound).
  assert.equal((await call(api, 'GET', '/readyz')).status, 200);
  const first = await send('before-outage');
  assert.equal(first.status, 202, first.text);
  await eventually(() => bodyHas('before-outage'), 30_000);

  await pg.stop('fast');
  // Down: /readyz turns 503 on both listeners; /healthz (the process) stays 200.
  for (const base of [api, metrics]) {
    const ready = await eventually(async () => { const r = await call(base, 'GET', '/readyz'); return r.status === 503 ? r : null; }, 30_000);
    assert.equal(ready.body?.status, 'unavailable', ready.text);
    assert.equal((await call(base, 'GET', '/healthz')).status, 200, `${base}/healthz`);
  }
  // A send is refused as a temporary failure, with Retry-After: several in a row, never a 2xx.
  const during: string[] = [];
  for (let i = 0; i < 3; i++) {
    const marker = `during-outage-${i}`;
    const r = await send(marker);
    during.push(marker);
    assert.equal(r.status, 503, `${marker}: ${r.status} ${r.text}`);
    assert.equal(r.body?.error?.code, 'unavailable', r.text);
    assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'Retry-After in seconds');
  }
  assert.equal((await call(api, 'GET', '/readyz')).status, 503, 'still not ready while the server is down');

  await pg.start();
  // Back: ready again, and sends are accepted and delivered.
  await eventually(async () => (await call(api, 'GET', '/readyz')).status === 200, 60_000, 200);
  await eventually(async () => (await call(metrics, 'GET', '/readyz')).status === 200, 60_000, 200);
  const after = await eventually(async () => { const r = await send('after-outage'); return r.status === 202 ? r : null; }, 60_000, 500);
  await eventually(() => bodyHas('after-outage'), 30_000);

  // Nothing refused with 503 was queued: the account's messages are exactly the accepted ones
  // (the API lists what was stored), and the MX never got a refused one.
  const list = await call(api, 'GET', '/v1/messages', { token });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.data.map((m: { id: string }) => m.id).sort(), [first.body.id, after.body.id].sort());
  assert.ok(!during.some(bodyHas), 'no message refused during the outage was delivered');
  assert.equal(relay.child?.exitCode ?? null, null, 'the relay kept running');
});
