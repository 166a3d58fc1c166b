// Attack pass, thirtieth session (conn30): a flood of connections to the API port. The SMTP
// listeners cap their sessions (smtp.maxConnections, smtp.maxConnectionsPerIp); the API's listener
// did not, so connections were bounded only by its timeouts and the process's file limit, shared
// with the SMTP listeners and delivery's sockets. Now http.maxConnections and
// http.maxConnectionsPerIp (the counting shared with SMTP, src/net/connection-limits.ts) refuse a
// connection at accept with a 503 written before anything is read; refusals are logged at a bounded
// rate and counted in postlane_connections_refused_total. Over real sockets to a relay process,
// from several 127.0.65.x source addresses, with curl as an independent client.
// Thirty-first session (api31): at the total cap the oldest idle connection (no request in
// flight, idle 2 s or more) is closed to admit a newcomer; only when every connection has a
// request in flight is the newcomer refused.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { seedRelayTenant } from '../helpers/api-fixture.js';
import { curl } from '../helpers/curl.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const skip = await skipUnless(TOOLS.curl);

const HOST = '127.0.65.1';
const PER_IP = 5;
const TOTAL = 12;
const HEALTHZ = `GET /healthz HTTP/1.1\r\nHost: relay.test\r\n\r\n`;

/**
 * A connection from `from` with a request in flight: a send whose headers the relay has read (it
 * answered 100 Continue) and whose body never comes (http.requestTimeout is minutes).
 */
function busy(port: number, from: string, token: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: HOST, localAddress: from });
    s.on('connect', () => s.write(`POST /v1/messages HTTP/1.1\r\nHost: relay.test\r\nAuthorization: Bearer ${token}\r\n`
      + 'Content-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n'));
    s.once('data', (d) => (/^HTTP\/1\.1 100 /.test(d.toString('latin1')) ? resolve(s) : reject(new Error(`${from}: ${d.toString('latin1').slice(0, 60)}`))));
    s.on('error', reject);
  });
}

/** A keep-alive connection from `from` that has been answered 200 once (so the relay has counted it) and stays open. */
function held(port: number, from: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: HOST, localAddress: from });
    let reply = '';
    s.on('connect', () => s.write(HEALTHZ));
    s.on('data', (d) => {
      reply += d.toString('latin1');
      if (/^HTTP\/1\.1 200 [^]*\r\n\r\n[^]*"status"/.test(reply)) { s.removeAllListeners('data'); resolve(s); }
      else if (/^HTTP\/1\.1 (?!200)/.test(reply)) reject(new Error(`${from}: ${reply.slice(0, 60)}`));
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`${from}: closed: ${reply.slice(0, 60)}`)));
  });
}

/** Connects from `from` and sends nothing: what the relay writes before closing, and that it closed. */
function refusedReply(port: number, from: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: HOST, localAddress: from });
    let reply = '';
    s.on('data', (d) => { reply += d.toString('latin1'); });
    s.on('error', () => undefined);
    s.on('close', () => resolve(reply));
    setTimeout(() => s.destroy(), 10_000).unref(); // an accepted connection stays open: the test fails on its reply
  });
}

/** `n` held connections from each address, one after another; if one is refused, those opened are closed and it throws. */
async function holdMany(port: number, counts: [string, number][]): Promise<net.Socket[]> {
  const all: net.Socket[] = [];
  try {
    for (const [from, n] of counts) for (let i = 0; i < n; i++) all.push(await held(port, from));
  } catch (err) {
    await closeAll(all);
    throw err;
  }
  for (const s of all) { s.removeAllListeners('close'); s.removeAllListeners('error'); s.on('error', () => undefined); }
  return all;
}

async function closeAll(sockets: net.Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((r) => { if (s.destroyed) return r(); s.once('close', () => r()); s.destroy(); })));
}

async function refusedMetric(port: number, reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = text.match(new RegExp(`^postlane_connections_refused_total\\{listener="http",reason="${reason}"\\} (\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
}

test('API connection caps: per address and in total, refused at accept with 503, released when the connections close', { skip }, async (t) => {
  const relay = await RelayProcess.create({
    dns: { servers: ['127.0.0.1:9'] },
    http: { host: HOST, port: 0, maxConnections: TOTAL, maxConnectionsPerIp: PER_IP },
  });
  t.after(() => relay.cleanup());
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
  await relay.start();
  const port = relay.port('http');
  const base = `http://${HOST}:${port}`;
  const send = (from: string) => curl(['--interface', from, '-X', 'POST', `${base}/v1/messages`,
    '-H', `Authorization: Bearer ${acme.tokens.send!}`, '-H', 'Content-Type: application/json',
    '--data', JSON.stringify({ from: 'a@acme.test', to: ['b@far.test'], subject: 's', text: 'x' })]);

  // Per address: PER_IP keep-alive connections from .10 hold its slots; the next from .10 is refused.
  const flood = await holdMany(port, [['127.0.65.10', PER_IP]]);
  const reply = await refusedReply(port, '127.0.65.10');
  assert.match(reply, /^HTTP\/1\.1 503 /, reply);
  assert.match(reply, /\r\nConnection: close\r\n/i);
  assert.match(reply, /\r\nRetry-After: 5\r\n/i);
  const byCurl = await curl(['--interface', '127.0.65.10', `${base}/healthz`]);
  assert.equal(byCurl.status, 503, 'curl from the full address');
  // ...while another address is served: a probe and an authenticated call (curl).
  assert.equal((await curl(['--interface', '127.0.65.11', `${base}/healthz`])).status, 200);
  const sent = await send('127.0.65.11');
  assert.equal(sent.status, 202, sent.body);
  const line = await relay.waitForLog((l) => l.event === 'http.connections_refused');
  assert.equal(line.reason, 'per-ip');
  assert.equal(line.ip, '127.0.65.10');
  assert.equal(await refusedMetric(relay.port('metrics'), 'per-ip'), 2);

  // In total: TOTAL slots held from several addresses, none at its own cap, each with a request
  // in flight; a newcomer from a fresh address is refused (nothing idle to evict).
  await closeAll(flood);
  const flood2 = await eventually(async () => {
    try {
      const all: net.Socket[] = [];
      for (const [from, n] of [['127.0.65.20', 4], ['127.0.65.21', 4], ['127.0.65.22', 4]] as const) for (let i = 0; i < n; i++) all.push(await busy(port, from, acme.tokens.send!));
      return all;
    } catch { return null; }
  }, 15_000, 200);
  for (const s of flood2) s.on('error', () => undefined);
  assert.equal(flood2.length, TOTAL);
  await new Promise((r) => setTimeout(r, 2100)); // older than the 2 s an idle connection needs to be evicted: still refused
  const refusals = await Promise.all(Array.from({ length: 10 }, (_, i) => refusedReply(port, `127.0.65.${30 + i}`)));
  for (const r of refusals) assert.match(r, /^HTTP\/1\.1 503 /, r);
  assert.equal((await send('127.0.65.40')).status, 503, 'curl from a fresh address at the total cap');
  assert.equal(await refusedMetric(relay.port('metrics'), 'total'), 11);
  // A flood is logged at a bounded rate: the first refusal at once, the rest counted into a line
  // every 10 s (the 13 refusals here: in 2 or 3 lines, whatever the timing).
  const lines = () => relay.logs.filter((l) => l.event === 'http.connections_refused');
  await eventually(() => lines().reduce((n, l) => n + (l.refused as number), 0) === 13 || null, 25_000);
  assert.ok(lines().length <= 3, JSON.stringify(lines()));
  assert.ok(lines().some((l) => (l.reasons as string[]).includes('total')));

  // Idle keep-alive connections at the total cap: two busy ones end, two idle ones take their
  // slots; once idle 2 s, a newcomer closes the oldest idle one and is served; the busy ones stay.
  await closeAll(flood2.splice(0, 2));
  const idle = await eventually(async () => {
    try { return await holdMany(port, [['127.0.65.23', 2]]); } catch { return null; }
  }, 15_000, 200);
  const idleClosed = idle.map((s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r()))));
  await new Promise((r) => setTimeout(r, 2100));
  const admitted = await send('127.0.65.41');
  assert.equal(admitted.status, 202, admitted.body);
  await idleClosed[0];
  assert.equal(idle[1]!.destroyed, false, 'one eviction per newcomer');
  for (const s of flood2) assert.equal(s.destroyed, false, 'a connection with a request in flight is never evicted');
  const evicted = (await (await fetch(`http://127.0.0.1:${relay.port('metrics')}/metrics`)).text()).match(/^postlane_connections_evicted_total\{listener="http"\} (\d+)/m);
  assert.equal(Number(evicted?.[1]), 1, 'counted');
  const rest = [...flood2, ...idle];

  // The flood closes: every slot is given back, and the caps hold again exactly.
  await closeAll(rest);
  const again = await eventually(async () => {
    try { return await holdMany(port, [['127.0.65.10', PER_IP], ['127.0.65.20', PER_IP]]); } catch { return null; }
  }, 15_000, 200);
  assert.match(await refusedReply(port, '127.0.65.10'), /^HTTP\/1\.1 503 /);
  assert.equal((await curl(['--interface', '127.0.65.21', `${base}/healthz`])).status, 200);
  await closeAll(again);
  assert.equal((await send('127.0.65.10')).status, 202);
});
