// The mailbox-provider simulator driven by an independent client (Python's smtplib) over real
// sockets on loopback: each behaviour of a profile, with the providers' reply texts. Time-based
// rules (rate windows, greylisting) run on a hand-moved clock, so nothing here sleeps or times.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator, type Simulator } from '../../src/sim/simulator.js';
import { resolveProfile, SimProfileError } from '../../src/sim/profile.js';
import { TOOLS, skipUnless, toolPath } from '../helpers/require-tool.js';
import { eventually } from '../helpers/relay-process.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { parseReport } from '../../src/events/report-parser.js';
import { dialogue, codeOf, type Step } from './smtplib-dialogue.js';

const skip = await skipUnless(TOOLS.python3);
const PYTHON3 = (await toolPath(TOOLS.python3)) ?? 'python3';
const MSG = 'From: a@sender.test\r\nTo: b@gmail.test\r\nSubject: sim\r\n\r\nhello\r\n';

function manualClock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

async function withSim(providers: Parameters<typeof startSimulator>[0]['providers'], fn: (sim: Simulator) => Promise<void>, clock = manualClock()) {
  const sim = await startSimulator({ providers, clock });
  try { await fn(sim); } finally { await sim.close(); }
}

const send = (from: string, to: string[], body = MSG): Step[] => [
  ['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', from], ...to.map((r): Step => ['a', 'rcpt', r]), ['a', 'data', body], ['a', 'quit'],
];

test('gmail profile: greeting and EHLO, a message is accepted and recorded with the client IP, envelope and size', { skip }, async () => {
  await withSim([{ name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0 }], async (sim) => {
    const { host, port } = sim.address('gmail');
    const r = await dialogue(PYTHON3, host, port, send('a@sender.test', ['b@gmail.test']));
    assert.equal(codeOf(r[0]), 220);
    assert.match((r[0] as { text: string }).text, /^mx\.google\.com ESMTP [0-9a-f]+ - gsmtp$/);
    assert.match((r[1] as { text: string }).text, /STARTTLS/);
    assert.equal(codeOf(r[4]), 250);
    const [got] = sim.received('gmail');
    assert.equal(got?.provider, 'gmail');
    assert.equal(got?.clientIp, '127.0.0.1');
    assert.equal(got?.mailFrom, 'a@sender.test');
    assert.deepEqual(got?.rcptTo, ['b@gmail.test']);
    assert.equal(got?.size, got?.body?.length);
    assert.match(got!.body!.toString(), /Subject: sim/);
    assert.equal(got?.tls, false);
    const stats = sim.stats()[0]!;
    assert.equal(stats.messages, 1);
    assert.equal(stats.recipients, 1);
    assert.equal(stats.sessions, 1);
  });
});

test('gmail rate limit: over ratePerMinute per client IP the DATA gets the multi-line 421-4.7.28 and the session closes; the window slides', { skip }, async () => {
  const clock = manualClock();
  await withSim([{ name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0, overrides: { ratePerMinute: 2 } }], async (sim) => {
    const { host, port } = sim.address('gmail');
    for (let i = 0; i < 2; i++) assert.equal(codeOf((await dialogue(PYTHON3, host, port, send('a@sender.test', ['b@gmail.test'])))[4]), 250);
    const r = await dialogue(PYTHON3, host, port, [...send('a@sender.test', ['b@gmail.test']).slice(0, 5), ['a', 'mail', 'a@sender.test']]);
    assert.equal(codeOf(r[4]), 421);
    const text = (r[4] as { text: string }).text;
    assert.match(text, /^4\.7\.28 \[127\.0\.0\.1\] Our system has detected an unusual rate of\n4\.7\.28 unsolicited mail/);
    assert.match(text, /\n4\.7\.28 review our Bulk Email Senders Guidelines\. [0-9a-f]+ - gsmtp$/);
    assert.deepEqual(r[5], { error: 'disconnected' }, '421 closes the connection');
    assert.equal(sim.received().length, 2);
    assert.equal(sim.stats()[0]!.refusals['rate-limit'], 1);
    clock.advance(60_001);
    assert.equal(codeOf((await dialogue(PYTHON3, host, port, send('a@sender.test', ['b@gmail.test'])))[4]), 250, 'accepted again once the window moved');
  }, clock);
});

test('microsoft rate limit answers 451 4.7.650 at MAIL FROM; yahoo 421 [TSS04] at MAIL FROM', { skip }, async () => {
  await withSim([
    { name: 'outlook', profile: 'microsoft', host: '127.0.0.2', port: 0, overrides: { ratePerMinute: 1 } },
    { name: 'yahoo', profile: 'yahoo', host: '127.0.0.3', port: 0, overrides: { ratePerMinute: 1 } },
  ], async (sim) => {
    for (const name of ['outlook', 'yahoo']) {
      const { host, port } = sim.address(name);
      assert.equal(codeOf((await dialogue(PYTHON3, host, port, send('a@sender.test', ['b@x.test'])))[4]), 250);
    }
    const o = sim.address('outlook');
    const ro = await dialogue(PYTHON3, o.host, o.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@sender.test']]);
    assert.equal(codeOf(ro[2]), 451);
    assert.match((ro[2] as { text: string }).text, /^4\.7\.650 The mail server \[127\.0\.0\.1\] has been temporarily rate limited due to IP reputation\./);
    const y = sim.address('yahoo');
    const ry = await dialogue(PYTHON3, y.host, y.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@sender.test']]);
    assert.equal(codeOf(ry[2]), 421);
    assert.match((ry[2] as { text: string }).text, /^4\.7\.0 \[TSS04\] Messages from 127\.0\.0\.1 temporarily deferred due to unexpected volume or user complaints/);
    assert.deepEqual(sim.stats().map((s) => [s.provider, s.refusals['rate-limit']]), [['outlook', 1], ['yahoo', 1]]);
  });
});

test('gmail per-recipient rate: a recipient receiving too quickly gets 450 4.2.1 at RCPT, others are accepted', { skip }, async () => {
  await withSim([{ name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0, overrides: { recipientRatePerMinute: 1 } }], async (sim) => {
    const { host, port } = sim.address('gmail');
    assert.equal(codeOf((await dialogue(PYTHON3, host, port, send('a@sender.test', ['busy@gmail.test'])))[4]), 250);
    const r = await dialogue(PYTHON3, host, port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@sender.test'], ['a', 'rcpt', 'busy@gmail.test'], ['a', 'rcpt', 'calm@gmail.test']]);
    assert.equal(codeOf(r[3]), 450);
    assert.match((r[3] as { text: string }).text, /^4\.2\.1 The user you are trying to contact is receiving mail too quickly\./);
    assert.equal(codeOf(r[4]), 250);
  });
});

test('per-IP concurrent connections: the extra session gets 421 at the greeting; a slot frees when one closes', { skip }, async () => {
  await withSim([{ name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0, overrides: { maxConnectionsPerIp: 2 } }], async (sim) => {
    const { host, port } = sim.address('gmail');
    const r = await dialogue(PYTHON3, host, port, [['a', 'connect'], ['b', 'connect'], ['c', 'connect'], ['a', 'quit']]);
    assert.equal(codeOf(r[0]), 220);
    assert.equal(codeOf(r[1]), 220);
    assert.equal(codeOf(r[2]), 421);
    assert.match((r[2] as { text: string }).text, /^4\.7\.0 Try again later, closing connection\./);
    assert.equal(codeOf(r[3]), 221);
    await eventually(() => sim.stats()[0]!.openSessions === 0 || undefined);
    const again = await dialogue(PYTHON3, host, port, [['a', 'connect'], ['b', 'connect']]);
    assert.deepEqual(again.map(codeOf), [220, 220], 'the slots are free once the sessions closed');
    const stats = sim.stats()[0]!;
    assert.equal(stats.refusals['connection-limit'], 1);
    assert.equal(stats.maxOpenSessions, 2);
  });
});

test('greylisting: the first attempt of a (client IP, sender, recipient) triple gets 451 4.7.1, a retry after the delay is accepted', { skip }, async () => {
  const clock = manualClock();
  await withSim([{ name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0, overrides: { greylistDelay: '5m' } }], async (sim) => {
    const { host, port } = sim.address('gmail');
    const first = await dialogue(PYTHON3, host, port, send('a@sender.test', ['b@gmail.test']));
    assert.equal(codeOf(first[3]), 451);
    assert.match((first[3] as { text: string }).text, /^4\.7\.1 Greylisted/);
    clock.advance(60_000);
    assert.equal(codeOf((await dialogue(PYTHON3, host, port, send('a@sender.test', ['b@gmail.test'])))[3]), 451, 'too early');
    const other = await dialogue(PYTHON3, host, port, send('other@sender.test', ['b@gmail.test']));
    assert.equal(codeOf(other[3]), 451, 'another sender is another triple');
    clock.advance(4 * 60_000);
    const retry = await dialogue(PYTHON3, host, port, send('a@sender.test', ['b@gmail.test']));
    assert.equal(codeOf(retry[3]), 250);
    assert.equal(codeOf(retry[4]), 250);
    assert.equal(sim.received().length, 1);
    assert.equal(sim.stats()[0]!.refusals.greylisted, 3);
  }, clock);
});

test('unknown recipients: a listed address and a pattern get the provider\'s 5.1.1 / 5.5.0 / Yahoo "dd" reply at RCPT', { skip }, async () => {
  await withSim([
    { name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0, overrides: { unknownRecipients: ['gone@gmail.test', 'unknown-*@'] } },
    { name: 'outlook', profile: 'microsoft', host: '127.0.0.3', port: 0, overrides: { unknownRecipients: ['nobody-*@'] } },
    { name: 'yahoo', profile: 'yahoo', host: '127.0.0.4', port: 0, overrides: { unknownRecipients: ['*@gone.yahoo.test'] } },
  ], async (sim) => {
    const g = sim.address('gmail');
    const rg = await dialogue(PYTHON3, g.host, g.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'],
      ['a', 'rcpt', 'gone@gmail.test'], ['a', 'rcpt', 'Unknown-7@any.test'], ['a', 'rcpt', 'known@gmail.test']]);
    assert.deepEqual([codeOf(rg[3]), codeOf(rg[4]), codeOf(rg[5])], [550, 550, 250]);
    assert.match((rg[3] as { text: string }).text, /^5\.1\.1 The email account that you tried to reach does not exist\. Please try\n5\.1\.1 double-checking/);
    const o = sim.address('outlook');
    const ro = await dialogue(PYTHON3, o.host, o.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'nobody-x1@hotmail.test']]);
    assert.equal(codeOf(ro[3]), 550);
    assert.match((ro[3] as { text: string }).text, /^5\.5\.0 Requested action not taken: mailbox unavailable \(S2017062302\)/);
    const y = sim.address('yahoo');
    const ry = await dialogue(PYTHON3, y.host, y.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'joe@gone.yahoo.test']]);
    assert.equal(codeOf(ry[3]), 554);
    assert.match((ry[3] as { text: string }).text, /^delivery error: dd This user doesn't have a gone\.yahoo\.test account \(joe@gone\.yahoo\.test\)/);
    assert.deepEqual(sim.refusals().map((x) => [x.provider, x.stage, x.reason]).sort(),
      [['gmail', 'rcpt', 'unknown-recipient'], ['gmail', 'rcpt', 'unknown-recipient'], ['outlook', 'rcpt', 'unknown-recipient'], ['yahoo', 'rcpt', 'unknown-recipient']]);
  });
});

test('policy blocks: a listed client IP (Yahoo at the greeting, Microsoft S3150 at MAIL), a listed sender, listed content', { skip }, async () => {
  await withSim([
    { name: 'yahoo', profile: 'yahoo', host: '127.0.0.2', port: 0, overrides: { blockedIps: ['127.0.0.0/8'] } },
    { name: 'outlook', profile: 'microsoft', host: '127.0.0.3', port: 0, overrides: { blockedIps: ['127.0.0.1'] } },
    { name: 'yahoo2', profile: 'yahoo', host: '127.0.0.4', port: 0, overrides: { blockedSenders: ['*@spammer.test'], blockedContent: ['BUY NOW'] } },
  ], async (sim) => {
    const y = sim.address('yahoo');
    const ry = await dialogue(PYTHON3, y.host, y.port, [['a', 'connect']]);
    assert.equal(codeOf(ry[0]), 553);
    assert.match((ry[0] as { text: string }).text, /^5\.7\.1 \[BL21\] Connections will not be accepted from 127\.0\.0\.1, because the ip is in Spamhaus's list/);
    const o = sim.address('outlook');
    const ro = await dialogue(PYTHON3, o.host, o.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test']]);
    assert.equal(codeOf(ro[2]), 550);
    assert.match((ro[2] as { text: string }).text, /^5\.7\.1 Unfortunately, messages from \[127\.0\.0\.1\] weren't sent\. .*\(S3150\)/);
    const y2 = sim.address('yahoo2');
    const rs = await dialogue(PYTHON3, y2.host, y2.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'bob@spammer.test']]);
    assert.equal(codeOf(rs[2]), 554);
    assert.match((rs[2] as { text: string }).text, /^5\.7\.9 Message not accepted for policy reasons\./);
    const rc = await dialogue(PYTHON3, y2.host, y2.port, send('a@fine.test', ['b@yahoo.test'], 'Subject: deal\r\n\r\nbuy now!\r\n'));
    assert.equal(codeOf(rc[4]), 554);
    assert.equal(sim.received().length, 0);
    assert.deepEqual(sim.refusals().map((x) => x.reason).sort(), ['blocked-content', 'blocked-ip', 'blocked-ip', 'blocked-sender']);
  });
});

test('slow DATA: the final reply comes dataDelay after the body (a client with a short timeout gives up; a patient one gets 250)', { skip }, async () => {
  await withSim([{ name: 'slow', profile: 'gmail', host: '127.0.0.2', port: 0, overrides: { dataDelay: '3s' } }], async (sim) => {
    const { host, port } = sim.address('slow');
    const impatient = await dialogue(PYTHON3, host, port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'b@gmail.test'], ['a', 'timeout', 0.3], ['a', 'data', MSG]]);
    assert.match((impatient[5] as { error: string }).error, /timed out/);
    const patient = await dialogue(PYTHON3, host, port, send('a@s.test', ['c@gmail.test']));
    assert.equal(codeOf(patient[4]), 250);
    assert.ok(sim.received().some((m) => m.rcptTo[0] === 'c@gmail.test'));
  }, { now: () => Date.now(), advance: () => undefined });
});

test('STARTTLS with a self-signed certificate; the message is recorded as received over TLS. starttls: false offers none', { skip }, async () => {
  await withSim([
    { name: 'tls', profile: 'microsoft', host: '127.0.0.2', port: 0 },
    { name: 'plain', profile: 'microsoft', host: '127.0.0.3', port: 0, overrides: { starttls: false } },
  ], async (sim) => {
    const t = sim.address('tls');
    const r = await dialogue(PYTHON3, t.host, t.port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'starttls'], ['a', 'mail', 'a@s.test'], ['a', 'rcpt', 'b@outlook.test'], ['a', 'data', MSG]]);
    assert.equal(codeOf(r[2]), 220);
    assert.equal(codeOf(r[5]), 250);
    assert.equal(sim.received('tls')[0]?.tls, true);
    const p = sim.address('plain');
    const rp = await dialogue(PYTHON3, p.host, p.port, [['a', 'connect'], ['a', 'ehlo']]);
    assert.doesNotMatch((rp[1] as { text: string }).text, /STARTTLS/);
  });
});

test('SES-like magic addresses: success@ and ooto@ are accepted and tagged, bounce@ and suppressionlist@ get the 5.1.1 reply', { skip }, async () => {
  await withSim([{ name: 'gmail', profile: 'gmail', host: '127.0.0.2', port: 0 }], async (sim) => {
    const { host, port } = sim.address('gmail');
    const r = await dialogue(PYTHON3, host, port, [['a', 'connect'], ['a', 'ehlo'], ['a', 'mail', 'a@s.test'],
      ['a', 'rcpt', 'success@sim.test'], ['a', 'rcpt', 'ooto+label@sim.test'], ['a', 'rcpt', 'bounce@sim.test'], ['a', 'rcpt', 'suppressionlist@sim.test'],
      ['a', 'data', MSG]]);
    assert.deepEqual(r.slice(3, 8).map(codeOf), [250, 250, 550, 550, 250]);
    assert.match((r[5] as { text: string }).text, /^5\.1\.1 The email account that you tried to reach does not exist/);
    assert.deepEqual(sim.received()[0]?.magic, { 'success@sim.test': 'success', 'ooto+label@sim.test': 'ooto' });
    assert.equal(sim.stats()[0]!.refusals['magic-bounce'], 2);
  });
});

test('profiles: a bad key or value is an error naming it; an unknown stock profile is named', () => {
  assert.throws(() => resolveProfile('gmail', { ratePerMinute: -1 }), (e: unknown) => e instanceof SimProfileError && /ratePerMinute/.test(e.message));
  assert.throws(() => resolveProfile('gmail', { greylistDelay: 'soon' }), /greylistDelay: not a duration/);
  assert.throws(() => resolveProfile({ extends: 'gmail', ratelimit: 3 } as never), /Unrecognized key.*ratelimit/);
  assert.throws(() => resolveProfile('hotmail'), /unknown stock profile "hotmail" \(one of: gmail, microsoft, yahoo\)/);
  const custom = resolveProfile({ extends: 'microsoft', name: 'corp', greylistDelay: 30 });
  assert.equal(custom.name, 'corp');
  assert.equal(custom.greylistDelay, 30_000);
  assert.equal(custom.rateLimitReply.code, 451);
});

test('complaint@: the message is accepted, then an ARF report about it is mailed to the complaint target (read back by our report parser)', { skip }, async () => {
  const fbl = await startReceiver({ host: '127.0.0.3', port: 0, tls: false });
  const sim = await startSimulator({ providers: [{ name: 'yahoo', profile: 'yahoo', host: '127.0.0.2', port: 0 }], complaints: { host: fbl.host, port: fbl.port } });
  try {
    const { host, port } = sim.address('yahoo');
    const r = await dialogue(PYTHON3, host, port, send('bounce+01ABC.x@bounces.relay.test', ['complaint@yahoo.test', 'calm@yahoo.test'],
      'From: news@acme.test\r\nTo: complaint@yahoo.test\r\nSubject: Spring sale\r\nMessage-ID: <m1@relay.test>\r\n\r\n20% off\r\n'));
    assert.equal(codeOf(r[5]), 250);
    const [report] = await fbl.waitFor(1, 15_000);
    assert.equal(report!.mailFrom, 'feedback@mta7.am0.yahoodns.test');
    assert.deepEqual(report!.rcptTo, ['bounce+01ABC.x@bounces.relay.test'], 'sent to the return path by default');
    const arf = await parseReport(report!.body);
    assert.equal(arf.kind, 'arf');
    if (arf.kind !== 'arf') return;
    assert.equal(arf.feedbackType, 'abuse');
    assert.equal(arf.originalMailFrom, 'bounce+01ABC.x@bounces.relay.test');
    assert.deepEqual(arf.originalRcptTo, ['complaint@yahoo.test']);
    assert.equal(arf.sourceIp, '127.0.0.1');
    assert.equal(arf.originalMessageId, '<m1@relay.test>');
    await eventually(() => sim.complaints().length === 1 || undefined);
    assert.match(sim.complaints()[0]!.reply ?? '', /^250 /);
    assert.equal(fbl.messages.length, 1, 'one report: calm@ did not complain');
  } finally {
    await sim.close();
    await fbl.close();
  }
});
