// Attacker's pass (inbound reports, thirty-first session): one DSN must make at most one bounce
// per recipient of the message it is about. Anyone who receives a message sees its VERP return
// path, and a DSN to that address may list up to 1,000 per-recipient blocks: with the return
// path's recipient index (or a message with a single recipient, where any address names that
// one) every block named the same recipient, and each became its own 'bounced' event: one mail
// from one recipient made a thousand bounces (each a webhook POST, each counted in the bounce rate
// the circuit breakers hold a sender's broadcast mail on). A replay of the report adds nothing.
// Over real sockets: the relay process, a test MX, the report sent to the MX listener.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { queueIdOf, sendToMx } from '../helpers/smtp-client.js';
import { startMailRig } from '../helpers/relay-rig.js';

interface ApiEvent { type: string; message_id: string; recipient: string }

/** A DSN to `returnPath` with one failed block per address of `finals`. */
function dsn(returnPath: string, finals: string[]): Buffer {
  const blocks = finals.flatMap((a) => ['', `Final-Recipient: rfc822; ${a}`, 'Action: failed', 'Status: 5.1.1', 'Diagnostic-Code: smtp; 550 5.1.1 no such user']);
  return Buffer.from([
    'From: MAILER-DAEMON@mx.example.org', `To: ${returnPath}`, 'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain', '', 'Your message could not be delivered.', '',
    '--b1', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.org', ...blocks, '',
    '--b1--', '',
  ].join('\r\n'), 'latin1');
}

test('a DSN listing its recipient a thousand times, or a thousand strangers, makes one bounce; a replay none', async (t) => {
  const { relay, api, sendThrough } = await startMailRig(t, {
    mx: { host: '127.0.73.2' }, zone: { 'mx.dest.test': { A: ['127.0.73.2'] } },
    mxDomains: ['example.org'], config: { domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } } },
    provision: (r) => r.ok('domains', 'add', 'acme.test', '--key', 'rsa2048'),
    adminKey: true,
  });
  const bounces = async (id: string) => ((await api(`/v1/events?type=bounced&limit=1000&message_id=${id}`)).body.data as ApiEvent[])
    .filter((e) => e.message_id === id);
  // A report is read before its inbound copy is recorded delivered (inbound mail is the operator's, account default).
  const processed = (id: string) => eventually(async () => {
    const m = await api(`/v1/messages/${id}`);
    return m.status === 200 && (m.body.recipients as { status: string }[]).every((r) => r.status === 'delivered') ? true : null;
  });

  // The same recipient in every block.
  const one = await sendThrough(['bob@example.org'], 'one reader');
  const report = dsn(one.returnPath, Array.from({ length: 1000 }, () => 'bob@example.org'));
  await processed(queueIdOf(await sendToMx(relay.port('mx'), '', one.returnPath, report))!);
  // Replayed: nothing more.
  const replay = queueIdOf(await sendToMx(relay.port('mx'), '', one.returnPath, report));
  assert.ok(replay);
  await processed(replay);

  // A thousand strangers: the message has one recipient, so each named carol.
  const two = await sendThrough(['carol@example.org'], 'strangers');
  const second = queueIdOf(await sendToMx(relay.port('mx'), '', two.returnPath, dsn(two.returnPath, Array.from({ length: 1000 }, (_, i) => `x${i}@example.org`))));
  assert.ok(second);
  await processed(second);

  assert.equal((await bounces(one.id)).length, 1, 'one bounce for bob');
  assert.equal((await bounces(two.id)).length, 1, 'one bounce for carol');
  assert.equal(relay.logs.filter((l) => l.event === 'inbound.report').length, 2);
});
