// The webhook SSRF guard: which addresses are public, URL checks at creation, the guarded DNS
// lookup, and a real POST to a loopback receiver refused before any byte reaches it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPublicAddress } from '../net/networks.js';
import { newWebhook, privateDestinationProblem, publicLookup, publicOnlyFetch } from './webhook-destination.js';

describe('webhook destinations', () => {
  it('classifies addresses: loopback, private, link-local (metadata), CGNAT, ULA, mapped forms are not public', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
      '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '64:ff9b::127.0.0.1']) {
      assert.equal(isPublicAddress(ip), false, ip);
    }
    for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPublicAddress(ip), true, ip);
  });

  it('refuses literal private hosts and localhost at creation, accepts names', () => {
    assert.match(privateDestinationProblem('http://127.0.0.1:8080/hook')!, /not a public address/);
    assert.match(privateDestinationProblem('http://[::1]/hook')!, /not a public address/);
    assert.match(privateDestinationProblem('http://169.254.169.254/latest/meta-data')!, /not a public address/);
    assert.match(privateDestinationProblem('http://localhost/x')!, /this host/);
    // Other spellings (attack30): a trailing dot, percent-encoded, full-width, numeric IPv4 forms.
    for (const url of ['http://localhost./x', 'http://a.localhost./x', 'http://localhost%2E/x', 'http://%6c%6fcalhost/', 'http://ｌｏｃａｌｈｏｓｔ/']) {
      assert.match(privateDestinationProblem(url) ?? 'accepted', /this host/, url);
    }
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://017700000001/', 'http://169.254.169.254./', 'http://127。0。0。1/', 'http://0/']) {
      assert.match(privateDestinationProblem(url) ?? 'accepted', /not a public address/, url);
    }
    assert.equal(privateDestinationProblem('https://hooks.example.com/postlane'), null);
    assert.equal(privateDestinationProblem('https://8.8.8.8/'), null);
  });

  // IPv6 forms that carry an IPv4 address are judged by it (src/net/networks.test.ts has the full table).
  const EMBEDDED_LOOPBACK = ['[::127.0.0.1]', '[::7f00:1]', '[::ffff:7f00:1]', '[::ffff:0:127.0.0.1]', '[64:ff9b::7f00:1]',
    '[64:ff9b:1::7f00:1]', '[2002:7f00:1::]', '[2001:0:4136:e378:8000:63bf:80ff:fffe]', '[::]', '0.0.0.0', '[::a9fe:a9fe]'];

  it('refuses every IPv4-embedding IPv6 form of a non-public address at creation', () => {
    for (const host of EMBEDDED_LOOPBACK) assert.match(privateDestinationProblem(`http://${host}:8080/hook`) ?? 'accepted', /not a public address/, host);
    assert.equal(privateDestinationProblem('http://[::ffff:8.8.8.8]/'), null, 'mapped public address');
    assert.equal(privateDestinationProblem('http://[2002:808:808::1]/'), null, '6to4 of a public address');
  });

  it('the guarded lookup refuses them at connect time too', async () => {
    for (const host of EMBEDDED_LOOPBACK) {
      const literal = host.replace(/^\[|\]$/g, '');
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicLookup(literal, {}, (e) => resolve(e)));
      assert.equal((err as { code?: string } | null)?.code, 'ERR_WEBHOOK_DESTINATION', host);
    }
  });

  it('the guarded lookup answers an error for names resolving to non-public addresses', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicLookup('127.0.0.1', {}, (e) => resolve(e)));
    assert.ok(err);
    assert.equal((err as { code?: string }).code, 'ERR_WEBHOOK_DESTINATION');
  });

  it('a POST to a loopback receiver is refused before connecting', async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => { hits++; res.end('ok'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      await assert.rejects(publicOnlyFetch()(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' }), /not a public address/);
      await assert.rejects(publicOnlyFetch()(`http://[::127.0.0.1]:${port}/hook`, { method: 'POST', body: '{}' }), /not a public address/);
      await assert.rejects(publicOnlyFetch()(`http://[::ffff:7f00:1]:${port}/hook`, { method: 'POST', body: '{}' }), /not a public address/);
      assert.equal(hits, 0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('new webhooks get an id and a whsec_ secret, events deduplicated', () => {
    const w = newWebhook({ account: 'acme', url: 'https://h.example/x', events: ['delivered', 'delivered', 'bounced'], now: 5 });
    assert.match(w.id, /^wh_[0-9a-f]{16}$/);
    assert.match(w.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(w.events, ['delivered', 'bounced']);
    assert.equal(w.enabled, true);
  });
});
