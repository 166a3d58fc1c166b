// Attack pass, thirtieth session: slowloris on the API port. The listener had no request timeout
// (fastify's default, requestTimeout 0, no socket timeout): a POST whose headers promise 40 MB and
// whose body then comes a byte every second held its connection as long as the client kept
// dripping, with or without a valid key (an anonymous one was answered 401 at once, then Node read
// and discarded the rest of the body, forever). Connections cost file descriptors, shared with the
// SMTP listeners and delivery. Now the connection of a request answered 401 is closed when the rest
// of its body has not arrived 1 s after the answer, and a request must arrive within
// http.requestTimeout (5 min by default; 3 s here), else 408 and closed. Headers dripped are cut by Node's 60 s headersTimeout
// (checked every 5 s now, was 30 s). Over real sockets to a relay process.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RelayProcess } from '../helpers/relay-process.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';

const REQUEST_TIMEOUT_MS = 3000;

/** Sends `head`, then a byte every 500 ms; resolves with what came back and when the server closed. */
function drip(port: number, head: string): Promise<{ reply: string; closedAfterMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      s.write(head);
      timer = setInterval(() => { if (s.writable) s.write(' '); }, 500);
    });
    s.on('data', (d) => { reply += d.toString('latin1'); });
    s.on('error', () => undefined);
    s.on('close', () => { clearInterval(timer); resolve({ reply, closedAfterMs: Date.now() - started }); });
    // The test's own bound: a connection still open after 20 s is the defect.
    setTimeout(() => s.destroy(), 20_000).unref();
  });
}

const post = (token: string | null) => [
  'POST /v1/messages HTTP/1.1', 'Host: relay.test', 'Content-Type: application/json', 'Content-Length: 40000000',
  ...(token ? [`Authorization: Bearer ${token}`] : []), '', '{',
].join('\r\n');

test('a body dripped to the API holds no connection: anonymous 401 and closed, authenticated 408 at http.requestTimeout', async (t) => {
  const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] }, http: { requestTimeout: `${REQUEST_TIMEOUT_MS}ms` } });
  t.after(() => relay.cleanup());
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
  await relay.start();
  const port = relay.port('http');

  const [anonymous, forged, keyed] = await Promise.all([
    drip(port, post(null)),
    drip(port, post(`pl_${'0'.repeat(16)}_${'A'.repeat(43)}`)),
    drip(port, post(acme.tokens.send!)),
  ]);
  for (const [name, r] of [['no key', anonymous], ['a forged key', forged]] as const) {
    assert.match(r.reply, /^HTTP\/1\.1 401 /, name);
    assert.ok(r.closedAfterMs < 2500, `${name}: closed after ${r.closedAfterMs} ms`);
  }
  assert.match(keyed.reply, /^HTTP\/1\.1 408 /, keyed.reply.slice(0, 80));
  assert.ok(keyed.closedAfterMs >= REQUEST_TIMEOUT_MS - 100 && keyed.closedAfterMs < REQUEST_TIMEOUT_MS + 7000, `closed after ${keyed.closedAfterMs} ms`);

  // A whole request sent at once is unaffected, and a wrong key with a small body keeps its connection usable.
  const ok = await call(`http://127.0.0.1:${port}`, 'POST', '/v1/messages', { token: acme.tokens.send!, body: { from: 'a@acme.test', to: ['b@far.test'], subject: 's', text: 'x' } });
  assert.equal(ok.status, 202, ok.text);
  const wrong = await call(`http://127.0.0.1:${port}`, 'POST', '/v1/messages', { token: 'nope', body: { from: 'a@acme.test', to: ['b@far.test'], text: 'x' } });
  assert.equal(wrong.status, 401);
  assert.notEqual(wrong.headers.get('connection'), 'close');
});
