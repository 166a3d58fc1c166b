// The egress start checks: a bind address not on this machine is refused with a ConfigError that
// names the key; a loopback address is accepted; PTR and forward-confirmed reverse DNS are checked
// against the test DNS server (match, wrong PTR, no PTR, forward mismatch) and a mismatch at start
// is one warning line.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../events/log.js';
import { startDnsServer, type DnsServer } from '../../test/helpers/dns-server.js';
import { bindProblem, checkPtr, checkSourcesAtStart, createSourceDns } from './source-check.js';

const configWith = (dns: DnsServer, sources: unknown[]) => loadConfig({
  env: {}, overrides: { 'dns.servers': [`${dns.host}:${dns.port}`], 'dns.timeout': '300ms', egress: { sources, defaultPool: 'p' } },
});

describe('egress source checks', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsServer();
    dns.set('20.0.0.127.in-addr.arpa', 'PTR', ['mta1.relay.test']);
    dns.set('mta1.relay.test', 'A', ['127.0.0.20']);
    dns.set('21.0.0.127.in-addr.arpa', 'PTR', ['other.relay.test']);
    dns.set('23.0.0.127.in-addr.arpa', 'PTR', ['mta3.relay.test']);
    dns.set('mta3.relay.test', 'A', ['127.0.0.99']);
  });
  after(() => dns.close());

  it('bindProblem: loopback addresses bind; a documentation address is not of this machine', async () => {
    assert.equal(await bindProblem('127.0.0.20'), null);
    assert.match((await bindProblem('192.0.2.77'))!, /not an address of this machine \(EADDRNOTAVAIL\)/);
  });

  it('at start, a bind address that is not local is refused naming the key', async () => {
    const config = configWith(dns, [{ name: 'ok', address: '127.0.0.20', ehlo: 'mta1.relay.test', pool: 'p' }, { name: 'far', address: '192.0.2.77', ehlo: 'far.relay.test', pool: 'p' }]);
    await assert.rejects(checkSourcesAtStart(config, createLogger('silent'), Date.now()), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'egress.sources[1].address');
      assert.match(err.message, /192\.0\.2\.77 is not an address of this machine/);
      return true;
    });
  });

  it('PTR and forward-confirmed reverse DNS: match, wrong name, no PTR, forward to another address', async () => {
    const r = createSourceDns({ servers: [{ host: dns.host, port: dns.port }], timeout: 300 });
    const ok = await checkPtr(r, { name: 'mta1', address: '127.0.0.20', ehlo: 'mta1.relay.test' });
    assert.deepEqual([ok.ok, ok.ptr, ok.forward, ok.problem], [true, ['mta1.relay.test'], ['127.0.0.20'], null]);
    const wrong = await checkPtr(r, { name: 'mta2', address: '127.0.0.21', ehlo: 'mta2.relay.test' });
    assert.equal(wrong.ok, false);
    assert.match(wrong.problem!, /names other\.relay\.test, not the EHLO name mta2\.relay\.test/);
    const none = await checkPtr(r, { name: 'mta4', address: '127.0.0.24', ehlo: 'mta4.relay.test' });
    assert.match(none.problem!, /no PTR record for 127\.0\.0\.24/);
    const forward = await checkPtr(r, { name: 'mta3', address: '127.0.0.23', ehlo: 'mta3.relay.test' });
    assert.match(forward.problem!, /resolves to 127\.0\.0\.99, not back to 127\.0\.0\.23/);
  });

  it('at start, a PTR mismatch is a warning line, not a refusal', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
    const config = configWith(dns, [{ name: 'mta1', address: '127.0.0.20', ehlo: 'mta1.relay.test', pool: 'p' }, { name: 'mta2', address: '127.0.0.21', ehlo: 'mta2.relay.test', pool: 'p' }]);
    await checkSourcesAtStart(config, createLogger('info', sink), Date.now());
    const deadline = Date.now() + 5000;
    while (!lines.some((l) => l.event === 'egress.ptr_mismatch') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const warned = lines.filter((l) => l.event === 'egress.ptr_mismatch');
    assert.deepEqual(warned.map((l) => l.source), ['mta2']);
    assert.match(String(warned[0]!.msg), /egress source mta2: the PTR of 127\.0\.0\.21 names other\.relay\.test/);
  });
});
