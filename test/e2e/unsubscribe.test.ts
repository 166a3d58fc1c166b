// One-click unsubscribe end to end (RFC 8058): broadcast mail leaves with List-Unsubscribe and
// List-Unsubscribe-Post, covered by the DKIM signature (verified by python3-dkim); a GET of the
// link changes nothing; the POST a mailbox provider sends unsubscribes at once (200, no redirect);
// the next broadcast to that address is suppressed while transactional mail still goes; a
// tampered link is 404; a mail to the mailto: address unsubscribes too; POST floods are limited.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { sendToMx } from '../helpers/smtp-client.js';
import { startMailRig } from '../helpers/relay-rig.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { freePort } from '../helpers/free-port.js';

const skipPython = await skipUnless(TOOLS.pythonDkim);

/** The header fields of a raw message, unfolded, by lower-case name. */
function fields(raw: Buffer): Map<string, string[]> {
  const head = raw.toString('latin1').split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
  const out = new Map<string, string[]>();
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).toLowerCase();
    out.set(name, [...(out.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return out;
}

test('one-click unsubscribe: signed List-Unsubscribe, GET shows a page, POST unsubscribes broadcast mail only, mailto too', { skip: skipPython }, async (t) => {
  const httpPort = await freePort(); // the links in the mail name it (publicUrl)
  const { dns, mx, relay, received, ...rig } = await startMailRig(t, {
    config: { http: { host: '127.0.0.1', port: httpPort }, publicUrl: `http://127.0.0.1:${httpPort}`, domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } } },
    provision: (r) => r.relay.addSigningDomain(r.dns, 'acme.test'),
    adminKey: true,
  });
  const api = async (path: string) => (await rig.api(path)).body as { data: Record<string, unknown>[] };
  const send = async (to: string, subject: string, stream?: string) => {
    await rig.send([to], subject, stream ? `X-Postlane-Stream: ${stream}\r\n` : '');
  };

  await send('bob@dest.test', 'news 1', 'broadcast');
  const news = await received('news 1');
  const f = fields(news.body);
  assert.equal(f.has('x-postlane-stream'), false, 'the stream field never leaves the relay');
  assert.deepEqual(f.get('list-unsubscribe-post'), ['List-Unsubscribe=One-Click']);
  const targets = f.get('list-unsubscribe')![0]!;
  const url = /<(http:\/\/127\.0\.0\.1:\d+\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)>/.exec(targets)?.[1];
  const mailto = /<mailto:(unsubscribe\+[0-9A-Z]{20}\.[a-z2-7]{10}@bounces\.acme\.test)\?subject=unsubscribe>/.exec(targets)?.[1];
  assert.ok(url && mailto, targets);
  for (const sig of f.get('dkim-signature')!) {
    const h = /\bh=([^;]+)/.exec(sig)![1]!.replace(/\s+/g, '').toLowerCase().split(':');
    assert.ok(h.includes('list-unsubscribe') && h.includes('list-unsubscribe-post'), `signed fields: ${h}`);
  }
  assert.deepEqual(await pythonVerify(dns.port, news.body, 2), ['pass', 'pass'], 'python3-dkim verifies the signatures that cover the fields');

  // Transactional mail gets no unsubscribe fields.
  await send('bob@dest.test', 'receipt 1');
  assert.equal(fields((await received('receipt 1')).body).has('list-unsubscribe'), false);

  // A GET (what a link scanner does) shows a page and changes nothing.
  const page = await fetch(url!);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">/);
  assert.equal((await api('/v1/suppressions')).data.length, 0);
  // A tampered token: 404, nothing else.
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  const tampered = url!.slice(0, -5) + flip(url!.at(-5)!) + url!.slice(-4); // a MAC character that carries data bits
  assert.equal((await fetch(tampered, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 404);

  // The mailbox provider's one-click POST: 200 at once, no redirect.
  const post = await fetch(url!, { method: 'POST', redirect: 'manual', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(post.status, 200);
  assert.equal(post.headers.get('location'), null);
  const entries = (await api('/v1/suppressions')).data;
  assert.deepEqual(entries.map((e) => [e.email, e.scope, e.reason]), [['bob@dest.test', 'broadcast', 'unsubscribe']]);
  const unsub = (await api('/v1/events?type=unsubscribed')).data;
  assert.deepEqual(unsub.map((e) => [e.recipient, (e.data as Record<string, unknown>).method]), [['bob@dest.test', 'one-click']]);

  // The next broadcast to bob is suppressed; transactional mail still reaches him.
  await send('bob@dest.test', 'news 2', 'broadcast');
  await send('bob@dest.test', 'receipt 2');
  await received('receipt 2');
  const suppressed = await eventually(async () => (await api('/v1/events?type=suppressed')).data[0]);
  assert.equal(suppressed.recipient, 'bob@dest.test');
  assert.ok(!mx.messages.some((m) => m.body.toString().includes('Subject: news 2\r\n')), 'news 2 was not sent');

  // The mailto: address unsubscribes carol.
  await send('carol@dest.test', 'news 3', 'broadcast');
  const carolTargets = fields((await received('news 3')).body).get('list-unsubscribe')![0]!;
  const carolMailto = /<mailto:([^?>]+)\?subject=unsubscribe>/.exec(carolTargets)![1]!;
  await sendToMx(relay.port('mx'), 'carol@dest.test', carolMailto, 'Subject: unsubscribe\r\n\r\n\r\n', 'mail.dest.test');
  await eventually(async () => (await api('/v1/suppressions?search=carol')).data.length === 1 || null);

  // A flood of POSTs from one address is limited (429), and changes nothing more.
  const statuses: number[] = [];
  for (let i = 0; i < 35; i++) {
    statuses.push((await fetch(tampered, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status);
  }
  assert.ok(statuses.includes(429), `rate limited: ${statuses.join(',')}`);
  assert.equal((await api('/v1/suppressions')).data.length, 2);
});
