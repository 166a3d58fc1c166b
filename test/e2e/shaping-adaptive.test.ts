// End to end: per-provider traffic shaping (issue 11, docs/shaping.md) with the real relay (a child
// process) and the mailbox-provider simulator, found through the test DNS server. The relay maps
// the simulator's MX names to providers with shaping.mx (*.gmail.test → gmail, *.yahoodns.test →
// yahoo), as an operator would for a provider's regional hosts.
// (The shared budget of 2,000 Workspace domains: shaping-budget.test.ts.)
// A simulated Yahoo answering 421 [TSS04] after 3 messages a minute, with 2 sessions per IP:
//    the relay suspends yahoo (logged), resumes slowly, delivers everything with no bounce, and
//    never opens a third session.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually, type LogLine } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';
import { startSimulator, type Simulator } from '../../src/sim/simulator.js';

const PASSWORD = 'correct horse battery';
let dns: DnsServer;
let sim: Simulator;
let relay: RelayProcess;
let simNow = Date.now();
/** The relay's shaping.* log lines. */
const shapingLogs = (): LogLine[] => relay.logs.filter((l) => String(l.event ?? '').startsWith('shaping.'));

before(async () => {
  dns = await startDnsServer();
  sim = await startSimulator({
    clock: { now: () => simNow },
    keepBodies: false,
    providers: [
      { name: 'gmail', profile: 'gmail', host: '127.0.0.2' },
      { name: 'yahoo', profile: 'yahoo', host: '127.0.0.4', overrides: { ratePerMinute: 3, maxConnectionsPerIp: 2 } },
    ],
  });
  const zone: Parameters<DnsServer['setZone']>[0] = {
    'aspmx.l.gmail.test': { A: ['127.0.0.2'] },
    'yahoo.test': { MX: [{ exchange: 'mta5.am0.yahoodns.test', priority: 1 }] },
    'mta5.am0.yahoodns.test': { A: ['127.0.0.4'] },
  };
  dns.setZone(zone);
  relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: {
      port: sim.address('gmail').port, pollInterval: '200ms', connectTimeout: '3s',
      retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 },
    },
    shaping: {
      mx: [{ provider: 'gmail', mx: '*.gmail.test' }, { provider: 'yahoo', mx: '*.yahoodns.test' }],
      providers: { gmail: { perMinute: 60, perHour: null }, yahoo: { maxConnections: 2, perMinute: 600, perHour: null } },
      maxSuspend: '1s', recoverEvery: '1s',
    },
  });
  const add = await relay.cli(['users', 'add', 'alice', '--domain', 'example.com'], PASSWORD + '\n');
  assert.equal(add.code, 0, add.stderr);
  await relay.start();
});

after(async () => {
  await relay?.cleanup();
  await Promise.all([sim?.close(), dns?.close()]);
});

async function submit(to: string[], subject: string): Promise<string> {
  const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  try {
    const id = queueIdOf(await sub.send('alice@example.com', to, `Subject: ${subject}\r\n\r\n${subject}\r\n`));
    assert.ok(id);
    return id;
  } finally { sub.close(); }
}

interface Counts { queued: number; deferred: number; delivering: number; delivered: number; bounced: number; expired: number }
const counts = async () => JSON.parse((await relay.cli(['queue', 'stats', '--json'])).stdout) as Counts;

test('a provider answering 421 [TSS04] after 3 a minute: the relay suspends it, recovers and delivers everything, no bounce, never over 2 sessions', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) ids.push(await submit([`user${i}@yahoo.test`], `yahoo ${i}`));
  await eventually(() => sim.refusals('yahoo').some((r) => r.reason === 'rate-limit') || undefined, 20_000);
  await eventually(() => shapingLogs().find((l) => l.event === 'shaping.suspended' && l.provider === 'yahoo' && l.action === 'yahoo-volume'), 10_000);
  // The simulator's minute moves on while the relay keeps retrying (suspended 1 s each time, at most).
  await eventually(() => {
    if (sim.received('yahoo').length >= 8) return true;
    simNow += 60_001;
    return undefined;
  }, 25_000, 500);
  assert.ok(shapingLogs().some((l) => l.event === 'shaping.resumed' && l.provider === 'yahoo'));
  const rcpts = sim.received('yahoo').flatMap((m) => m.rcptTo).sort();
  assert.deepEqual(rcpts, Array.from({ length: 8 }, (_, i) => `user${i}@yahoo.test`).sort(), 'each once');
  const stats = sim.stats().find((s) => s.provider === 'yahoo')!;
  assert.ok(stats.maxOpenSessions <= 2, `max sessions ${stats.maxOpenSessions}`);
  assert.equal(stats.refusals['connection-limit'] ?? 0, 0);
  const c = await eventually(async () => {
    const now = JSON.parse((await relay.cli(['queue', 'stats', '--json'])).stdout) as Record<string, number>;
    return now.delivered === ids.length ? now : undefined; // the last result may still be being recorded
  });
  assert.deepEqual([c.delivered, c.bounced, c.expired, c.queued + c.deferred + c.delivering], [ids.length, 0, 0, 0], JSON.stringify(c));
});
