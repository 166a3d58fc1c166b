import { pino } from 'pino';
import fs from 'node:fs/promises'; import os from 'node:os'; import path from 'node:path';
import { configSchema } from '../../../dist/src/config/schema.js';
import { openStore } from '../../../dist/src/store/open-store.js';
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'attack30-fanout-'));
const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir });
const store = await openStore(config, pino({ level: 'silent' }), 'admin'); await store.open();
await store.addAccount({ name: 'evil', createdAt: Date.now(), limits: {} });
const N = Number(process.argv[2] ?? 2000);
for (let i = 0; i < N; i++) await store.addWebhook({ id: `wh_${i}`, account: 'evil', url: 'https://x.example/h', events: [], secret: 's', enabled: true, createdAt: 0, disabledAt: null, disabledReason: null });
for (const k of [1, 2, 3]) {
  const t0 = performance.now();
  await store.appendEvents(Array.from({ length: 100 }, (_, i) => ({ at: Date.now(), account: 'evil', type: 'opened', messageId: null, recipient: `r${i}@x.test`, data: {} })));
  console.log(`N=${N} webhooks: 100 events appended in ${Math.round(performance.now() - t0)} ms`);
}
await store.close(); await fs.rm(dir, { recursive: true, force: true });
