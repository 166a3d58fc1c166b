// Scheduled sending end to end (relay process, test DNS, receiving MX): a message POSTed with
// `send_at` a few seconds ahead is not attempted before that time and then leaves on its own; a
// message sent at the same moment without `send_at` goes at once. Checked on both sides: the
// relay's first attempt and the MX's receipt are at or after send_at (lower bounds only: a loaded
// machine can only make them later), while the unscheduled message is delivered first.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { call } from '../helpers/api-fixture.js';
import { createRig } from '../helpers/relay-rig.js';

const AHEAD_MS = 8_000;

test('send_at: the message waits until then, then is delivered; an unscheduled one leaves at once', { timeout: 120_000 }, async (t) => {
  const { mx, relay, out, addTenant } = await createRig(t, { config: { delivery: { pollInterval: '200ms' } } });
  const token = await addTenant({ account: 'acme', domain: 'acme.test', key: { scope: 'send,read' } });
  await relay.start();
  const api = `http://127.0.0.1:${relay.port('http')}`;

  // send_at has second precision on the wire: round up so "not before" is exact.
  const sendAt = Math.ceil((Date.now() + AHEAD_MS) / 1000) * 1000;
  const scheduled = await call(api, 'POST', '/v1/messages', {
    token, body: { from: 'app@acme.test', to: ['later@dest.test'], subject: 'scheduled', text: 'scheduled', send_at: new Date(sendAt).toISOString() },
  });
  assert.equal(scheduled.status, 202, scheduled.text);
  const now = await call(api, 'POST', '/v1/messages', { token, body: { from: 'app@acme.test', to: ['now@dest.test'], subject: 'now', text: 'now' } });
  assert.equal(now.status, 202, now.text);

  const arrived = (rcpt: string) => mx.messages.find((m) => m.rcptTo.includes(rcpt));
  const unscheduled = await eventually(() => arrived('now@dest.test'), 30_000);
  const later = await eventually(() => arrived('later@dest.test'), AHEAD_MS + 60_000, 100);
  assert.ok(later.receivedAt >= sendAt, `received ${later.receivedAt - sendAt} ms after send_at`);
  assert.ok(unscheduled.receivedAt <= later.receivedAt, 'the unscheduled message was not held back with it');

  // The relay's own record: no attempt before send_at, one delivery after it.
  // (the result is recorded just after the receiver's 250: wait for it)
  const show = await eventually(async () => {
    const s = JSON.parse(await out('queue', 'show', scheduled.body.id, '--json')) as { attempts: { at: number; status: string }[] };
    return s.attempts.at(-1)?.status === 'delivered' ? s : null;
  }, 30_000, 200);
  assert.ok(show.attempts.length >= 1);
  assert.ok(show.attempts.every((a) => a.at >= sendAt), `attempts at ${show.attempts.map((a) => a.at - sendAt).join(', ')} ms from send_at`);
  assert.equal(show.attempts.at(-1)!.status, 'delivered');
});
