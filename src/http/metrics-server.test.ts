// The metrics listener over real sockets: with a token, /metrics is 401 without it, with a wrong
// one (of any length) or another scheme, and 200 with it; the probes answer without it; refusals are
// logged without the token; HTTPS when asked; without a token it serves anyone who reaches it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { Writable } from 'node:stream';
import { createLogger } from '../events/log.js';
import { createSelfSigned } from '../tls/certificates.js';
import { bearerCheck, startMetricsListener } from './metrics-server.js';

const TOKEN = 'scrape-3f9c1e7a5b2d4c6e';
const metrics = { contentType: 'text/plain; version=0.0.4; charset=utf-8', render: async () => 'postlane_messages_accepted_total{account="acme",listener="http"} 3\n' };

function listen(token: string | null, opts: { ready?: boolean; tls?: { cert: string; key: string } } = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString())); cb(); } });
  const store = { nextDueAt: async () => { if (opts.ready === false) throw new Error('down'); return null; }, checkWritable: async () => ({ writable: true, reason: null }) };
  return startMetricsListener({ host: '127.0.0.1', port: 0, token, tls: opts.tls ?? null, metrics, store, logger: createLogger('info', sink) })
    .then((l) => ({ ...l, lines }));
}

const get = (port: number, path: string, authorization?: string) =>
  fetch(`http://127.0.0.1:${port}${path}`, { headers: authorization ? { authorization } : {} }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));

describe('metrics listener', () => {
  it('with a token: 401 without it, with a wrong one or another scheme; 200 with it', async () => {
    const l = await listen(TOKEN);
    try {
      const port = l.address.port;
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, TOKEN, `Bearer ${TOKEN} extra`]) {
        const r = await get(port, '/metrics', auth);
        assert.equal(r.status, 401, String(auth));
        assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="postlane-metrics"');
        assert.doesNotMatch(r.text, /postlane_/, 'no series leak in the refusal');
      }
      const ok = await get(port, '/metrics', `bearer ${TOKEN}`);
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(ok.text, /^postlane_messages_accepted_total\{account="acme"/);
      assert.deepEqual([(await get(port, '/healthz')).status, (await get(port, '/readyz')).status, (await get(port, '/v1/messages', `Bearer ${TOKEN}`)).status], [200, 200, 404]);
      const refused = l.lines.filter((x) => x.event === 'metrics.refused');
      assert.equal(refused.length, 8);
      assert.deepEqual([refused[0]!.reason, refused[1]!.reason, refused[0]!.ip], ['no token', 'wrong token', '127.0.0.1']);
      assert.ok(!JSON.stringify(l.lines).includes(TOKEN.slice(4)), 'the token never reaches the log');
    } finally {
      await l.close();
    }
  });

  it('without a token it serves whoever reaches it; /readyz follows the store', async () => {
    const l = await listen(null, { ready: false });
    try {
      assert.equal((await get(l.address.port, '/metrics')).status, 200);
      assert.equal((await get(l.address.port, '/readyz')).status, 503);
      assert.ok(!l.lines.some((x) => x.event === 'metrics.unprotected'), 'loopback needs no warning');
    } finally {
      await l.close();
    }
  });

  it('serves HTTPS with the relay certificate when asked', async () => {
    const l = await listen(TOKEN, { tls: await createSelfSigned('relay.test') });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port: l.address.port, path: '/metrics', rejectUnauthorized: false, headers: { authorization: `Bearer ${TOKEN}` } },
          (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
      });
      assert.equal(status, 200);
    } finally {
      await l.close();
    }
  });

  it('bearerCheck compares whole tokens of any length without throwing', () => {
    const check = bearerCheck(TOKEN);
    assert.equal(check(`Bearer ${TOKEN}`), true);
    assert.equal(check(`Bearer  ${TOKEN}`), true);
    for (const bad of [undefined, '', 'Bearer', 'Bearer ', `Bearer ${TOKEN.toUpperCase()}`, `Bearer ${'x'.repeat(10_000)}`, `Token ${TOKEN}`]) assert.equal(check(bad), false, String(bad));
  });
});
