// The HTTPS policy fetcher against a local HTTPS server with a certificate from a test CA: the
// name resolves through the delivery resolver (test DNS), and everything RFC 8461 §3.3 refuses is
// refused: redirects, other statuses, other media types, untrusted or misnamed certificates,
// oversized files, slow servers.
import https from 'node:https';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpsPolicyFetcher, type PolicyFetcher } from '../../src/delivery/mta-sts-fetch.js';
import { createResolver } from '../../src/delivery/resolver.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { createTestCa, issueCert, policyText, startPolicyServer, type Pem, type PolicyServer } from './test-pki.js';

describe('createHttpsPolicyFetcher', () => {
  let dns: DnsServer;
  let ca: Pem;
  let web: PolicyServer; // 127.0.3.20, certificate for mta-sts.good.test and mta-sts.other.test
  let fetch: PolicyFetcher;

  before(async () => {
    ca = await createTestCa();
    web = await startPolicyServer({ host: '127.0.3.20', cert: await issueCert(ca, ['mta-sts.good.test', 'mta-sts.other.test']) });
    dns = await startDnsServer();
    for (const d of ['good', 'other', 'misnamed']) dns.set(`mta-sts.${d}.test`, 'A', ['127.0.3.20']);
    fetch = createHttpsPolicyFetcher({ resolver: createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 300 }), port: web.port, ca: ca.cert, timeoutMs: 2000 });
  });
  after(async () => { await Promise.all([web.close(), dns.close()]); });

  it('fetches the policy text, asking for mta-sts.<domain> at the well-known path', async () => {
    web.policies.set('good.test', { body: policyText('enforce', ['mx.good.test']) });
    assert.equal(await fetch('good.test'), policyText('enforce', ['mx.good.test']));
    assert.equal(web.requests.at(-1), 'good.test');
    assert.ok(dns.queries.some((q) => q.name === 'mta-sts.good.test' && q.type === 'A'));
  });

  it('accepts text/plain with parameters', async () => {
    web.policies.set('other.test', { body: 'x', contentType: 'text/plain; charset=utf-8' });
    assert.equal(await fetch('other.test'), 'x');
  });

  const refusals: [string, { body: string; status?: number; contentType?: string; location?: string }, RegExp][] = [
    ['a 404', { body: 'nope', status: 404 }, /HTTP 404/],
    ['a redirect', { body: '', status: 301, location: 'https://mta-sts.good.test/elsewhere' }, /HTTP 301/],
    ['text/html', { body: '<p>hi</p>', contentType: 'text/html' }, /not text\/plain/],
    ['more than 64 KiB', { body: 'a'.repeat(70 * 1024) }, /larger than 64 KiB/],
  ];
  for (const [name, response, reason] of refusals) {
    it(`refuses ${name}`, async () => {
      web.policies.set('other.test', response);
      await assert.rejects(fetch('other.test'), reason);
    });
  }

  it('refuses a certificate not valid for mta-sts.<domain>, or not from a trusted CA', async () => {
    await assert.rejects(fetch('misnamed.test'), /ERR_TLS_CERT_ALTNAME_INVALID/);
    const untrusting = createHttpsPolicyFetcher({ resolver: createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 300 }), port: web.port, timeoutMs: 2000 });
    await assert.rejects(untrusting('good.test'), /policy fetch failed: \w+/);
  });

  it('refuses a name that does not resolve', async () => {
    await assert.rejects(fetch('nowhere.test'), /ENOTFOUND/);
  });

  it('gives up on a server that does not answer in time', async () => {
    const cert = await issueCert(ca, ['mta-sts.slow.test']);
    const slow = https.createServer({ cert: cert.cert, key: cert.key }, () => undefined); // never responds
    await new Promise<void>((resolve) => slow.listen(0, '127.0.3.21', () => resolve()));
    dns.set('mta-sts.slow.test', 'A', ['127.0.3.21']);
    try {
      const f = createHttpsPolicyFetcher({ resolver: createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 300 }), port: (slow.address() as net.AddressInfo).port, ca: ca.cert, timeoutMs: 300 });
      await assert.rejects(f('slow.test'), /timed out/);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
