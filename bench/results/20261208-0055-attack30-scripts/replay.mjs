// How long one webhook replay of 10,000 events holds the SQLite writer (POST /v1/webhooks/:id/replay's maximum).
import { pino } from 'pino';
import fs from 'node:fs/promises'; import os from 'node:os'; import path from 'node:path';
import { configSchema } from '../../../dist/src/config/schema.js';
import { openStore } from '../../../dist/src/store/open-store.js';
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'attack30-replay-'));
const store = await openStore(configSchema.parse({ hostname: 'relay.test', dataDir: dir }), pino({ level: 'silent' }), 'admin'); await store.open();
await store.addAccount({ name: 'evil', createdAt: Date.now(), limits: {} });
const events = [];
for (let k = 0; k < 10; k++) events.push(...await store.appendEvents(Array.from({ length: 1000 }, (_, i) => ({ at: Date.now(), account: 'evil', type: 'opened', messageId: null, recipient: `r${i}@x.test`, data: {} }))));
await store.addWebhook({ id: 'wh_1', account: 'evil', url: 'https://x.example/h', events: [], secret: 's', enabled: true, createdAt: 0, disabledAt: null, disabledReason: null });
for (const k of [1, 2, 3]) {
  const t0 = performance.now();
  const n = await store.replayWebhookEvents('evil', 'wh_1', events.map((e) => e.seq), Date.now());
  const t1 = performance.now();
  await store.appendEvents([{ at: Date.now(), account: 'evil', type: 'opened', messageId: null, recipient: null, data: {} }]);
  console.log(`replay of ${n}: ${Math.round(t1 - t0)} ms; a write queued right after waited ${Math.round(performance.now() - t1)} ms`);
}
await store.close(); await fs.rm(dir, { recursive: true, force: true });
