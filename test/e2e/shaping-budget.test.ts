// End to end: per-provider traffic shaping (issue 11, docs/shaping.md) with the real relay (a child
// process) and the mailbox-provider simulator, found through the test DNS server. The relay maps
// the simulator's MX names to providers with shaping.mx (*.gmail.test → gmail, *.yahoodns.test →
// yahoo), as an operator would for a provider's regional hosts.
// 2,000 Workspace-style domains whose MX is the simulated Gmail share Gmail's one budget: with
//    60 a minute (a burst of 6, then one a second) only a handful are sent, whatever the number of
//    domains, and the rest waits queued (never bounced); `queue list --by provider` shows them as one.
// (The adaptive half, a provider answering 421 after N a minute: shaping-adaptive.test.ts.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { queueCounts, shapingSuite, submitTo } from '../helpers/sim-relay.js';

const WORKSPACE_DOMAINS = 2000;
const suite = shapingSuite(() => Object.fromEntries(Array.from({ length: WORKSPACE_DOMAINS },
  (_, i) => [`shop${i}.test`, { MX: [{ exchange: 'aspmx.l.gmail.test', priority: 1 }] }])));
const submit = (to: string[], subject: string): Promise<string> => submitTo(suite.relay, to, subject);
const counts = () => queueCounts(suite.relay);

test('2,000 Workspace-style domains whose MX is the simulated Gmail share one provider budget', async () => {
  const { sim, relay } = suite;
  const started = Date.now();
  const messages = Array.from({ length: WORKSPACE_DOMAINS / 100 }, (_, m) => m);
  for (let k = 0; k < messages.length; k += 5) { // five sessions at once
    await Promise.all(messages.slice(k, k + 5).map((m) => submit(Array.from({ length: 100 }, (_, i) => `user@shop${m * 100 + i}.test`), `workspace ${m}`)));
  }
  await eventually(() => sim.received('gmail').length >= 3 || undefined, 20_000);
  await new Promise((r) => setTimeout(r, 3000));
  const got = sim.received('gmail').length;
  const seconds = (Date.now() - started) / 1000;
  // A burst of 6 (a tenth of 60), then one a second: per domain there would be thousands by now.
  assert.ok(got <= 6 + Math.ceil(seconds) + 1, `${got} delivered in ${seconds.toFixed(1)} s`);
  const c = await counts();
  assert.equal(c.bounced, 0);
  assert.equal(c.expired, 0);
  assert.equal(c.queued + c.deferred + c.delivering + c.delivered, WORKSPACE_DOMAINS, JSON.stringify(c));
  assert.ok(c.delivered <= 6 + Math.ceil((Date.now() - started) / 1000) + 1, JSON.stringify(c));
  // The operator's view: one provider holding (almost) all the waiting mail of 2,000 domains.
  const out = await relay.cli(['queue', 'list', '--by', 'provider', '--json']);
  assert.equal(out.code, 0, out.stderr);
  const groups = JSON.parse(out.stdout) as { provider: string; waiting: number; domains: number; shaped: boolean; perMinute: number | null }[];
  const gmail = groups.find((g) => g.provider === 'gmail')!;
  assert.equal(groups[0]!.provider, 'gmail');
  assert.ok(gmail.shaped && gmail.perMinute === 60 && gmail.waiting >= WORKSPACE_DOMAINS - 40 && gmail.domains === gmail.waiting, JSON.stringify(gmail));
  // The same over the API (operator only), with this node's current rate.
  const operator = JSON.parse((await relay.cli(['keys', 'create', '--account', 'default', '--scope', 'admin', '--json'])).stdout).token as string;
  const res = await fetch(`http://127.0.0.1:${relay.port('http')}/v1/queue/providers`, { headers: { authorization: `Bearer ${operator}` } });
  assert.equal(res.status, 200);
  const api = (await res.json() as { data: { provider: string; waiting: number; per_minute: number; rate_per_minute: number; scale: number }[] }).data;
  const g = api.find((x) => x.provider === 'gmail')!;
  assert.ok(g.waiting >= WORKSPACE_DOMAINS - 40 && g.per_minute === 60 && g.scale === 1, JSON.stringify(g));
  assert.ok(g.rate_per_minute >= 1 && g.rate_per_minute <= 6 + 60, JSON.stringify(g));
});
