// Traffic shaping over three relay nodes on one PostgreSQL database, against the simulated Yahoo
// (2 sessions per client IP, DATA answered after 100 ms so sessions overlap, 421 [TSS04] past 8
// messages a minute). Mail for ten Yahoo-hosted domains (MX rollup: one provider) is submitted to
// all three nodes: the provider's connection cap (2) holds over the cluster — the simulator never
// refuses a session for the limit — a suspension one node starts is adopted by the others
// through the store, and every message is delivered exactly once, none bounced.
// Needs PostgreSQL on 127.0.0.1:5432 (PL_TEST_PG_URL); skipped without it, except under CI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { Submitter } from '../helpers/smtp-client.js';
import { startSimulator } from '../../src/sim/simulator.js';

const MESSAGES = 24;
const skip = await skipUnless(TOOLS.postgres);

test('three nodes on PostgreSQL: the provider connection cap holds cluster-wide, suspensions are shared, all delivered once', { skip }, async (t) => {
  const url = await freshDatabase(t);
  const dns = await startDnsServer();
  let simNow = Date.now();
  const sim = await startSimulator({
    clock: { now: () => simNow }, keepBodies: false,
    providers: [{ name: 'yahoo', profile: 'yahoo', host: '127.0.0.4', overrides: { maxConnectionsPerIp: 2, dataDelay: '100ms', ratePerMinute: 8 } }],
  });
  const zone: Parameters<typeof dns.setZone>[0] = { 'mta5.am0.yahoodns.test': { A: ['127.0.0.4'] } };
  for (let i = 0; i < 10; i++) zone[`y${i}.test`] = { MX: [{ exchange: 'mta5.am0.yahoodns.test', priority: 1 }] };
  dns.setZone(zone);
  const config = {
    storage: { url },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: sim.address('yahoo').port, pollInterval: '200ms', leaseTime: '30s', retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 } },
    shaping: { mx: [{ provider: 'yahoo', mx: '*.yahoodns.test' }], providers: { yahoo: { maxConnections: 2 } }, maxSuspend: '2s', recoverEvery: '1s' },
  };
  const nodes = [await RelayProcess.create(config), await RelayProcess.create(config), await RelayProcess.create(config)];
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.cleanup()));
    await sim.close(); await dns.close();
  });
  assert.equal((await nodes[0]!.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'acme.test'])).code, 0);
  await Promise.all(nodes.map((n) => n.start()));

  const subs = nodes.map((n) => new Submitter({ port: n.port('submission'), user: 'app', pass: 'app-password' }));
  for (let i = 0; i < MESSAGES; i++) await subs[i % 3]!.send('app@acme.test', [`r${i}@y${i % 10}.test`], `Subject: n${i}\r\n\r\nseq ${i}\r\n`);
  subs.forEach((s) => s.close());

  await eventually(() => sim.refusals('yahoo').some((r) => r.reason === 'rate-limit') || undefined, 30_000);
  // One node was told [TSS04] and suspended yahoo; another adopts it from the store.
  await eventually(() => nodes.some((n) => n.logs.some((l) => l.event === 'shaping.suspended' && l.shared === true)) || undefined, 15_000);
  await eventually(() => {
    if (sim.received('yahoo').length >= MESSAGES) return true;
    simNow += 60_001; // the simulator's minute moves on
    return undefined;
  }, 60_000, 1000);
  const rcpts = sim.received('yahoo').flatMap((m) => m.rcptTo);
  assert.equal(rcpts.length, MESSAGES, 'no duplicates');
  assert.equal(new Set(rcpts).size, MESSAGES);
  const stats = sim.stats().find((s) => s.provider === 'yahoo')!;
  t.diagnostic(`sessions ${stats.sessions}, most at once ${stats.maxOpenSessions}, refusals ${JSON.stringify(stats.refusals)}`);
  assert.ok(stats.maxOpenSessions <= 2, `at most 2 sessions at once over three nodes (saw ${stats.maxOpenSessions})`);
  assert.equal(stats.refusals['connection-limit'] ?? 0, 0);
  const c = await eventually(async () => {
    const now = JSON.parse((await nodes[0]!.cli(['queue', 'stats', '--json'])).stdout) as Record<string, number>;
    return now.delivered === MESSAGES ? now : undefined;
  }, 20_000, 300);
  assert.equal(c.bounced, 0);
});
