// The HTTP API against the 1 MiB header-block limit every SMTP listener enforces: N custom
// `headers`, and a raw message with a 2 MB header block; prints the answers and what was stored.
import { RelayProcess } from '../../../dist/test/helpers/relay-process.js';
import { seedRelayTenant } from '../../../dist/test/helpers/api-fixture.js';
const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] } });
const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { admin: ['admin'] } });
await relay.start();
const base = `http://127.0.0.1:${relay.port('http')}`;
const post = async (path, body) => {
  const t0 = performance.now();
  const r = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${acme.tokens.admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  let size = '';
  if (j.id) { const c = await fetch(`${base}/v1/messages/${j.id}`, { headers: { authorization: `Bearer ${acme.tokens.admin}` } }); const m = await c.json(); size = `stored, size ${m.size}`; }
  console.log(path, r.status, Math.round(performance.now() - t0), 'ms', size || JSON.stringify(j).slice(0, 150));
};
const N = Number(process.argv[2] ?? 100000);
await post('/v1/messages', { from: 'a@acme.test', to: ['b@far.test'], subject: 's', text: 'x', headers: Object.fromEntries(Array.from({ length: N }, (_, i) => [`X-H${i}`, 'v'.repeat(10)])) });
const raw = 'From: a@acme.test\r\nTo: b@far.test\r\nSubject: s\r\n' + Array.from({ length: 100000 }, (_, i) => `X-H${i}: vvvvvvvvvv\r\n`).join('') + '\r\nbody\r\n';
await post('/v1/messages/raw', { envelope: { from: 'a@acme.test', to: ['b@far.test'] }, message: raw });
await relay.cleanup();
