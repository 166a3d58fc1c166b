// POST /v1/messages with many `headers` / `orcpt` keys / batch items; prints the answer, its time,
// and the longest /healthz latency meanwhile (the main thread held).
import { RelayProcess } from '../../../dist/test/helpers/relay-process.js';
import { seedRelayTenant } from '../../../dist/test/helpers/api-fixture.js';
const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] } });
const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
await relay.start();
const base = `http://127.0.0.1:${relay.port('http')}`;
async function probe(name, body) {
  const text = JSON.stringify(body);
  let worst = 0, stop = false;
  const pinger = (async () => { while (!stop) { const t = performance.now(); await fetch(`${base}/healthz`).then((r) => r.text()); worst = Math.max(worst, performance.now() - t); await new Promise((r) => setTimeout(r, 20)); } })();
  const t0 = performance.now();
  const r = await fetch(`${base}/v1/messages${name.startsWith('batch') ? '/batch' : ''}`, { method: 'POST', headers: { authorization: `Bearer ${acme.tokens.send}`, 'content-type': 'application/json' }, body: text });
  const answer = (await r.text()).slice(0, 120);
  const ms = performance.now() - t0;
  stop = true; await pinger;
  console.log(`${name}: ${(text.length / 1e6).toFixed(1)} MB -> ${r.status} in ${Math.round(ms)} ms; /healthz worst ${Math.round(worst)} ms; ${answer}`);
}
const N = Number(process.argv[2] ?? 300000);
const base1 = { from: 'a@acme.test', to: ['b@far.test'], subject: 's', text: 'x' };
await probe('headers', { ...base1, headers: Object.fromEntries(Array.from({ length: N }, (_, i) => [`X-H${i}`, 'v'])) });
await probe('orcpt', { ...base1, dsn: { orcpt: Object.fromEntries(Array.from({ length: N }, (_, i) => [`r${i}@far.test`, `o${i}@far.test`])) } });
await probe('metadata', { ...base1, metadata: Object.fromEntries(Array.from({ length: N }, (_, i) => [`k${i}`, 'v'])) });
await probe('reply_to-many-to', { ...base1, to: Array.from({ length: N / 10 }, (_, i) => `r${i}@far.test`) });
await relay.cleanup();
