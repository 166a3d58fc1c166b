import { fixedLinkBase } from '../accounts/link-base.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { fixedSecrets } from '../events/secret-ring.js';
import { readTrackingToken } from '../events/tracking-token.js';
import { applyTracking, trackingPlan, type TrackingSettings, type TrackingSubject } from './tracking-plan.js';

const logs: Record<string, unknown>[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });
const secrets = fixedSecrets(Buffer.alloc(32, 1));
const settings = (defaults: Partial<TrackingSettings['defaults']> = {}): TrackingSettings => ({
  secrets, links: fixedLinkBase('https://relay.example/'), logger, defaults: { opens: false, clicks: false, streams: ['broadcast'], ...defaults },
});
const subject = (over: Partial<TrackingSubject> = {}): TrackingSubject =>
  ({ id: '01JZ3K4M5N6P7Q8R9S0T', account: 'acme', recipients: ['bob@dest.example'], stream: 'broadcast', asked: null, ...over });

test('what is tracked: the message asks, else the defaults of its stream; several recipients: nothing (logged)', () => {
  const plan = (s: TrackingSettings, m: TrackingSubject) => { const p = trackingPlan(s, m); return p && [p.opens, p.clicks]; };
  assert.equal(plan(settings(), subject()), null, 'off by default');
  assert.deepEqual(plan(settings({ opens: true }), subject()), [true, false]);
  assert.equal(plan(settings({ opens: true, clicks: true }), subject({ stream: 'transactional' })), null, 'defaults apply to their streams only');
  assert.deepEqual(plan(settings(), subject({ stream: 'transactional', asked: { clicks: true } })), [false, true], 'asked explicitly');
  assert.equal(plan(settings({ opens: true, clicks: true }), subject({ asked: { opens: false, clicks: false } })), null, 'asked not to');
  assert.deepEqual(plan(settings({ opens: true, clicks: true }), subject({ asked: { opens: false } })), [false, true], 'a key left out keeps its default');
  assert.deepEqual(plan(settings({ opens: true }), subject({ recipients: ['bob@dest.example', 'BOB@dest.example'] })), [true, false], 'one unique recipient');
  logs.length = 0;
  assert.equal(plan(settings({ opens: true }), subject({ recipients: ['bob@dest.example', 'carol@dest.example'] })), null);
  assert.deepEqual(logs.map((l) => [l.event, l.rcpts]), [['tracking.skipped', 2]]);
});

test('applyTracking: per-recipient tokens; List-Unsubscribe URLs, /u/ and /t/ links and mailto: kept', async () => {
  const message = Buffer.from([
    'From: a@a.example', 'List-Unsubscribe: <https://lists.example/unsub?u=1>,', ' <mailto:unsub@lists.example>', 'Content-Type: text/html', '', '<body>',
    '<a href="https://lists.example/unsub?u=1">unsubscribe</a>', '<a href="https://relay.example/u/tok">one-click</a>', '<a href="HTTPS://RELAY.example/t/c/x.y">old</a>',
    '<a href="mailto:a@a.example">mail</a>', '<a href="https://shop.example/">shop</a>', '</body>', '',
  ].join('\r\n'));
  const plan = trackingPlan(settings(), subject({ asked: { opens: true, clicks: true } }))!;
  const out = (await applyTracking(settings(), plan, message)).toString();
  const redirects = [...out.matchAll(/href="https:\/\/relay\.example\/t\/c\/([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(redirects.length, 1, out);
  assert.deepEqual(readTrackingToken(secrets, redirects[0]!, 'click'),
    { kind: 'click', account: 'acme', messageId: '01JZ3K4M5N6P7Q8R9S0T', recipient: 'bob@dest.example', url: 'https://shop.example/' });
  for (const kept of ['https://lists.example/unsub?u=1', 'https://relay.example/u/tok', 'HTTPS://RELAY.example/t/c/x.y', 'mailto:a@a.example']) assert.ok(out.includes(`href="${kept}"`), kept);
  const pixel = /<img src="https:\/\/relay\.example\/t\/o\/([^"]+)\.gif"/.exec(out)![1]!;
  assert.equal(readTrackingToken(secrets, pixel, 'open')?.recipient, 'bob@dest.example');
});

test('applyTracking: a message the splitter refuses is sent as it was (logged)', async () => {
  const parts = Array.from({ length: 1200 }, (_, i) => `--b\r\nContent-Type: text/html\r\n\r\n<a href="http://a.example/${i}">x</a>\r\n`).join('');
  const message = Buffer.from(`From: a@a.example\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`);
  logs.length = 0;
  const out = await applyTracking(settings(), trackingPlan(settings({ clicks: true }), subject())!, message);
  assert.equal(out, message);
  assert.deepEqual(logs.map((l) => l.event), ['tracking.failed']);
});
