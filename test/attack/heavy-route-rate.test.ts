// Attack pass, thirtieth session, closed by rate30: the bulk routes (webhook replay, bulk message
// actions, suppression add/import/export) are counted per account per minute in rows
// (http.heavyWorkPerAccountPerMinute), so an account looping them cannot hold the SQLite writer
// every tenant shares. Alpha spends its 1,000 rows on a replay and a bulk action and is answered
// 429 + Retry-After on every counted route (curl as an independent client for one), while beta's
// heavy requests in the same minute succeed and alpha's sends still work; one request larger than
// the whole budget is 413 naming the maximum (the window's end: src/http/heavy-work.test.ts).
// Over real HTTP to a relay process, SQLite store.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RelayProcess } from '../helpers/relay-process.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';
import { curl } from '../helpers/curl.js';
import { skipUnless, TOOLS } from '../helpers/require-tool.js';

const BUDGET = 1000;
const skip = await skipUnless(TOOLS.curl);
const eventIds = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `ev_${from + i}`);

test('bulk routes: an account over its rows per minute gets 429 + Retry-After; other accounts and its sends do not', { skip, timeout: 60_000 }, async (t) => {
  const relay = await RelayProcess.create({
    dns: { servers: ['127.0.0.1:9'] }, webhooks: { allowPrivateDestinations: true }, http: { heavyWorkPerAccountPerMinute: BUDGET },
  });
  t.after(() => relay.cleanup());
  const a = await seedRelayTenant(relay, { account: 'alpha', domains: ['alpha.test'], keys: { admin: ['admin'] } });
  const b = await seedRelayTenant(relay, { account: 'beta', domains: ['beta.test'], keys: { admin: ['admin'] } });
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const asA = (method: string, path: string, body?: unknown) => call(base, method, path, { token: a.tokens.admin!, body });
  const asB = (method: string, path: string, body?: unknown) => call(base, method, path, { token: b.tokens.admin!, body });
  const hookA = await asA('POST', '/v1/webhooks', { url: 'http://127.0.66.9:9/a' });
  const hookB = await asB('POST', '/v1/webhooks', { url: 'http://127.0.66.9:9/b' });
  assert.equal(hookA.status, 201, hookA.text);
  assert.equal(hookB.status, 201, hookB.text);

  // The budget is a fixed minute: start early enough in one that the burst and beta's requests share it.
  const sec = new Date().getUTCSeconds();
  if (sec > 48) await sleep((61 - sec) * 1000);

  // One request over the whole budget is refused outright (nothing charged), naming the maximum.
  const csv = Array.from({ length: BUDGET + 1 }, (_, i) => `big${i}@far.test`).join('\n');
  const big = await asA('POST', '/v1/suppressions/import', { csv });
  assert.equal(big.status, 413, big.text);
  assert.equal(big.body.error.code, 'too_much_work');
  assert.match(big.body.error.message, new RegExp(`at most ${BUDGET}`));

  // Alpha spends its budget: 600 events replayed, then a bulk action on 400 ids (1,000 rows).
  const replay = await asA('POST', `/v1/webhooks/${hookA.body.id}/replay`, { event_ids: eventIds(600) });
  assert.equal(replay.status, 202, replay.text);
  const bulk = await asA('POST', '/v1/messages/bulk', { action: 'retry', ids: Array.from({ length: 400 }, (_, i) => `m${i}`) });
  assert.equal(bulk.status, 200, bulk.text);

  await t.test('alpha is 429 with Retry-After on every counted route, in the error shape', async () => {
    const tries: [string, string, unknown][] = [
      ['POST', `/v1/webhooks/${hookA.body.id}/replay`, { event_ids: ['ev_1'] }],
      ['POST', `/v1/webhooks/${hookA.body.id}/replay`, { since: new Date(Date.now() - 3_600_000).toISOString() }],
      ['POST', '/v1/messages/bulk', { action: 'hold', ids: ['m1'] }],
      ['POST', '/v1/suppressions', { suppressions: [{ email: 'one@far.test' }] }],
      ['POST', '/v1/suppressions/import', { csv: 'one@far.test' }],
      ['GET', '/v1/suppressions/export', undefined],
    ];
    for (const [method, path, body] of tries) {
      const r = await asA(method, path, body);
      assert.equal(r.status, 429, `${method} ${path}: ${r.text}`);
      assert.equal(r.body.error.code, 'rate_limited');
      const after = Number(r.headers.get('retry-after'));
      assert.ok(after >= 1 && after <= 60, `${path}: Retry-After ${after}`);
    }
    // curl, an independent client: the 429 and its Retry-After header.
    const c = await curl(['-D', '-', '-X', 'POST', '-H', `authorization: Bearer ${a.tokens.admin!}`, '-H', 'content-type: application/json',
      '--data', JSON.stringify({ action: 'delete', ids: ['m1'] }), `${base}/v1/messages/bulk`]);
    assert.equal(c.status, 429, c.body);
    assert.match(c.body, /^retry-after: \d+\r?$/im);
    assert.match(c.body, /"code":"rate_limited"/);
  });

  await t.test('beta\'s heavy requests in the same minute succeed', async () => {
    const r = await asB('POST', `/v1/webhooks/${hookB.body.id}/replay`, { event_ids: eventIds(600) });
    assert.equal(r.status, 202, r.text);
    const imp = await asB('POST', '/v1/suppressions/import', { csv: Array.from({ length: 300 }, (_, i) => `b${i}@far.test`).join('\n') });
    assert.equal(imp.status, 200, imp.text);
    assert.equal(imp.body.added, 300);
    const exp = await asB('GET', '/v1/suppressions/export');
    assert.equal(exp.status, 200, exp.text);
  });

  await t.test('alpha\'s sends are not counted', async () => {
    const sent = await asA('POST', '/v1/messages', { from: 'news@alpha.test', to: ['someone@far.test'], subject: 'still sending', text: 'body' });
    assert.equal(sent.status, 202, sent.text);
  });

  // That the minute's end gives alpha its budget back (and counts the new minute) is
  // src/http/heavy-work.test.ts's, on an injected clock: here it would cost npm test up to a
  // minute of waiting.
});
