// Writer time of the heavy API routes' store calls (rate30): replay of 10,000 events (as replay.mjs),
// suppressions added 10,000 (import's pages of 1,000), and the write queued right after each.
import { pino } from 'pino';
import fs from 'node:fs/promises'; import os from 'node:os'; import path from 'node:path';
import { configSchema } from '../../../dist/src/config/schema.js';
import { openStore } from '../../../dist/src/store/open-store.js';
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rate30-heavy-'));
const store = await openStore(configSchema.parse({ hostname: 'relay.test', dataDir: dir }), pino({ level: 'silent' }), 'admin'); await store.open();
await store.addAccount({ name: 'evil', createdAt: Date.now(), limits: {} });
const events = [];
for (let k = 0; k < 10; k++) events.push(...await store.appendEvents(Array.from({ length: 1000 }, (_, i) => ({ at: Date.now(), account: 'evil', type: 'opened', messageId: null, recipient: `r${i}@x.test`, data: {} }))));
await store.addWebhook({ id: 'wh_1', account: 'evil', url: 'https://x.example/h', events: [], secret: 's', enabled: true, createdAt: 0, disabledAt: null, disabledReason: null });
const probe = async (t1) => { await store.appendEvents([{ at: Date.now(), account: 'evil', type: 'opened', messageId: null, recipient: null, data: {} }]); return Math.round(performance.now() - t1); };
for (const k of [1, 2, 3]) {
  const t0 = performance.now();
  const n = await store.replayWebhookEvents('evil', 'wh_1', events.map((e) => e.seq), Date.now());
  const t1 = performance.now();
  console.log(`replay of ${n}: ${Math.round(t1 - t0)} ms (${((t1 - t0) * 1000 / n).toFixed(1)} µs/row); next write waited ${await probe(t1)} ms`);
}
for (const k of [1, 2, 3]) {
  const t0 = performance.now(); let added = 0;
  for (let p = 0; p < 10; p++) added += await store.addSuppressions(Array.from({ length: 1000 }, (_, i) => ({ account: 'evil', address: `s${k}-${p}-${i}@x.test`, scope: 'all', reason: 'manual', source: 'import', messageId: null, detail: null, createdAt: Date.now() })));
  const t1 = performance.now();
  console.log(`suppressions added ${added} (10 pages): ${Math.round(t1 - t0)} ms (${((t1 - t0) * 1000 / added).toFixed(1)} µs/row); next write waited ${await probe(t1)} ms`);
}
for (const k of [1, 2]) {
  const t0 = performance.now(); let n = 0; let after;
  for (;;) { const page = await store.listSuppressions({ account: 'evil', limit: 1000, ...(after ? { after } : {}) }); n += page.length; if (page.length < 1000) break; after = page[page.length - 1]; }
  console.log(`export read of ${n} suppressions: ${Math.round(performance.now() - t0)} ms`);
}
await store.close(); await fs.rm(dir, { recursive: true, force: true });
