// Benchmark: POST /v1/messages through the in-process HTTP API (fastify, zod, MailComposer,
// Ed25519 DKIM signing, SQLite store with group commit) with 1, 20 and 50 concurrent clients, 300
// messages each run, median of 3 runs on fresh data directories. Reports messages/s and p50/p99;
// with API_BENCH_JSON=FILE also appends one JSON line per concurrency (bench/run.sh all).
//   npx tsc -p bench/tsconfig.json && node dist/bench/api-send.js
import { appendFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../src/clock.js';
import { configSchema } from '../src/config/schema.js';
import { MessageSigner } from '../src/domains/message-signer.js';
import { startApi } from '../src/http/index.js';
import { openStore } from '../src/store/open-store.js';
import { fixedSecrets } from '../src/events/secret-ring.js';
import { randomBytes } from 'node:crypto';
import { seedTenant } from '../test/helpers/api-fixture.js';

const MESSAGES = 300;
const RUNS = 3;
const body = JSON.stringify({
  from: 'App <app@acme.test>', to: ['bob@dest.test'], subject: 'Your receipt', text: 'Thanks! '.repeat(200),
  html: `<p>${'Thanks! '.repeat(200)}</p>`, tags: ['receipt'], metadata: { order: '1' },
});

async function run(concurrency: number): Promise<{ rate: number; p50: number; p99: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bench-api-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { port: 0 } });
  const logger = pino({ level: 'silent' });
  const store = openStore(config, logger, 'relay');
  await store.open();
  const t = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets(randomBytes(32)) }))!;
  const url = `http://127.0.0.1:${api.address.port}/v1/messages`;
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < MESSAGES) {
      next++;
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${t.tokens.send}`, 'content-type': 'application/json' }, body });
      if (res.status !== 202) throw new Error(`status ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  await api.close();
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return { rate: MESSAGES / elapsed, p50: latencies[Math.floor(latencies.length / 2)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

for (const c of [1, 20, 50]) {
  const results = [];
  for (let i = 0; i < RUNS; i++) results.push(await run(c));
  results.sort((a, b) => a.rate - b.rate);
  const m = results[Math.floor(RUNS / 2)]!;
  console.log(`concurrency ${c}: ${m.rate.toFixed(0)} msg/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms (median of ${RUNS})`);
  const json = process.env.API_BENCH_JSON;
  if (json) {
    const line = { ts: new Date().toISOString(), bench: 'api-send', concurrency: c, messages: MESSAGES, runs: RUNS, ...m,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024, loadavg_after: (await fs.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ') };
    appendFileSync(json, JSON.stringify(line) + '\n');
  }
}
