// PostgreSQL stopped for a while under load. One relay node on a private PostgreSQL server
// (test/helpers/pg-instance.ts: the shared server on 5432 stays up for the other tests) takes
// mail from several submission sessions while a slow receiving MX keeps deliveries in flight;
// mid-load the server is stopped (`pg_ctl stop -m fast`: sessions terminated, then connections
// refused), and started again a few seconds later. Checked over real sockets:
//   - every message a client got 250 for is delivered (nothing lost); every refusal was a 4xx;
//   - no message refused with a 4xx is delivered;
//   - the relay neither crashes nor exits; delivery logs paused/resumed and the store logs
//     unavailable/available as alternating pairs (once per episode, never a line per failure),
//     ending available; deliveries that finished during the outage are recorded afterwards.
// Duplicates are allowed (at-least-once) and reported with t.diagnostic.
// A refusal whose COMMIT reached the server just before it was stopped could in theory be both
// refused and delivered (the client cannot tell a lost reply from a lost commit); the window is
// the time between the commit and its reply, and the assertion below would report it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PgInstance } from '../helpers/pg-instance.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';

const SESSIONS = 4;
const PACE_MS = 200;            // per session, between two messages
const BEFORE = 20;              // accepted before the server is stopped
const OUTAGE_MS = 2_500;        // at least this long down ...
const OUTAGE_REFUSALS = 10;     // ... and at least this many refusals meanwhile
const AFTER = 20;               // accepted after it is back
const MAX_MESSAGES = 140;       // bound on the whole load

const skip = await skipUnless(TOOLS.pgServerBinaries);

/** eventually(), failing with the name of the step that did not happen. */
const step = <T>(name: string, fn: () => T, ms: number) => eventually(fn, ms, 50).catch(() => { throw new Error(`timed out: ${name}`); });

type Outcome = { accepted: true; id: string | null } | { accepted: false; code: number | null; message: string };

test('PostgreSQL stopped under load: 4xx, never 250 then loss; everything accepted is delivered after it returns', { skip, timeout: 90_000 }, async (t) => {
  const pg = await PgInstance.create();
  assert.ok(pg, 'PostgreSQL server binaries are required under CI');
  let relay: RelayProcess | null = null;
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0, behaviour: { dataDelayMs: 300 } }); // deliveries in flight
  t.after(async () => { await relay?.cleanup(); await mx.close(); await dns.close(); await pg.cleanup(); });
  await pg.start();
  dns.setZone({ 'outage.test': { MX: [{ exchange: 'mx.outage.test', priority: 10 }] }, 'mx.outage.test': { A: ['127.0.0.2'] } });
  relay = await RelayProcess.create({
    storage: { url: pg.url(), connectTimeout: '2s' },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms' },
  });
  assert.equal((await relay.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'outage.test'])).code, 0);
  await relay.start();

  const outcomes = new Map<number, Outcome>();
  const accepted = () => [...outcomes].filter(([, o]) => o.accepted).map(([seq]) => seq);
  const refused = () => [...outcomes].filter(([, o]) => !o.accepted) as [number, Extract<Outcome, { accepted: false }>][];
  let next = 0;
  let done = false;
  const submit = async () => {
    const sub = new Submitter({ port: relay.port('submission'), user: 'app', pass: 'app-password' });
    while (!done && next < MAX_MESSAGES) {
      const seq = next++;
      try {
        const response = await sub.send('app@outage.test', [`r${seq}@outage.test`], `Subject: pg${seq}\r\nX-Seq: ${seq}\r\n\r\nseq ${seq}\r\n`);
        outcomes.set(seq, { accepted: true, id: queueIdOf(response) });
      } catch (err) {
        const e = err as { responseCode?: number; message: string };
        outcomes.set(seq, { accepted: false, code: e.responseCode ?? null, message: e.message });
      }
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
    sub.close();
  };
  const load = Promise.all(Array.from({ length: SESSIONS }, submit));

  await step(`${BEFORE} messages accepted`, () => accepted().length >= BEFORE, 30_000);
  await step('deliveries under way', () => mx.messages.length > 0, 10_000);
  const stoppedAt = Date.now();
  await pg.stop('fast');
  const refusedBefore = refused().length;
  await step('refusals while the database is down', () => Date.now() - stoppedAt >= OUTAGE_MS && refused().length - refusedBefore >= OUTAGE_REFUSALS, 30_000);
  const acceptedDuring = accepted().length;
  await pg.start();
  const downMs = Date.now() - stoppedAt;
  await step(`${AFTER} more accepted after the database returned`, () => accepted().length >= acceptedDuring + AFTER, 30_000);
  done = true;
  await load;

  const seqs = () => mx.messages.map((m) => Number(/X-Seq: (\d+)/.exec(m.body.toString())?.[1]));
  const ok = accepted();
  await eventually(() => { const got = new Set(seqs()); return ok.every((s) => got.has(s)); }, 30_000, 100)
    .catch(() => undefined); // asserted below, with the list
  // Every recipient final (the queue lists nothing): no copy, duplicate or refused one, can still arrive.
  await eventually(async () => (JSON.parse((await relay.cli(['queue', 'list', '--json'])).stdout) as unknown[]).length === 0, 60_000, 200)
    .catch(() => undefined); // a stuck message shows up as lost below
  const delivered = new Set(seqs());
  const duplicates = seqs().length - delivered.size;
  const lost = ok.filter((s) => !delivered.has(s));
  const refusals = refused();
  const refusedButDelivered = refusals.filter(([s]) => delivered.has(s)).map(([s]) => s);
  const not4xx = refusals.filter(([, o]) => o.code === null || o.code < 400 || o.code >= 500);
  const codes = [...new Set(refusals.map(([, o]) => o.code))].sort();
  const count = (event: string) => relay.logs.filter((l) => l.event === event).length;

  t.diagnostic(`submitted ${outcomes.size}: ${ok.length} accepted, ${refusals.length} refused (replies ${codes.join(', ')}); ` +
    `database down ${downMs} ms; delivered ${delivered.size}, duplicates ${duplicates}, lost ${lost.length}; ` +
    `results kept and recorded after the outage ${count('delivery.record_recovered')}, given up ${count('delivery.record_gave_up')}`);

  t.diagnostic(`outage events: ${relay.logs.filter((l) => /^(queue\.(un)?available|delivery\.(paused|resumed))$/.test(String(l.event))).map((l) => `${String(l.time).slice(17, 23)} ${l.event} ${l.op ?? ''} ${l.code ?? ''} ${l.reason ?? ''}`).join('; ')}`);
  const warnings = new Map<string, number>();
  for (const l of relay.logs) if ((l.level ?? 0) >= 40) warnings.set(String(l.event), (warnings.get(String(l.event)) ?? 0) + 1);
  t.diagnostic(`warn/error lines by event: ${JSON.stringify(Object.fromEntries(warnings))}`);
  for (const s of lost) { // what the relay did with a lost message, to debug a failure
    const o = outcomes.get(s) as { id: string | null };
    t.diagnostic(`lost ${s} (${o.id}): ${JSON.stringify(relay.logs.filter((l) => l.id === o.id).map(({ event, response, msg }) => ({ event, response, msg })))}`);
  }
  assert.ok(refusals.length >= OUTAGE_REFUSALS, 'the outage was under load: clients were refused');
  assert.deepEqual(not4xx.map(([s, o]) => `${s}: ${o.code} ${o.message}`), [], 'every refusal is a temporary (4xx) reply');
  assert.deepEqual(lost, [], 'every message answered 250 is delivered');
  assert.deepEqual(refusedButDelivered, [], 'no message refused with 4xx is delivered');
  assert.equal(relay.child?.exitCode ?? null, null, 'the relay is still running');
  assert.equal(count('relay.crash'), 0);
  // Outage lines come in pairs, one per episode the relay saw: never two pauses (or two
  // "unavailable") without a recovery between them, and the last word is the recovery. How many
  // episodes a loaded machine sees around a restart is not this test's business.
  assertPairs(relay.logs.map((l) => l.event), 'delivery.paused', 'delivery.resumed');
  assertPairs(relay.logs.map((l) => l.event), 'queue.unavailable', 'queue.available');
  assert.equal(count('delivery.record_gave_up'), 0);
});

/** `down` and `up` alternate, starting with `down` (at least once) and ending with `up`. */
function assertPairs(events: unknown[], down: string, up: string) {
  const seq = events.filter((e) => e === down || e === up) as string[];
  const ups = seq.filter((e) => e === up).length;
  // A leading `up` (the store logging availability at start) is not part of an outage.
  const fromFirstDown = seq.slice(Math.max(0, seq.indexOf(down)));
  assert.ok(fromFirstDown.length >= 2 && fromFirstDown[0] === down, `${down} logged (${seq.join(' ')})`);
  fromFirstDown.forEach((e, i) => assert.equal(e, i % 2 === 0 ? down : up, `${down}/${up} alternate: ${seq.join(' ')}`));
  assert.equal(fromFirstDown.at(-1), up, `ends with ${up}`);
  assert.ok(ups >= 1);
}
