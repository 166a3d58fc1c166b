// The listener itself: HTTPS with the relay's certificate, one http.request log line per request
// that names the key id and never carries the Authorization header, unknown routes as JSON 404s.
import test from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { Writable } from 'node:stream';
import { systemClock } from '../clock.js';
import { newApiKey } from '../accounts/api-keys.js';
import { createLogger } from '../events/log.js';
import { createSelfSigned } from '../tls/certificates.js';
import type { QueueStore } from '../store/store.js';
import { defineRoute } from './route.js';
import { startHttpApi } from './server.js';
import { z } from 'zod/v4';

function get(port: number, path: string, token: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    }).on('error', reject);
  });
}

test('HTTPS listener, request log lines without credentials, JSON 404', async () => {
  const { record, token } = newApiKey({ account: 'acme', scopes: ['read'], now: Date.now() });
  const store = {
    getApiKey: async (id: string) => (id === record.id ? record : null),
    touchApiKey: async () => undefined,
    nextDueAt: async () => null,
  } as unknown as QueueStore;
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString())); cb(); } });
  const logger = createLogger('info', sink);
  const routes = [defineRoute({
    method: 'GET', url: '/v1/ping', scope: 'read', tag: 'test', summary: 'ping', responses: { 200: { description: 'pong' } },
    handler: async (r) => ({ status: 200, body: { account: r.key.account, secure: r.secure, tls: r.tls?.protocol } }),
  })];
  const api = await startHttpApi({
    host: '127.0.0.1', port: 0, bodyLimit: 1000, trustProxy: false, tls: await createSelfSigned('relay.test'),
    store, routes, clock: systemClock, logger,
  });
  try {
    const ok = await get(api.address.port, '/v1/ping', token);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { account: 'acme', secure: true, tls: 'TLSv1.3' });
    const missing = await get(api.address.port, '/v1/nothing', token);
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).error.code, 'not_found');
    const refused = await get(api.address.port, '/v1/ping', 'pl_0123456789abcdef_not-a-key');
    assert.equal(refused.status, 401);
    for (const answer of [ok, missing, refused]) {
      // Answers and errors alike: never sniffed into HTML, framed or kept by a cache on the way.
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers['cache-control'], 'no-store');
      assert.equal(answer.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    }
    assert.equal((await get(api.address.port, '/metrics', token)).status, 404, '/metrics is never on the API listener');
    const logged = lines.filter((l) => l.event === 'http.request');
    assert.equal(logged.length, 4);
    assert.deepEqual({ ...logged[0], time: undefined, ms: undefined, pid: undefined, hostname: undefined }, {
      level: 30, svc: 'postlane', event: 'http.request', method: 'GET', route: '/v1/ping', path: '/v1/ping', status: 200,
      ip: '127.0.0.1', account: 'acme', keyId: record.id, msg: 'http request', time: undefined, ms: undefined, pid: undefined, hostname: undefined,
    });
    assert.ok(!JSON.stringify(lines).includes(token.slice(20)), 'the secret never reaches the log');
  } finally {
    await api.close();
  }
});

test('the API takes JSON only: text/plain and other bodies are 415, as docs/api.md says', async () => {
  const { record, token } = newApiKey({ account: 'acme', scopes: ['send'], now: Date.now() });
  const store = { getApiKey: async (id: string) => (id === record.id ? record : null), touchApiKey: async () => undefined } as unknown as QueueStore;
  const routes = [defineRoute({
    method: 'POST', url: '/v1/echo', scope: 'send', tag: 'test', summary: 'echo', body: z.object({ text: z.string() }).strict(),
    responses: { 200: { description: 'the text' } },
    handler: async (r) => ({ status: 200, body: { text: r.body.text } }),
  })];
  const api = await startHttpApi({ host: '127.0.0.1', port: 0, bodyLimit: 1000, trustProxy: false, store, routes, clock: systemClock, logger: createLogger('silent') });
  const post = async (contentType: string, body: string) => {
    const res = await fetch(`http://127.0.0.1:${api.address.port}/v1/echo`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
    return { status: res.status, body: await res.json() as { text?: string; error?: { code: string; message: string } } };
  };
  try {
    const plain = await post('text/plain', '{"text":"hi"}');
    assert.equal(plain.status, 415);
    assert.deepEqual(plain.body.error, { code: 'unsupported_media_type', message: 'Send JSON: Content-Type: application/json' });
    assert.equal((await post('text/plain; charset=utf-8', 'hello')).status, 415);
    assert.equal((await post('application/x-www-form-urlencoded', 'text=hi')).status, 415);
    assert.deepEqual(await post('application/json', '{"text":"hi"}'), { status: 200, body: { text: 'hi' } });
  } finally {
    await api.close();
  }
});
