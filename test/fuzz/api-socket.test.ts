// The API fuzz target's inputs over real HTTP, a smaller run than the direct one (fuzz.test.ts,
// bench/fuzz.ts): an in-process server on a socket with a SQLite store in a temp dir, a few
// hundred generated bodies from a fixed seed to POST /v1/messages and /v1/messages/raw. Every
// answer is 202 with an id or a 4xx {"error":{code,message}} (422 with fields) — never a 5xx, a
// hang or a dropped connection.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { MessageSigner } from '../../src/domains/message-signer.js';
import { fixedSecrets } from '../../src/events/secret-ring.js';
import { startApi } from '../../src/http/index.js';
import { openStore } from '../../src/store/open-store.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { apiTarget } from './targets/api-json.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);

test(`fuzz api-json over HTTP: 300 bodies (seed ${SEED})`, { timeout: 120_000 }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-fuzz-api-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { port: 0 } });
  const logger = pino({ level: 'silent' });
  const store = await openStore(config, logger, 'relay');
  await store.open();
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, onQueued: () => {}, bounceSecrets: fixedSecrets() }))!;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });
  const base = `http://127.0.0.1:${api.address.port}`;

  const statuses = new Map<number, number>();
  for (const input of fc.sample(apiTarget.arbitrary, { seed: SEED, numRuns: 300 })) {
    const r = await call(base, 'POST', input.raw ? '/v1/messages/raw' : '/v1/messages', { token: acme.tokens.send, body: input.body });
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    const what = `${r.status} for ${JSON.stringify(input).slice(0, 500)}: ${r.text.slice(0, 300)}`;
    if (r.status === 202) { assert.equal(typeof r.body.id, 'string', what); continue; }
    assert.ok(r.status >= 400 && r.status < 500, what);
    assert.ok(typeof r.body?.error?.code === 'string' && typeof r.body.error.message === 'string', what);
    if (r.status === 422) assert.ok(Array.isArray(r.body.error.fields) && r.body.error.fields.length > 0, what);
  }
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok((statuses.get(202) ?? 0) > 0, `some were accepted: ${JSON.stringify([...statuses])}`);
});
