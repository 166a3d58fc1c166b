// A relay process pointed at the mailbox-provider simulator (src/sim/) through the test DNS
// server, with an SMTP user to submit as: the setup the simulator and shaping e2e tests share.
// Delivery retries quickly (300 ms, no jitter) and polls every 200 ms so a test sees deferrals
// come back within seconds; `shaping` is passed through as the test's own.
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { RelayProcess, type LogLine } from './relay-process.js';
import { startDnsServer, type DnsServer } from './dns-server.js';
import { Submitter, queueIdOf } from './smtp-client.js';
import { startSimulator, type Simulator } from '../../src/sim/simulator.js';

export const SIM_USER = { name: 'alice', password: 'correct horse battery', domain: 'example.com' };

/** Creates, provisions and starts the relay; the caller cleans it up. */
export async function startSimRelay(o: { dns: DnsServer; sim: Simulator; port: string; shaping: Record<string, unknown> }): Promise<RelayProcess> {
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${o.dns.port}`] },
    delivery: {
      port: o.sim.address(o.port).port, pollInterval: '200ms', connectTimeout: '3s',
      retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 },
    },
    shaping: o.shaping,
  });
  const add = await relay.cli(['users', 'add', SIM_USER.name, '--domain', SIM_USER.domain], SIM_USER.password + '\n');
  assert.equal(add.code, 0, add.stderr);
  await relay.start();
  return relay;
}

/** Submits one message as the user over the submission port; resolves to its queue id. */
export async function submitTo(relay: RelayProcess, to: string[], subject: string): Promise<string> {
  const sub = new Submitter({ port: relay.port('submission'), user: SIM_USER.name, pass: SIM_USER.password });
  try {
    const id = queueIdOf(await sub.send(`${SIM_USER.name}@${SIM_USER.domain}`, to, `Subject: ${subject}\r\n\r\n${subject}\r\n`));
    assert.ok(id);
    return id;
  } finally { sub.close(); }
}

export interface QueueCounts { queued: number; deferred: number; delivering: number; delivered: number; bounced: number; expired: number }

/** `postlane queue stats --json`. */
export const queueCounts = async (relay: RelayProcess): Promise<QueueCounts> => JSON.parse((await relay.cli(['queue', 'stats', '--json'])).stdout) as QueueCounts;

/**
 * The shaping e2e setup: a simulated Gmail (127.0.0.2) and a Yahoo (127.0.0.4) limited to 3 a
 * minute and 2 sessions per IP, MX records for yahoo.test (and `extraZone`), and a relay whose
 * shaping.mx maps *.gmail.test → gmail and *.yahoodns.test → yahoo, as an operator would map a
 * provider's regional hosts. Gmail: 60 a minute; Yahoo: at most 2 connections; suspensions 1 s.
 */
export async function startShapingSetup(now: () => number, extraZone: Parameters<DnsServer['setZone']>[0] = {}): Promise<{ dns: DnsServer; sim: Simulator; relay: RelayProcess }> {
  const dns = await startDnsServer();
  const sim = await startSimulator({
    clock: { now },
    keepBodies: false,
    providers: [
      { name: 'gmail', profile: 'gmail', host: '127.0.0.2' },
      { name: 'yahoo', profile: 'yahoo', host: '127.0.0.4', overrides: { ratePerMinute: 3, maxConnectionsPerIp: 2 } },
    ],
  });
  dns.setZone({
    'aspmx.l.gmail.test': { A: ['127.0.0.2'] },
    'yahoo.test': { MX: [{ exchange: 'mta5.am0.yahoodns.test', priority: 1 }] },
    'mta5.am0.yahoodns.test': { A: ['127.0.0.4'] },
    ...extraZone,
  });
  const relay = await startSimRelay({ dns, sim, port: 'gmail', shaping: {
    mx: [{ provider: 'gmail', mx: '*.gmail.test' }, { provider: 'yahoo', mx: '*.yahoodns.test' }],
    providers: { gmail: { perMinute: 60, perHour: null }, yahoo: { maxConnections: 2, perMinute: 600, perHour: null } },
    maxSuspend: '1s', recoverEvery: '1s',
  } });
  return { dns, sim, relay };
}

export interface ShapingSuite {
  dns: DnsServer; sim: Simulator; relay: RelayProcess;
  /** The simulator's clock: a test moves it on (e.g. `suite.simNow += 60_001`, the provider's next minute). */
  simNow: number;
  /** The relay's shaping.* log lines. */
  shapingLogs(): LogLine[];
}

/**
 * startShapingSetup for a whole test file: started in before(), closed in after(); the fields are
 * set once before() has run (read them inside the tests).
 */
export function shapingSuite(extraZone: () => Parameters<DnsServer['setZone']>[0] = () => ({})): ShapingSuite {
  const suite = {
    simNow: Date.now(),
    shapingLogs: () => suite.relay.logs.filter((l) => String(l.event ?? '').startsWith('shaping.')),
  } as ShapingSuite;
  before(async () => {
    Object.assign(suite, await startShapingSetup(() => suite.simNow, extraZone()));
  });
  after(async () => {
    await suite.relay?.cleanup();
    await Promise.all([suite.sim?.close(), suite.dns?.close()]);
  });
  return suite;
}
