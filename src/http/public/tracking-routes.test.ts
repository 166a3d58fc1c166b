import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { pino } from 'pino';
import { fixedSecrets } from '../../events/secret-ring.js';
import { trackingToken, type TrackingRef } from '../../events/tracking-token.js';
import type { TrackingFetch } from '../../events/tracking.js';
import { PIXEL_GIF, trackingRoutes } from './tracking-routes.js';

const secrets = fixedSecrets(Buffer.alloc(32, 1));
const ref = { account: 'acme', messageId: '01JZ3K4M5N6P7Q8R9S0T', recipient: 'bob@dest.example' };
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';

async function app(o: { perMinute?: number; failing?: boolean } = {}) {
  const recorded: [TrackingRef, TrackingFetch][] = [];
  const recorder = { record: async (r: TrackingRef, f: TrackingFetch) => { if (o.failing) throw new Error('database down'); recorded.push([r, f]); return {} as never; } };
  const server = Fastify({ exposeHeadRoutes: false, maxParamLength: 2100 }); // as http/server.ts
  await server.register(async (scope) => trackingRoutes(scope, { recorder, secrets, clock: { now: () => 0 }, logger: pino({ level: 'silent' }), eventsPerIpPerMinute: o.perMinute ?? 100 }));
  return { server, recorded };
}

test('the pixel: a GIF nobody caches, one open recorded per GET, none per HEAD; a forged token is 404', async () => {
  const { server, recorded } = await app();
  const url = `/t/o/${trackingToken(secrets, { kind: 'open', ...ref })}.gif`;
  const got = await server.inject({ url, headers: { 'user-agent': UA }, remoteAddress: '198.51.100.7' });
  assert.equal(got.statusCode, 200);
  assert.equal(got.headers['content-type'], 'image/gif');
  assert.match(String(got.headers['cache-control']), /no-store/);
  assert.deepEqual(got.rawPayload, PIXEL_GIF);
  assert.equal((await server.inject({ method: 'HEAD', url })).statusCode, 200);
  assert.deepEqual(recorded, [[{ kind: 'open', ...ref }, { ip: '198.51.100.7', userAgent: UA }]]);
  for (const bad of [url.replace('.gif', '.png'), url.replace(/.(.{6})\.gif$/, 'A$1.gif'), `/t/o/${trackingToken(secrets, { kind: 'click', ...ref, url: 'https://a.example/' })}.gif`]) {
    assert.equal((await server.inject({ url: bad })).statusCode, 404, bad);
  }
  assert.equal(recorded.length, 1);
});

test('a link: 302 to the original URL without a referrer, one click per GET; tampered: 404 and no Location', async () => {
  const { server, recorded } = await app();
  const token = trackingToken(secrets, { kind: 'click', ...ref, url: 'https://shop.example/p?a=1&b=2' });
  const got = await server.inject({ url: `/t/c/${token}`, headers: { 'user-agent': UA } });
  assert.equal(got.statusCode, 302);
  assert.equal(got.headers.location, 'https://shop.example/p?a=1&b=2');
  assert.equal(got.headers['referrer-policy'], 'no-referrer');
  const head = await server.inject({ method: 'HEAD', url: `/t/c/${token}` });
  assert.equal(head.statusCode, 302);
  assert.equal(recorded.length, 1, 'HEAD records nothing');
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  const tampered = token.slice(0, -5) + flip(token.at(-5)!) + token.slice(-4);
  const bad = await server.inject({ url: `/t/c/${tampered}` });
  assert.deepEqual([bad.statusCode, bad.headers.location], [404, undefined]);
  const evil = Buffer.from(JSON.stringify({ k: 'c', ...{ a: 'acme', m: ref.messageId, r: ref.recipient }, u: 'https://evil.example/' })).toString('base64url');
  assert.equal((await server.inject({ url: `/t/c/${evil}.${token.split('.')[1]}` })).statusCode, 404, 'another URL under the same MAC');
});

test('past the per-address limit the GIF and redirects still work but nothing is recorded; a store failure never blocks the redirect', async () => {
  const { server, recorded } = await app({ perMinute: 3 });
  const token = trackingToken(secrets, { kind: 'click', ...ref, url: 'https://shop.example/' });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await server.inject({ url: `/t/c/${token}`, remoteAddress: '203.0.113.1' })).statusCode);
  await server.inject({ url: `/t/c/${token}`, remoteAddress: '203.0.113.2' });
  assert.deepEqual(statuses, [302, 302, 302, 302, 302]);
  assert.deepEqual(recorded.map(([, f]) => f.ip), ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2']);
  const down = await app({ failing: true });
  const res = await down.server.inject({ url: `/t/c/${token}` });
  assert.deepEqual([res.statusCode, res.headers.location], [302, 'https://shop.example/']);
});
