// Attack pass, thirtieth session: a tenant's webhook server answers as badly as it can. Raw TCP
// servers on 127.0.62.x script the answers: an endless 200 or 500 body, a body or headers dripped a
// byte at a time, a 1 MB header, a redirect to another local service, a TLS handshake that never
// completes. Each attempt ends within webhooks.timeout (2 s here) or at once, keeps at most 300
// characters of the answer, follows no redirect, and the relay stays up. All held; kept because
// each bound is one line of webhooks.ts (discard/readSome, redirect: 'manual', the AbortSignal)
// that a refactor of the POST could lose. Over real sockets to a relay process.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';

const TIMEOUT_MS = 2000;

/** A TCP server that reads the request head, then runs `answer` on the socket. */
async function scripted(host: string, answer: (s: net.Socket) => void) {
  let hits = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.on('data', () => undefined);
      hits++;
      answer(s);
    };
    s.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port, get hits() { return hits; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** Writes `chunk` every `ms` while the socket is open. */
const every = (s: net.Socket, ms: number, chunk: () => string) => {
  const timer = setInterval(() => { if (s.writable) s.write(chunk()); else clearInterval(timer); }, ms);
  s.on('close', () => clearInterval(timer));
};
const flood = (s: net.Socket) => { const block = 'x'.repeat(64 * 1024); const pump = () => { while (s.writable && s.write(block)); }; s.on('drain', pump); pump(); };

test('a hostile webhook server holds no attempt past webhooks.timeout, and what is kept of its answer is bounded', async (t) => {
  const servers = {
    endless200: await scripted('127.0.62.1', (s) => { s.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n'); flood(s); }),
    endless500: await scripted('127.0.62.1', (s) => { s.write('HTTP/1.1 500 Oops\r\ncontent-type: text/plain\r\n\r\n'); flood(s); }),
    dripBody500: await scripted('127.0.62.1', (s) => { s.write('HTTP/1.1 503 Busy\r\ncontent-length: 100000\r\n\r\nw'); every(s, 100, () => 'w'); }),
    dripHeaders: await scripted('127.0.62.1', (s) => { s.write('HTTP/1.1 200 OK\r\n'); every(s, 100, () => 'X'); }),
    hugeHeader: await scripted('127.0.62.1', (s) => { s.write(`HTTP/1.1 200 OK\r\nx-big: ${'h'.repeat(1024 * 1024)}\r\n\r\n`); }),
    redirect: await scripted('127.0.62.1', (s) => { s.end('HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.62.2:9/internal\r\ncontent-length: 0\r\n\r\n'); }),
    tlsNever: await scripted('127.0.62.1', () => undefined), // https:// to it: the ClientHello is read, nothing answers
  };
  const internal = await scripted('127.0.62.2', (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  const relay = await RelayProcess.create({
    dns: { servers: ['127.0.0.1:9'] },
    webhooks: { allowPrivateDestinations: true, timeout: `${TIMEOUT_MS}ms`, pollInterval: '100ms', concurrency: 10, concurrencyPerAccount: 10 },
  });
  t.after(async () => { await relay.cleanup(); for (const s of [...Object.values(servers), internal]) await s.close(); });
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { admin: ['admin'] } });
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const api = (method: string, path: string, body?: unknown) => call(base, method, path, { token: acme.tokens.admin!, body });

  const hooks: Record<string, string> = {};
  for (const [name, s] of Object.entries(servers)) {
    const url = name === 'tlsNever' ? `https://127.0.62.1:${s.port}/hook` : name === 'redirect' ? `http://127.0.62.1:${s.port}/hook` : `http://127.0.62.1:${s.port}/${name}`;
    const r = await api('POST', '/v1/webhooks', { url, events: ['accepted'] });
    assert.equal(r.status, 201, r.text);
    hooks[name] = r.body.id;
  }
  assert.equal((await api('POST', '/v1/messages', { from: 'a@acme.test', to: ['x@far.test'], subject: 's', text: 'x' })).status, 202);

  const first = async (name: string) => eventually(async () => {
    const r = await api('GET', `/v1/webhooks/${hooks[name]}/attempts`);
    return r.body.data.length > 0 ? (r.body.data.at(-1) as { ok: boolean; status: number | null; error: string | null; duration_ms: number }) : null;
  }, 15_000);
  const results = Object.fromEntries(await Promise.all(Object.keys(servers).map(async (name) => [name, await first(name)] as const)));
  for (const [name, a] of Object.entries(results)) {
    assert.ok(a.duration_ms <= TIMEOUT_MS + 1000, `${name}: ${a.duration_ms} ms`);
    assert.ok((a.error ?? '').length <= 320, `${name}: error of ${a.error?.length} characters`);
  }
  assert.equal(results.endless200!.ok, true, 'a 2xx body is not read');
  assert.ok(results.endless200!.duration_ms < TIMEOUT_MS, 'and not waited for');
  assert.match(results.endless500!.error!, /^HTTP 500: x{10}/);
  assert.ok(results.endless500!.duration_ms < TIMEOUT_MS);
  assert.match(results.dripBody500!.error!, /^HTTP 503/);
  assert.equal(results.dripHeaders!.error, 'timeout');
  assert.equal(results.hugeHeader!.ok, false);
  assert.equal(results.tlsNever!.error, 'timeout');
  assert.match(results.redirect!.error!, /^HTTP 307/);
  assert.equal(internal.hits, 0, 'the redirect is not followed');
  assert.equal((await call(base, 'GET', '/healthz')).status, 200, 'the relay is up');
});
