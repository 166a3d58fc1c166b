// End to end: the real relay (a child process) delivering to the mailbox-provider simulator, found
// through the test DNS server: gmail.test → the Gmail profile on 127.0.0.2, outlook.test → the
// Microsoft profile on 127.0.0.3, yahoo.test → the Yahoo profile on 127.0.0.4 (one port). The
// simulator runs on a clock the test moves, so greylisting and rate windows end when the test says:
// greylisted mail is retried and delivered; 5.1.1 / 5.5.0 become a hard bounce and a suppression;
// a rate limit makes mail deferred (Yahoo's 421 at MAIL FROM, Gmail's multi-line 421-4.7.28 after
// DATA, their texts kept), then delivered once the window has moved. yahoo.test is Yahoo to the
// traffic shaping (its name is in the provider table), so TSS04 also suspends yahoo: the relay
// runs with shaping.maxSuspend 1s here so the suspension ends while the test moves the window.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, type RelayProcess } from '../helpers/relay-process.js';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { startSimRelay, submitTo } from '../helpers/sim-relay.js';
import { startSimulator, type Simulator } from '../../src/sim/simulator.js';

let dns: DnsServer;
let sim: Simulator;
let relay: RelayProcess;
let now = Date.now();
const clock = { now: () => now };

before(async () => {
  dns = await startDnsServer();
  sim = await startSimulator({
    clock,
    providers: [
      { name: 'gmail', profile: 'gmail', host: '127.0.0.2', overrides: { greylistDelay: '5m', unknownRecipients: ['gone@gmail.test'] } },
      { name: 'outlook', profile: 'microsoft', host: '127.0.0.3', overrides: { unknownRecipients: ['nobody-*@'] } },
      { name: 'yahoo', profile: 'yahoo', host: '127.0.0.4', overrides: { ratePerMinute: 2 } },
      { name: 'gmail-busy', profile: 'gmail', host: '127.0.0.5', overrides: { ratePerMinute: 1 } },
    ],
  });
  dns.setZone({
    'gmail.test': { MX: [{ exchange: 'gmail-smtp-in.l.gmail.test', priority: 5 }] },
    'gmail-smtp-in.l.gmail.test': { A: ['127.0.0.2'] },
    'outlook.test': { MX: [{ exchange: 'outlook-test.mail.protection.outlook.test', priority: 10 }] },
    'outlook-test.mail.protection.outlook.test': { A: ['127.0.0.3'] },
    'yahoo.test': { MX: [{ exchange: 'mta5.am0.yahoodns.test', priority: 1 }] },
    'mta5.am0.yahoodns.test': { A: ['127.0.0.4'] },
    'busy.gmail.test': { MX: [{ exchange: 'alt1.gmail-smtp-in.l.gmail.test', priority: 5 }] },
    'alt1.gmail-smtp-in.l.gmail.test': { A: ['127.0.0.5'] },
  });
  relay = await startSimRelay({ dns, sim, port: 'gmail', shaping: { maxSuspend: '1s', recoverEvery: '1s' } });
});

after(async () => {
  await relay?.cleanup();
  await Promise.all([sim?.close(), dns?.close()]);
});

const submit = (to: string[], subject: string): Promise<string> => submitTo(relay, to, subject);

interface QueueView { recipients: { address: string; state: string }[]; attempts: { address: string; status: string; response: string }[] }
const show = async (id: string) => JSON.parse((await relay.cli(['queue', 'show', id, '--json'])).stdout) as QueueView;

test('greylisting: the relay is told 451 4.7.1, retries, and the message is delivered once the greylist delay has passed', async () => {
  const id = await submit(['bob@gmail.test'], 'greylisted');
  await eventually(() => sim.refusals('gmail').some((r) => r.reason === 'greylisted' && r.rcpt === 'bob@gmail.test') || undefined);
  await eventually(async () => (await show(id)).attempts.some((a) => a.status === 'deferred') || undefined);
  assert.equal(sim.received('gmail').length, 0, 'nothing accepted while greylisted');
  now += 5 * 60_000;
  const got = await eventually(() => sim.received('gmail').find((m) => m.rcptTo.includes('bob@gmail.test')), 20_000);
  assert.equal(got.mailFrom.endsWith('@example.com') || got.mailFrom.includes('bounce'), true, `return path: ${got.mailFrom}`);
  assert.equal(got.clientIp, '127.0.0.1');
  const view = await eventually(async () => { const v = await show(id); return v.attempts.at(-1)?.status === 'delivered' ? v : undefined; });
  assert.match(view.attempts[0]!.response, /451.*4\.7\.1 Greylisted/);
  assert.ok(view.attempts.slice(0, -1).every((a) => a.status === 'deferred'));
});

test('unknown recipients: Gmail 550 5.1.1 and Microsoft 550 5.5.0 become hard bounces and suppressions', async () => {
  const id = await submit(['gone@gmail.test', 'nobody-42@outlook.test'], 'unknown users');
  const view = await eventually(async () => {
    const v = await show(id);
    return v.recipients.every((r) => r.state === 'bounced') ? v : undefined;
  }, 20_000);
  const byAddress = Object.fromEntries(view.attempts.map((a) => [a.address, a]));
  assert.match(byAddress['gone@gmail.test']!.response, /550[ -]5\.1\.1 The email account that you tried to reach does not exist/);
  assert.match(byAddress['nobody-42@outlook.test']!.response, /550 5\.5\.0 Requested action not taken: mailbox unavailable/);
  const list = await eventually(async () => {
    const out = await relay.cli(['suppressions', 'list', '--json']);
    const rows = JSON.parse(out.stdout) as { email?: string; address?: string; reason: string }[];
    const emails = rows.filter((r) => r.reason === 'hard-bounce').map((r) => r.email ?? r.address);
    return emails.includes('gone@gmail.test') && emails.includes('nobody-42@outlook.test') ? emails : undefined;
  });
  assert.ok(list.length >= 2);
  assert.equal(sim.stats().find((s) => s.provider === 'gmail')!.refusals['unknown-recipient'], 1);
});

test('rate limit: over 2 a minute Yahoo answers 421 [TSS04] at MAIL FROM; the relay defers and delivers once the window has moved', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await submit([`user${i}@yahoo.test`], `burst ${i}`));
  await eventually(() => sim.received('yahoo').length >= 2 && sim.refusals('yahoo').some((r) => r.reason === 'rate-limit') ? true : undefined, 20_000);
  assert.equal(sim.received('yahoo').length, 2, 'the window holds two');
  const deferred = await eventually(async () => {
    for (const id of ids) {
      const v = await show(id);
      const a = v.attempts.find((x) => x.status === 'deferred');
      if (a) return a;
    }
    return undefined;
  });
  assert.match(deferred.response, /421.*\[TSS04\] Messages from 127\.0\.0\.1 temporarily deferred due to unexpected volume or user complaints/);
  // A throttle reply: yahoo is suspended for this source (capped at 1 s here), never bounced.
  await relay.waitForLog((l) => l.event === 'shaping.suspended' && l.provider === 'yahoo' && l.action === 'yahoo-volume');
  // The window moves in steps (two more per minute) until everything is in.
  await eventually(() => {
    if (sim.received('yahoo').length >= 4) return true;
    now += 60_001;
    return undefined;
  }, 30_000, 500);
  const got = sim.received('yahoo').flatMap((m) => m.rcptTo).sort();
  assert.deepEqual(got, ['user0@yahoo.test', 'user1@yahoo.test', 'user2@yahoo.test', 'user3@yahoo.test']);
  for (const id of ids) await eventually(async () => (await show(id)).recipients.every((r) => r.state === 'delivered') || undefined);
});

test('rate limit after DATA: Gmail\'s multi-line 421-4.7.28 defers the second message with its text; nothing is received twice', async () => {
  const first = await submit(['ann@busy.gmail.test'], 'gmail burst 1');
  await eventually(() => sim.received('gmail-busy').length === 1 || undefined);
  const second = await submit(['ben@busy.gmail.test'], 'gmail burst 2');
  const deferred = await eventually(async () => (await show(second)).attempts.find((a) => a.status === 'deferred'));
  assert.match(deferred.response, /^421[ -]4\.7\.28 \[127\.0\.0\.1\] Our system has detected an unusual rate of .*unsolicited mail originating from your IP address\./);
  assert.match(deferred.response, /review our Bulk Email Senders Guidelines\. [0-9a-f]+ - gsmtp$/);
  assert.equal(sim.received('gmail-busy').length, 1, 'the refused DATA is not received');
  now += 60_001;
  await eventually(async () => (await show(second)).recipients.every((r) => r.state === 'delivered') || undefined, 20_000);
  assert.deepEqual(sim.received('gmail-busy').map((m) => m.rcptTo[0]), ['ann@busy.gmail.test', 'ben@busy.gmail.test']);
  assert.equal((await show(first)).attempts.length, 1);
});
