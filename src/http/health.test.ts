// /readyz as a table over what the store says, without sockets (fastify inject): ready; degraded
// (200) while writes are slow, also when the read probe times out behind a slow write; 503 when
// writes fail, when a write is stuck, or when the store does not answer and is not busy writing.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import type { WriteCheck } from '../store/store.js';
import { mountHealthRoutes, STUCK_WRITE_MS } from './health.js';

const never = () => new Promise<number | null>(() => undefined);
const cases: { name: string; read: () => Promise<number | null>; check: WriteCheck; status: number; body: string }[] = [
  { name: 'fast', read: async () => null, check: { writable: true, reason: null }, status: 200, body: 'ready' },
  { name: 'slow writes', read: async () => null, check: { writable: true, reason: 'slow', slow: { pendingMs: 0, slowestMs: 4_000 } }, status: 200, body: 'degraded' },
  { name: 'read stuck behind a slow write', read: never, check: { writable: true, reason: 'slow', slow: { pendingMs: 2_500, slowestMs: 2_500 } }, status: 200, body: 'degraded' },
  { name: 'a write stuck', read: async () => null, check: { writable: true, reason: 'slow', slow: { pendingMs: STUCK_WRITE_MS, slowestMs: STUCK_WRITE_MS } }, status: 503, body: 'unavailable' },
  { name: 'no answer, not writing', read: never, check: { writable: true, reason: null }, status: 503, body: 'unavailable' },
  { name: 'read fails', read: async () => { throw new Error('down'); }, check: { writable: true, reason: null }, status: 503, body: 'unavailable' },
  { name: 'writes fail', read: async () => null, check: { writable: false, reason: 'disk full' }, status: 503, body: 'unavailable' },
];

it('/readyz: ready, degraded while slow, unavailable when writes fail or hang', { timeout: 30_000 }, async () => {
  for (const c of cases) {
    const app = Fastify();
    mountHealthRoutes(app, { nextDueAt: c.read, checkWritable: async () => c.check });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, c.status, c.name);
    assert.equal((res.json() as { status: string }).status, c.body, c.name);
    await app.close();
  }
});
