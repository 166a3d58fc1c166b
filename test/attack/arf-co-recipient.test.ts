// Attacker's pass (inbound reports): an ARF complaint about a message with several recipients must
// land on the recipient it names, or on nobody. The reported message's To field lists every
// recipient (any of them, or the provider relaying one's complaint, sends it back), so matching
// Original-Rcpt-To and To together and taking the first recipient in envelope order suppressed
// someone else: a complaint by peggy suppressed bob for all mail. A redacted report (no
// Original-Rcpt-To) whose To lists several recipients cannot name one (docs/deliverability.md):
// no event. Over real sockets: the relay process, a test MX, the report sent to the MX listener.
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { sendToMx } from '../helpers/smtp-client.js';
import { startMailRig } from '../helpers/relay-rig.js';

interface ApiEvent { type: string; message_id: string; recipient: string; data: Record<string, unknown> }

/** A feedback report about the message with `returnPath`, naming `rcptTo` (null: redacted), its original To being `to`. */
function arf(returnPath: string, rcptTo: string | null, to: string[], subject: string): Buffer {
  return Buffer.from([
    'From: feedback@fbl.example.net', 'To: fbl@fbl.relay.test', `Subject: FW: ${subject}`, 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain', '', 'An abuse report.', '',
    '--b1', 'Content-Type: message/feedback-report', '',
    'Feedback-Type: abuse', 'User-Agent: fbl/1.0', 'Version: 1', `Original-Mail-From: <${returnPath}>`,
    ...(rcptTo ? [`Original-Rcpt-To: <${rcptTo}>`] : []), 'Source-IP: 198.51.100.20', '',
    '--b1', 'Content-Type: message/rfc822', '',
    `Return-Path: <${returnPath}>`, 'From: alice@acme.test', `To: ${to.join(', ')}`, `Subject: ${subject}`, '', 'Hello', '',
    '--b1--', '',
  ].join('\r\n'), 'latin1');
}

test('an ARF complaint about a message with several recipients suppresses the one it names, or none', async (t) => {
  // Mail to example.org goes to the test MX; reports come back to the relay's MX listener.
  const { relay, api, sendThrough } = await startMailRig(t, {
    mxDomains: ['example.org'], config: { localDomains: ['fbl.relay.test'], domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } } },
    provision: (r) => r.ok('domains', 'add', 'acme.test', '--key', 'rsa2048'),
    adminKey: true,
  });
  const complaints = async () => (await api('/v1/events?type=complained&limit=1000')).body.data as ApiEvent[];
  const suppressed = async () => ((await api('/v1/suppressions?limit=1000')).body.data as { email: string }[]).map((s) => s.email).sort();

  // peggy complains; bob (first in envelope order) is listed in To as well.
  const first = await sendThrough(['bob@example.org', 'peggy@example.org'], 'two readers');
  assert.match(await sendToMx(relay.port('mx'), 'feedback@fbl.example.net', 'fbl@fbl.relay.test',
    arf(first.returnPath, 'peggy@example.org', ['bob@example.org', 'peggy@example.org'], 'two readers')), /^250 /);
  const complaint = await eventually(async () => (await complaints())[0]);
  assert.deepEqual([complaint.message_id, complaint.recipient], [first.id, 'peggy@example.org']);

  // Redacted: Original-Rcpt-To absent, To lists both: nobody can be named.
  const second = await sendThrough(['carol@example.org', 'dave@example.org'], 'redacted');
  assert.match(await sendToMx(relay.port('mx'), 'feedback@fbl.example.net', 'fbl@fbl.relay.test',
    arf(second.returnPath, null, ['carol@example.org', 'dave@example.org'], 'redacted')), /^250 /);
  await eventually(() => relay.logs.find((l) => l.event === 'inbound.report_ignored' && l.message === second.id));
  assert.deepEqual((await complaints()).map((e) => e.recipient), ['peggy@example.org']);
  assert.deepEqual(await suppressed(), ['peggy@example.org']);
});
