// End to end: per-provider traffic shaping (issue 11, docs/shaping.md) with the real relay (a child
// process) and the mailbox-provider simulator, found through the test DNS server. The relay maps
// the simulator's MX names to providers with shaping.mx (*.gmail.test → gmail, *.yahoodns.test →
// yahoo), as an operator would for a provider's regional hosts.
// (The shared budget of 2,000 Workspace domains: shaping-budget.test.ts.)
// A simulated Yahoo answering 421 [TSS04] after 3 messages a minute, with 2 sessions per IP:
//    the relay suspends yahoo (logged), resumes slowly, delivers everything with no bounce, and
//    never opens a third session.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { shapingSuite, submitTo } from '../helpers/sim-relay.js';

const suite = shapingSuite();
const submit = (to: string[], subject: string): Promise<string> => submitTo(suite.relay, to, subject);

test('a provider answering 421 [TSS04] after 3 a minute: the relay suspends it, recovers and delivers everything, no bounce, never over 2 sessions', async () => {
  const { sim, relay, shapingLogs } = suite;
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) ids.push(await submit([`user${i}@yahoo.test`], `yahoo ${i}`));
  await eventually(() => sim.refusals('yahoo').some((r) => r.reason === 'rate-limit') || undefined, 20_000);
  await eventually(() => shapingLogs().find((l) => l.event === 'shaping.suspended' && l.provider === 'yahoo' && l.action === 'yahoo-volume'), 10_000);
  // The simulator's minute moves on while the relay keeps retrying (suspended 1 s each time, at most).
  await eventually(() => {
    if (sim.received('yahoo').length >= 8) return true;
    suite.simNow += 60_001;
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
