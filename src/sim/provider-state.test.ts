// ProviderState without sockets: the verdict table of each step on a hand-moved clock, the
// address globs, rate scaling to the window, session counting, and reply placeholders.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RECEIVED_KEPT, ProviderState, addressMatcher, fillReply, magicKind, type SimEvent } from './provider-state.js';
import { resolveProfile } from './profile.js';

const clock = () => { let t = 1_000_000; return { now: () => t, advance: (ms: number) => { t += ms; } }; };
const env = (rcpt = 'b@x.test') => ({ mailFrom: 'a@s.test', rcptTo: [rcpt], tls: false });
const BODY = Buffer.from('Subject: t\r\n\r\nhi\r\n');

test('address globs: exact, *, ?, "ends in @" means any domain, case-insensitive, regex characters literal', () => {
  const m = addressMatcher(['gone@x.test', 'unknown-*@', 'a?c@y.test', 'x.y+z@(w).test']);
  assert.deepEqual(['GONE@x.test', 'unknown-1@any.test', 'abc@y.test', 'x.y+z@(w).test', 'xay+z@(w).test', 'gone@x.testing', 'known@x.test'].map(m),
    [true, true, true, true, false, false, false]);
  assert.equal(addressMatcher([])('a@b.test'), false);
  assert.deepEqual(['success@a.test', 'Bounce+tag@b.test', 'ooto@c', 'bouncer@d.test', 'x@success.test'].map(magicKind), ['success', 'bounce', 'ooto', null, null]);
});

test('rate: ratePerMinute scaled to rateWindow, counted per client IP, at the configured stage; the window slides', () => {
  const c = clock();
  const s = new ProviderState('p', resolveProfile('microsoft', { ratePerMinute: 30, rateWindow: '10s' }), c);
  for (let i = 0; i < 5; i++) assert.equal(s.data('10.0.0.1', env(), BODY, false), null);
  assert.equal(s.mail('10.0.0.1', 'a@s.test')?.code, 451, '5 per 10 s, then refused at MAIL');
  assert.equal(s.mail('10.0.0.2', 'a@s.test'), null, 'another IP has its own window');
  c.advance(10_000);
  assert.equal(s.mail('10.0.0.1', 'a@s.test'), null);
  assert.equal(s.stats().refusals['rate-limit'], 1);
});

test('rate at MAIL: sessions in parallel are counted when let through, so none overshoots the window before the first is received', () => {
  const c = clock();
  const s = new ProviderState('p', resolveProfile('yahoo', { ratePerMinute: 2 }), c);
  // Three sessions reach MAIL FROM before any has finished DATA: the third is refused.
  assert.equal(s.mail('10.0.0.1', 'a@s.test'), null);
  assert.equal(s.mail('10.0.0.1', 'a@s.test'), null);
  assert.equal(s.mail('10.0.0.1', 'a@s.test')?.code, 421);
  // The two let through are received without being counted twice.
  assert.equal(s.data('10.0.0.1', env(), BODY, false), null);
  assert.equal(s.data('10.0.0.1', env(), BODY, false), null);
  c.advance(60_000);
  assert.equal(s.mail('10.0.0.1', 'a@s.test'), null, 'the window has moved: two more');
  assert.equal(s.mail('10.0.0.1', 'a@s.test'), null);
  assert.equal(s.mail('10.0.0.1', 'a@s.test')?.code, 421);
  assert.equal(s.stats().refusals['rate-limit'], 2);
});

test('sessions: the connection limit counts open sessions per IP; refused ones are not counted open', () => {
  const s = new ProviderState('p', resolveProfile('gmail', { maxConnectionsPerIp: 1 }), clock());
  assert.equal(s.connect('10.0.0.1'), null);
  assert.equal(s.connect('10.0.0.1')?.code, 421);
  assert.equal(s.connect('10.0.0.2'), null);
  assert.equal(s.stats().openSessions, 2);
  s.close('10.0.0.1');
  assert.equal(s.connect('10.0.0.1'), null);
  assert.deepEqual([s.stats().sessions, s.stats().maxOpenSessions, s.stats().refusals['connection-limit']], [4, 2, 1]);
});

test('order at RCPT: magic bounce, unknown, greylist, recipient rate; events are reported as they happen', () => {
  const c = clock();
  const events: SimEvent[] = [];
  const s = new ProviderState('p', resolveProfile('gmail', { unknownRecipients: ['gone@'], greylistDelay: '1m', recipientRatePerMinute: 1 }), c, (e) => events.push(e));
  assert.equal(s.rcpt('ip', 'a@s.test', 'bounce@x.test')?.reason, 'magic-bounce');
  assert.equal(s.rcpt('ip', 'a@s.test', 'gone@x.test')?.reason, 'unknown-recipient', 'unknown before greylisting');
  assert.equal(s.rcpt('ip', 'a@s.test', 'b@x.test')?.reason, 'greylisted');
  c.advance(60_000);
  assert.equal(s.rcpt('ip', 'a@s.test', 'b@x.test'), null);
  assert.equal(s.data('ip', env('b@x.test'), BODY, false), null);
  assert.equal(s.rcpt('ip', 'a@s.test', 'b@x.test')?.reason, 'recipient-rate-limit');
  assert.deepEqual(events.map((e) => e.type === 'refused' ? e.reason : 'received'),
    ['magic-bounce', 'unknown-recipient', 'greylisted', 'received', 'recipient-rate-limit']);
  assert.equal('body' in s.received[0]!, false, 'keepBody false keeps no bytes');
});

test('replies: placeholders filled, lines split, a fresh {id} each time', () => {
  const a = fillReply('4.7.0 [{ip}] {sender} to {rcpt} at {domain} via {host}\n4.7.0 {id}', { ip: '10.1.2.3', sender: 's@a.test', rcpt: 'r@b.test', host: 'mx.test' });
  assert.equal(a[0], '4.7.0 [10.1.2.3] s@a.test to r@b.test at b.test via mx.test');
  assert.match(a[1]!, /^4\.7\.0 [0-9a-f]{16}$/);
  assert.notEqual(fillReply('{id}', {})[0], fillReply('{id}', {})[0]);
});

test('a long run keeps the last MAX_RECEIVED_KEPT messages listed and counts them all (memory stays bounded)', async () => {
  const c = clock();
  const s = new ProviderState('p', resolveProfile('gmail', {}), c, () => undefined);
  const n = MAX_RECEIVED_KEPT + 50;
  for (let i = 0; i < n; i++) { assert.equal(s.data('ip', env(`r${i}@x.test`), BODY, false), null); c.advance(1); }
  assert.equal(s.received.length, MAX_RECEIVED_KEPT);
  assert.equal(s.received[0]!.rcptTo[0], 'r50@x.test', 'the oldest ones go first');
  assert.equal(s.stats().messages, n);
  await s.waitFor(n, 1_000); // counted, not listed
});
