// End to end: a complaint through the simulator. The relay (a child process, VERP return paths
// under bounces.acme.test) delivers to the simulated Yahoo found through the test DNS server; the
// message to complaint@ is accepted, and the simulator mails an ARF report back to the relay's MX
// listener, as Yahoo's feedback loop would: the relay records 'complained' and suppresses the address.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';
import { startSimulator } from '../../src/sim/simulator.js';
import { freePort } from '../helpers/free-port.js';

test('complaint@ at the simulated Yahoo: accepted, an ARF comes back to the relay, which records "complained" and a suppression', async (t) => {
  const dns = await startDnsServer();
  const mxPort = await freePort();
  const sim = await startSimulator({
    providers: [{ name: 'yahoo', profile: 'yahoo', host: '127.0.0.2', port: 0 }],
    complaints: { host: '127.0.0.1', port: mxPort, to: 'fbl@fbl.relay.test' },   // the relay's MX listener, below
  });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] }, localDomains: ['fbl.relay.test'],
    smtp: { mx: { host: '127.0.0.1', port: mxPort } },
    domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } },
    delivery: { port: sim.address('yahoo').port, pollInterval: '200ms', retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 } },
  });
  t.after(async () => { await relay.cleanup(); await sim.close(); await dns.close(); });
  dns.setZone({ 'yahoo.test': { MX: [{ exchange: 'mta5.am0.yahoodns.test', priority: 1 }] }, 'mta5.am0.yahoodns.test': { A: ['127.0.0.2'] } });
  assert.equal((await relay.cli(['domains', 'add', 'acme.test', '--key', 'rsa2048'])).code, 0);
  assert.equal((await relay.cli(['users', 'add', 'alice', '--password', 'alice-password', '--domain', 'acme.test'])).code, 0);
  await relay.start();

  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'alice-password' });
  const id = queueIdOf(await sub.send('news@acme.test', ['complaint@yahoo.test'], 'From: news@acme.test\r\nTo: complaint@yahoo.test\r\nSubject: Spring sale\r\n\r\n20% off\r\n'));
  sub.close();
  assert.ok(id);
  const [got] = await sim.waitFor(1, 20_000);
  assert.match(got!.mailFrom, /^bounce\+[0-9a-z]{20}\.[a-z0-9]{10}@bounces\.acme\.test$/i, 'the VERP return path');
  assert.deepEqual(got!.magic, { 'complaint@yahoo.test': 'complaint' });
  await eventually(() => sim.complaints()[0]);
  assert.match(sim.complaints()[0]!.reply ?? String(sim.complaints()[0]!.error), /^250 /);
  const complained = await relay.waitForLog((l) => l.event === 'inbound.report' && l.message === id, 20_000);
  assert.ok(complained);
  const list = await eventually(async () => {
    const rows = JSON.parse((await relay.cli(['suppressions', 'list', '--json'])).stdout) as { email?: string; address?: string; reason: string }[];
    return rows.find((r) => (r.email ?? r.address) === 'complaint@yahoo.test' && r.reason === 'complaint');
  });
  assert.ok(list);
});
