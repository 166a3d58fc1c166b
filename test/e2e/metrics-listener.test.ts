// /metrics is private by default: a relay process with the default listener layout serves it only on
// the metrics listener, never on the public API listener (404 there, and absent from /openapi.json),
// and with metrics.token set a scrape needs the token (curl, an independent client: 401 without it
// or with a wrong one, 200 with it). /healthz and /readyz answer on both listeners, without keys.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess } from '../helpers/relay-process.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { curl } from '../helpers/curl.js';

const skip = await skipUnless(TOOLS.curl);
const TOKEN = 'e2e-metrics-token-5a1c9f';

test('metrics on their own listener, off the API listener, token enforced', { skip }, async (t) => {
  const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] }, metrics: { token: TOKEN } });
  t.after(async () => { await relay.cleanup(); });
  await relay.start();
  const api = `http://127.0.0.1:${relay.port('http')}`;
  const metrics = `http://127.0.0.1:${relay.port('metrics')}`;
  assert.notEqual(relay.port('http'), relay.port('metrics'));

  // The public API listener has no /metrics, with or without a key or the token.
  const onApi = await curl([`${api}/metrics`]);
  assert.equal(onApi.status, 404);
  assert.doesNotMatch(onApi.body, /postlane_/);
  assert.equal((await curl(['-H', `Authorization: Bearer ${TOKEN}`, `${api}/metrics`])).status, 404);
  const doc = JSON.parse((await curl([`${api}/openapi.json`])).body) as { paths: Record<string, unknown> };
  assert.equal(doc.paths['/metrics'], undefined);

  // The metrics listener: 401 without the token or with a wrong one, 200 with it.
  const anon = await curl(['-D', '-', `${metrics}/metrics`]);
  assert.equal(anon.status, 401);
  assert.match(anon.body, /www-authenticate: Bearer realm="postlane-metrics"/i);
  assert.doesNotMatch(anon.body, /postlane_/);
  assert.equal((await curl(['-H', 'Authorization: Bearer not-the-token-at-all', `${metrics}/metrics`])).status, 401);
  assert.equal((await curl(['-H', `Authorization: Bearer ${TOKEN.slice(0, -1)}`, `${metrics}/metrics`])).status, 401);
  const scrape = await curl(['-H', `Authorization: Bearer ${TOKEN}`, `${metrics}/metrics`]);
  assert.equal(scrape.status, 200);
  assert.match(scrape.body, /^# HELP postlane_messages_accepted_total /m);
  assert.match(scrape.body, /^postlane_queue_depth\{state="queued"\} 0$/m);

  // Probes on both listeners, no key or token needed.
  for (const base of [api, metrics]) {
    assert.equal((await curl([`${base}/healthz`])).status, 200, base);
    assert.equal((await curl([`${base}/readyz`])).status, 200, base);
  }
  const refused = relay.logs.filter((l) => l.event === 'metrics.refused');
  assert.equal(refused.length, 3);
  assert.ok(!relay.logs.some((l) => JSON.stringify(l).includes(TOKEN)), 'the token never reaches the log');
  assert.ok(relay.logs.some((l) => l.event === 'metrics.listening' && l.token === true));
});
