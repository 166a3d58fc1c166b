// Attacker's pass (inbound reports), the case the twenty-eighth session left open: a recipient of a
// message to several recipients holds its VERP return path, which names the message, so it can
// forge a DSN or ARF report naming a co-recipient and get that co-recipient suppressed. With
// domains.bounceDomain.perRecipient the message is split at acceptance into one copy per recipient,
// each with its own return path (SMTP and HTTP alike), so a report made with one recipient's
// return path can only be about that recipient. Over real sockets: the relay process, a test MX,
// the reports sent to the MX listener.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { sendToMx } from '../helpers/smtp-client.js';
import { startMailRig } from '../helpers/relay-rig.js';
import { readReportFixture } from '../helpers/report-fixtures.js';

const PLACEHOLDER = 'bounce+01JZ3K4M5N6P7Q8R9S0T.k3j5d7a2qp@bounces.acme.example';
interface ApiEvent { type: string; message_id: string; recipient: string }

/** Postfix's DSN fixture, sent back to `returnPath`, reporting `victim` as failed (5.1.1). */
const forgedDsn = (returnPath: string, victim: string) => Buffer.from(readReportFixture('postfix-dsn.eml').toString('latin1')
  .split(PLACEHOLDER).join(returnPath).split('bob@example.org').join(victim).replace(/\r?\n/g, '\r\n'), 'latin1');

test('with a return path per recipient, a recipient cannot forge a report that suppresses a co-recipient (SMTP and HTTP)', async (t) => {
  // Mail to example.org goes to the test MX; reports come back to the relay's MX listener.
  const { relay, mx, api, send } = await startMailRig(t, {
    mxDomains: ['example.org'], config: { domains: { bounceDomain: { label: 'bounces', target: 'relay.test', perRecipient: true } } },
    provision: (r) => r.ok('domains', 'add', 'acme.test', '--key', 'rsa2048'),
    adminKey: true,
  });
  const bounces = async () => ((await api('/v1/events?type=bounced&limit=1000')).body.data as ApiEvent[]).map((e) => e.recipient).sort();
  const suppressed = async () => ((await api('/v1/suppressions?limit=1000')).body.data as { email: string }[]).map((s) => s.email).sort();
  /** The copies the test MX got whose Subject is `subject`: one per recipient, each with its own return path. */
  const delivered = (subject: string, count: number) => eventually(() => {
    const got = mx.messages.filter((m) => m.body.toString().includes(`Subject: ${subject}`));
    return got.length === count ? got : undefined;
  });

  // SMTP: one message to bob and peggy is stored and delivered as two copies.
  const reply = await send(['bob@example.org', 'peggy@example.org'], 'receipts');
  assert.match(reply, /queued as [0-9A-Z]{20} \(\+1 more, one per recipient\)/);
  const copies = await delivered('receipts', 2);
  assert.deepEqual(copies.map((m) => m.rcptTo).flat().sort(), ['bob@example.org', 'peggy@example.org']);
  assert.ok(copies.every((m) => m.rcptTo.length === 1 && /^bounce\+[0-9a-z]{20}\.[a-z2-7]{10}@bounces\.acme\.test$/i.test(m.mailFrom)));
  assert.notEqual(copies[0]!.mailFrom, copies[1]!.mailFrom);
  const bobs = copies.find((m) => m.rcptTo[0] === 'bob@example.org')!;

  // bob forges a hard bounce naming peggy with his copy's return path: it can only be about bob.
  assert.match(await sendToMx(relay.port('mx'), '', bobs.mailFrom, forgedDsn(bobs.mailFrom, 'peggy@example.org')), /^250 /);
  await eventually(async () => (await bounces()).length > 0 || undefined);
  assert.deepEqual(await bounces(), ['bob@example.org']);
  assert.deepEqual(await suppressed(), ['bob@example.org']);

  // HTTP: the same split, so the API's copies have a return path each too.
  const sent = (await api('/v1/messages', { body: { from: 'alice@acme.test', to: ['carol@example.org', 'dave@example.org'], subject: 'statements', text: 'Hello' } })).body;
  const ids = (sent.recipients as { message_id: string }[]).map((r) => r.message_id);
  assert.equal(new Set(ids).size, 2, JSON.stringify(sent));
  const apiCopies = await delivered('statements', 2);
  assert.ok(apiCopies.every((m) => m.rcptTo.length === 1));
  assert.notEqual(apiCopies[0]!.mailFrom, apiCopies[1]!.mailFrom);
  const carols = apiCopies.find((m) => m.rcptTo[0] === 'carol@example.org')!;
  assert.match(await sendToMx(relay.port('mx'), '', carols.mailFrom, forgedDsn(carols.mailFrom, 'dave@example.org')), /^250 /);
  await eventually(async () => (await bounces()).length > 1 || undefined);
  assert.deepEqual(await bounces(), ['bob@example.org', 'carol@example.org']);
  assert.deepEqual(await suppressed(), ['bob@example.org', 'carol@example.org']);
});
