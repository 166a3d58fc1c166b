// Attacker's pass (address verification, thirty-first session). With verify.smtpProbe on, any key
// with the send scope makes the relay open an SMTP session to the first mail host of a domain the
// caller picks, so the domain's DNS chooses where the relay connects, exactly as in delivery. The
// probe did not apply delivery.mxAddresses: an MX (or the implicit MX's A record) at 127.0.0.1
// reached a local MTA that trusts localhost, one at 169.254.169.254 the cloud metadata address,
// and the answers (greeting, RCPT reply) came back in the result: a scanner of the relay's own
// host and private networks. Now an address the setting refuses is not a mail host for
// verification either (as for delivery, which would bounce it 5.4.4): no connection, the verdict
// undeliverable (mail_host_unresolvable, naming the setting). And the probe's per-host rate is
// also kept per address: a thousand MX names pointing at one victim address no longer make a
// thousand probes a minute there.
// Hostile replies (SmtpProber against real sockets): a reply dripped a line at a time (never idle
// for the per-read timeout) held the probe, and the API request, for as long as the server liked,
// and an endless multi-line reply at full speed was collected in memory without a bound. Now a
// reply must be complete within verify.smtpProbe.timeout and at most 16 KiB.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { RelayProcess } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { cliFixture } from '../helpers/cli-fixture.js';
import { call } from '../helpers/api-fixture.js';
import { SmtpProber } from '../../src/verify/smtp-probe.js';

const INTERNAL = '127.0.73.10';

/** A local MTA that would answer anything: counts sessions, accepts every RCPT. */
async function startInternalMta(host: string) {
  const sessions: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sessions.push(String(s.remoteAddress));
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.write('220 internal.example ESMTP secret-build-4711\r\n');
    s.on('data', (d) => { for (const line of d.toString().split('\r\n').filter(Boolean)) s.write(/^QUIT/i.test(line) ? '221 bye\r\n' : '250 ok\r\n'); });
    s.on('error', () => undefined);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    sessions, port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const c of sockets) c.destroy(); server.close(() => r()); }),
  };
}

interface Result { verdict: string; reasons: { code: string; detail: string }[]; checks: { smtp_probe: { outcome: string; detail: string } | null } }

test('the SMTP probe applies delivery.mxAddresses: no session to loopback or metadata, the verdict says why', async (t) => {
  const dns = await startDnsServer({ host: '127.0.73.1' });
  const mta = await startInternalMta(INTERNAL);
  dns.setZone({
    'loop.test': { MX: [{ exchange: 'mx.loop.test', priority: 10 }] },
    'mx.loop.test': { A: [INTERNAL] },
    'literal.test': { MX: [{ exchange: INTERNAL, priority: 10 }] },
    'metadata.test': { A: ['169.254.169.254'] }, // the implicit MX
    'mapped.test': { MX: [{ exchange: 'v6.mapped.test', priority: 10 }] },
    'v6.mapped.test': { AAAA: [`::ffff:${INTERNAL}`] },
  });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.73.1:${dns.port}`] },
    delivery: { port: mta.port, mxAddresses: 'private', ipv6: true },
    verify: { history: false, smtpProbe: { timeout: '2s', perHostPerMinute: 100, skipMxHosts: [] } },
  });
  t.after(async () => { await relay.cleanup(); await mta.close(); await dns.close(); });
  const { out } = cliFixture(() => relay);
  const key = await out('keys', 'create', '--account', 'default', '--scope', 'send');
  await relay.start();

  const answer = await call(`http://127.0.0.1:${relay.port('http')}`, 'POST', '/v1/verify', {
    token: key, body: { addresses: ['ann@loop.test', 'ann@literal.test', 'ann@metadata.test', 'ann@mapped.test'] },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const results = answer.body.data as Result[];
  assert.equal(mta.sessions.length, 0, 'no probe session reached the loopback MTA');
  for (const r of results) {
    assert.equal(r.verdict, 'undeliverable', JSON.stringify(r));
    assert.equal(r.reasons[0]!.code, 'mail_host_unresolvable');
    assert.match(r.reasons[0]!.detail, /delivery\.mxAddresses: private/);
    assert.equal(r.checks.smtp_probe, null);
    assert.doesNotMatch(JSON.stringify(r), /secret-build/);
  }
});

test('delivery.mxAddresses: any probes a loopback MX (the setting decides, as for delivery)', async (t) => {
  const dns = await startDnsServer({ host: '127.0.73.1' });
  const mta = await startInternalMta(INTERNAL);
  dns.setZone({ 'loop.test': { MX: [{ exchange: 'mx.loop.test', priority: 10 }] }, 'mx.loop.test': { A: [INTERNAL] } });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.73.1:${dns.port}`] },
    delivery: { port: mta.port, mxAddresses: 'any' },
    verify: { history: false, smtpProbe: { timeout: '2s', perHostPerMinute: 100, skipMxHosts: [] } },
  });
  t.after(async () => { await relay.cleanup(); await mta.close(); await dns.close(); });
  const key = await cliFixture(() => relay).out('keys', 'create', '--account', 'default', '--scope', 'send');
  await relay.start();
  const answer = await call(`http://127.0.0.1:${relay.port('http')}`, 'POST', '/v1/verify', { token: key, body: { address: 'ann@loop.test' } });
  assert.equal((answer.body as Result).checks.smtp_probe?.outcome, 'accepted');
  assert.equal(mta.sessions.length, 1);
});

/** A server scripted per connection. */
async function serve(onConnection: (s: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); onConnection(s); });
  server.listen(0, '127.0.73.20');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const clock = { now: () => Date.now() };
const settings = (port: number) => ({ timeoutMs: 1000, perHostPerMinute: 100, skipMxHosts: [], port, heloName: 'relay.test' });

test('a probe reply dripped a line at a time ends at the timeout; an endless reply at 16 KiB', async (t) => {
  const timers = new Set<NodeJS.Timeout>();
  t.after(() => { for (const x of timers) clearInterval(x); });
  // Greets, then answers EHLO with a 250- line every 200 ms forever (never idle for 1 s).
  const drip = await serve((s) => {
    s.write('220 drip\r\n');
    s.once('data', () => { const x = setInterval(() => s.writable && s.write('250-still here\r\n'), 200); timers.add(x); s.on('close', () => clearInterval(x)); });
  });
  t.after(() => drip.close());
  const started = Date.now();
  const dripped = await new SmtpProber(settings(drip.port), clock).probe('ann@drip.test', 'drip.test', 'mx.drip.test', '127.0.73.20');
  assert.deepEqual(dripped, { kind: 'inconclusive', why: 'timed out' });
  assert.ok(Date.now() - started < 10_000, 'ended (the bound is the timeout; this only catches a probe that never ends)');

  // Answers EHLO with 250- lines at full speed, without end.
  const flood = await serve((s) => {
    s.write('220 flood\r\n');
    const line = Buffer.from(`250-${'x'.repeat(1000)}\r\n`.repeat(64));
    s.once('data', () => { const pump = () => { while (s.writable && s.write(line)); }; s.on('drain', pump); pump(); });
  });
  t.after(() => flood.close());
  const flooded = await new SmtpProber(settings(flood.port), clock).probe('ann@flood.test', 'flood.test', 'mx.flood.test', '127.0.73.20');
  assert.deepEqual(flooded, { kind: 'inconclusive', why: 'reply too long' });
});

test('the per-host probe rate also holds per address: many MX names of one address share it', async (t) => {
  let sessions = 0;
  const mta = await serve((s) => {
    sessions++;
    s.write('220 ok\r\n');
    s.on('data', (d) => { for (const line of d.toString().split('\r\n').filter(Boolean)) s.write(/^QUIT/i.test(line) ? '221 bye\r\n' : '250 ok\r\n'); });
  });
  t.after(() => mta.close());
  const prober = new SmtpProber({ ...settings(mta.port), perHostPerMinute: 3 }, clock);
  const outcomes = [];
  for (let i = 0; i < 8; i++) outcomes.push((await prober.probe(`ann@d${i}.test`, `d${i}.test`, `mx${i}.attacker.test`, '127.0.73.20')).kind);
  assert.deepEqual(outcomes, ['accepted', 'accepted', 'accepted', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
  assert.equal(sessions, 3);
});
