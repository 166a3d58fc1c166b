// The delivery loop end to end, over real sockets: mail leaves through a test MX with its VERP
// return path; a DSN or text bounce of each fixture shape (test/fixtures/reports), sent back by an
// SMTP client to the relay's MX listener at that return path, becomes 'bounced' events of the right
// recipients and class, and the hard ones suppressions; the same report with an altered token
// changes nothing; an ARF complaint becomes 'complained' and a suppression; the next message to a
// suppressed address is not sent ('suppressed' event, over SMTP and in the HTTP 202) while its
// other recipients are delivered.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { sendToMx } from '../helpers/smtp-client.js';
import { startMailRig } from '../helpers/relay-rig.js';
import { readReportFixture } from '../helpers/report-fixtures.js';
import { parseReport } from '../../src/events/report-parser.js';
import { classifyBounce } from '../../src/events/bounce-classifier.js';

const PLACEHOLDER = 'bounce+01JZ3K4M5N6P7Q8R9S0T.k3j5d7a2qp@bounces.acme.example';
const BOUNCES = ['postfix-dsn.eml', 'exim-dsn.eml', 'sendmail-dsn.eml', 'gmail-dsn.eml', 'o365-ndr.eml', 'exchange-onprem.eml',
  'exim-classic.eml', 'qmail.eml', 'yahoo-failure.eml', 'sendmail-text.eml'];

interface ApiEvent { type: string; message_id: string; recipient: string; data: Record<string, unknown> }

/** The failed recipients a fixture reports, with the class each must get. */
async function expectations(name: string): Promise<{ address: string; bounceType: string }[]> {
  const r = await parseReport(readReportFixture(name));
  if (r.kind === 'dsn') {
    return r.recipients.filter((x) => x.action === 'failed').map((x) => ({
      address: x.finalRecipient!, bounceType: classifyBounce(x.diagnosticCode ?? `550 ${x.status}`, x.status ?? undefined).bounceType,
    }));
  }
  if (r.kind === 'bounce-text') return r.recipients.map((x) => ({ address: x.address, bounceType: classifyBounce(x.diagnostic ?? '', x.status ?? undefined).bounceType }));
  throw new Error(`${name} is not a bounce`);
}

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1');

test('late bounces and complaints on the MX port become events and suppressions; suppressed recipients are skipped', async (t) => {
  // Mail to every fixture's recipient domain goes to the test MX; reports come back to the relay's MX listener.
  const { mx, relay, submitter, api, ...rig } = await startMailRig(t, {
    mxDomains: ['example.org', 'example.net', 'example.edu', 'gmail.com', 'contoso.com', 'fabrikam.example', 'example.com', 'legacy.example.org', 'yahoo.com', 'dest.test'],
    config: { localDomains: ['fbl.relay.test'], domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } } },
    provision: (r) => r.ok('domains', 'add', 'acme.test', '--key', 'rsa2048'),
    adminKey: true,
  });
  const events = async (type: string) => ((await api(`/v1/events?type=${type}&limit=1000`)).body.data as ApiEvent[]);
  const suppressed = async () => ((await api('/v1/suppressions?limit=1000')).body.data as { email: string; reason: string; scope: string }[]);

  /** Sends one message to `to` through the relay; resolves with its queue id and the (VERP) return path the MX saw. */
  const sendThrough = async (to: string[], subject: string) => {
    const sent = await rig.sendThrough(to, subject);
    assert.match(sent.returnPath, /^bounce\+[0-9A-Z]{20}\.[a-z2-7]{10}@bounces\.acme\.test$/);
    return sent;
  };

  // Every bounce shape, each about a message of its own.
  const expected = new Map<string, string>();
  for (const name of BOUNCES) {
    const wanted = await expectations(name);
    const { id, returnPath } = await sendThrough(wanted.map((w) => w.address), `about ${name}`);
    for (const w of wanted) expected.set(`${id}|${w.address.toLowerCase()}`, w.bounceType);
    const dsn = crlf(readReportFixture(name).toString('latin1').split(PLACEHOLDER).join(returnPath));
    assert.match(await sendToMx(relay.port('mx'), '', returnPath, dsn), /^250 /, name);
  }
  const bounced = await eventually(async () => { const e = await events('bounced'); return e.length >= expected.size ? e : null; }, 30_000);
  assert.deepEqual(new Map(bounced.map((e) => [`${e.message_id}|${e.recipient.toLowerCase()}`, e.data.bounceType as string])), expected);
  for (const e of bounced) assert.equal(e.data.async, true);
  const hard = [...expected].filter(([, type]) => type === 'hard').map(([k]) => k.split('|')[1]!).sort();
  assert.ok(hard.length >= 8 && hard.length < expected.size, `some hard, some not: ${[...expected.values()]}`);
  assert.deepEqual((await suppressed()).map((s) => s.email).sort(), hard, 'hard bounces are suppressed, soft and block ones are not');

  // The same bounce delivered again changes nothing; with an altered token it is ignored and logged.
  const again = await sendThrough(['tamper@dest.test'], 'to be forged'); // its genuine late bounce comes below, huge
  const forged = again.returnPath.replace(/\.([a-z2-7])([a-z2-7]{9})@/, (_m, c: string, rest: string) => `.${c === 'a' ? 'b' : 'a'}${rest}@`);
  const forgedDsn = crlf(readReportFixture('postfix-dsn.eml').toString('latin1').split(PLACEHOLDER).join(forged).split('bob@example.org').join('tamper@dest.test'));
  assert.match(await sendToMx(relay.port('mx'), '', forged, forgedDsn), /^250 /, 'accepted and stored as inbound mail');
  await relay.waitForLog((l) => l.event === 'inbound.report_ignored' && /not authentic/.test(String(l.reason)));
  assert.equal((await events('bounced')).length, expected.size, 'no event from a forged return path');
  assert.ok(!(await suppressed()).some((s) => s.email === 'tamper@dest.test'), 'and no suppression');

  // Bad reports: malformed, huge, about a message that does not exist. Each is stored as inbound
  // mail and logged; nothing crashes and nothing is suppressed.
  const eventsBefore = (await events('bounced')).length;
  const suppressedBefore = (await suppressed()).length;
  const unknownId = again.returnPath.replace(/bounce\+[0-9A-Z]{20}\./, 'bounce+01JZ3K4M5N6P7Q8R9S0T.');
  const malformed = crlf('From: MAILER-DAEMON@x.example\nSubject: Undelivered\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;\n\nX-Garbage: \x01\x02 ;;; Action\n--b'); // cut short, no recipient block
  const huge = crlf(readReportFixture('postfix-dsn.eml').toString('latin1').split(PLACEHOLDER).join(again.returnPath).split('bob@example.org').join('tamper@dest.test')
    + `${'x'.repeat(76)}\n`.repeat(200_000));
  assert.match(await sendToMx(relay.port('mx'), '', again.returnPath, malformed), /^250 /);
  assert.match(await sendToMx(relay.port('mx'), '', unknownId, forgedDsn), /^250 /, 'a well-formed token for a message that is not ours');
  assert.match(await sendToMx(relay.port('mx'), '', again.returnPath, huge), /^250 /, 'a 15 MB report');
  await relay.waitForLog((l) => l.event === 'inbound.report' && l.message === again.id, 60_000);
  assert.ok(relay.logs.some((l) => l.event === 'inbound.report_ignored'), 'the bad ones are logged');
  assert.equal((await events('bounced')).length, eventsBefore + 1, 'only the huge but genuine report counted (its machine-readable part comes first)');
  assert.deepEqual((await suppressed()).length, suppressedBefore + 1);
  assert.ok(relay.child && relay.child.exitCode === null, 'the relay is still running');

  // A complaint (ARF) about a message to peggy@yahoo.com, sent to the relay's feedback address.
  const complainedAbout = await sendThrough(['peggy@yahoo.com'], 'complained about');
  const arf = crlf(readReportFixture('yahoo-arf.eml').toString('latin1').split(PLACEHOLDER).join(complainedAbout.returnPath));
  assert.match(await sendToMx(relay.port('mx'), 'feedback@arf.mail.yahoo.com', 'fbl@fbl.relay.test', arf), /^250 /);
  const complaint = await eventually(async () => (await events('complained'))[0]);
  assert.deepEqual([complaint.message_id, complaint.recipient, complaint.data.feedbackType], [complainedAbout.id, 'peggy@yahoo.com', 'abuse']);
  assert.ok((await suppressed()).some((s) => s.email === 'peggy@yahoo.com' && s.reason === 'complaint' && s.scope === 'all'));

  // The next message to a suppressed address: not sent, 'suppressed'; its other recipient is delivered.
  const before = mx.messages.length;
  const reply = await submitter.send('alice@acme.test', ['bob@example.org', 'fresh@dest.test'], 'From: alice@acme.test\r\nSubject: after\r\n\r\nHi\r\n');
  const id = /queued as ([0-9A-Z]{20})/.exec(reply)![1]!;
  const skipped = await eventually(async () => (await events('suppressed')).find((e) => e.message_id === id));
  assert.equal(skipped.recipient, 'bob@example.org');
  assert.equal(skipped.data.reason, 'hard-bounce');
  const delivered = await eventually(() => mx.messages.slice(before).find((m) => m.body.toString().includes('Subject: after')));
  assert.deepEqual(delivered.rcptTo, ['fresh@dest.test'], 'only the other recipient was sent');
  const view = (await api(`/v1/messages/${id}`)).body as { recipients: { email: string; status: string }[] };
  assert.deepEqual(view.recipients.map((r) => [r.email, r.status]), [['bob@example.org', 'suppressed'], ['fresh@dest.test', 'delivered']]);

  // Over the API the suppression is reported at once, in the 202.
  const sent = await api('/v1/messages', { body: { from: 'alice@acme.test', to: ['peggy@yahoo.com', 'other@dest.test'], subject: 'api', text: 'x' } });
  assert.equal(sent.status, 202);
  assert.deepEqual((sent.body.recipients as { email: string; status: string; suppression?: { reason: string } }[]).map((r) => [r.email, r.status, r.suppression?.reason ?? null]),
    [['peggy@yahoo.com', 'suppressed', 'complaint'], ['other@dest.test', 'queued', null]]);

  // Removing the entry lets mail through again.
  assert.equal((await api('/v1/suppressions/bob@example.org', { method: 'DELETE' })).status, 204);
  assert.equal((await api('/v1/suppressions/bob@example.org')).status, 404);
});
