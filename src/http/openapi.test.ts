// The OpenAPI document lists exactly the routes fastify registered (method + path), each API
// route with its scope and schemas, and it is valid JSON with resolvable component refs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { systemClock } from '../clock.js';
import { configSchema } from '../config/schema.js';
import { HttpSubmission } from '../ingress/http/submission.js';
import type { QueueStore } from '../store/store.js';
import { apiRoutes } from './route-table.js';
import { HeavyWork } from './heavy-work.js';
import { startHttpApi } from './server.js';

test('/openapi.json documents every registered route, and only those', async () => {
  const config = configSchema.parse({});
  const store = { nextDueAt: async () => null } as unknown as QueueStore;
  const logger = pino({ level: 'silent' });
  const submission = new HttpSubmission({ store, hostname: 'relay.test', clock: systemClock, logger, quota: { charge: async () => ({ ok: true }) }, maxMessageSize: 1000 });
  const routes = apiRoutes({ store, submission, clock: systemClock, hostname: 'relay.test', domains: config.domains, allowPrivateWebhooks: false, maxWebhooksPerAccount: 20, verifier: { verify: async () => [], take: () => ({ ok: true }) }, heavyWork: new HeavyWork(1000, systemClock), dnsResolver: { resolveTxt: async () => [], resolveCname: async () => [] }, certificatePem: null, composeLimits: { maxRecipients: 10, maxLineLength: 1000, maxScheduleAheadMs: 1000 }, egress: config });
  const api = await startHttpApi({
    host: '127.0.0.1', port: 0, bodyLimit: 1000, trustProxy: false, store, routes, clock: systemClock, logger,
  });
  try {
    const res = await fetch(`http://127.0.0.1:${api.address.port}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = JSON.parse(await res.text()) as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; 'x-scope'?: string }>>; components: { schemas: Record<string, unknown> } };
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const served = api.registered.map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`).sort();
    assert.deepEqual(documented, served);
    for (const expected of ['POST /v1/messages', 'POST /v1/messages/raw', 'POST /v1/messages/batch', 'GET /v1/messages/{id}', 'GET /v1/messages',
      'GET /v1/events', 'GET /v1/keys', 'POST /v1/keys', 'DELETE /v1/keys/{id}', 'GET /v1/webhooks', 'POST /v1/webhooks', 'GET /v1/webhooks/{id}',
      'DELETE /v1/webhooks/{id}', 'POST /v1/webhooks/{id}/enable', 'GET /v1/webhooks/{id}/attempts', 'GET /v1/domains', 'GET /v1/domains/{name}', 'POST /v1/verify',
      'GET /v1/sources', 'POST /v1/sources', 'POST /v1/sources/{name}/drain', 'POST /v1/sources/{name}/pause', 'POST /v1/sources/{name}/resume',
      'GET /healthz', 'GET /readyz', 'GET /openapi.json']) assert.ok(documented.includes(expected), expected);
    assert.ok(!documented.includes('GET /metrics'), '/metrics has a listener of its own');
    // Path parameters are declared; every $ref resolves to a component.
    assert.deepEqual(doc.paths['/v1/messages/{id}']!.get!.parameters!.filter((p) => p.in === 'path').map((p) => p.name), ['id']);
    assert.equal(doc.paths['/v1/keys']!.post!['x-scope'], 'admin');
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => (o as { operationId: string }).operationId));
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(refs.includes('SendMessageRequest') && refs.includes('Error'));
    for (const r of refs) assert.ok(doc.components.schemas[r], `component ${r}`);
    assert.doesNotMatch(JSON.stringify(doc), /#\/\$defs\//);
    // The send schema refuses unknown fields, as the route does.
    assert.equal((doc.components.schemas.SendMessageRequest as { additionalProperties: boolean }).additionalProperties, false);
  } finally {
    await api.close();
  }
});
