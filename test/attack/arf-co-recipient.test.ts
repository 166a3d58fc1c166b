// Attacker's pass (inbound reports): an ARF complaint about a message with several recipients must
// land on the recipient it names, or on nobody. The reported message's To field lists every
// recipient (any of them, or the provider relaying one's complaint, sends it back), so matching
// Original-Rcpt-To and To together and taking the first recipient in envelope order suppressed
// someone else: a complaint by peggy suppressed bob for all mail. A redacted report (no
// Original-Rcpt-To) whose To lists several recipients cannot name one (docs/deliverability.md):
// no event. Over real sockets: the relay process, a test MX, the report sent to the MX listener.
import test from 'node:test';
import assert from 'node:assert/strict';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';

interface ApiEvent { type: string; message_id: string; recipient: string; data: Record<string, unknown> }

async function sendToMx(port: number, from: string, to: string, raw: Buffer): Promise<string> {
  const c = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name: 'mx.example.org' });
  return new Promise<string>((resolve, reject) => {
    c.on('error', reject);
    c.connect(() => c.send({ from, to: [to] }, raw, (err, info) => { c.quit(); if (err) reject(err); else resolve(info.response); }));
  });
}

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
  const dns = await startDnsServer();
  const mx: Receiver = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'mx.dest.test': { A: ['127.0.0.2'] }, 'example.org': { MX: [{ exchange: 'mx.dest.test', priority: 10 }] } });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port }, localDomains: ['fbl.relay.test'],
    domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } },
  });
  t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); });
  assert.equal((await relay.cli(['domains', 'add', 'acme.test', '--key', 'rsa2048'])).code, 0);
  assert.equal((await relay.cli(['users', 'add', 'alice', '--password', 'alice-password', '--domain', 'acme.test'])).code, 0);
  const key = JSON.parse((await relay.cli(['keys', 'create', '--account', 'default', '--scope', 'admin', '--json'])).stdout).token as string;
  await relay.start();
  const api = async (path: string) => (await (await fetch(`http://127.0.0.1:${relay.port('http')}${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as Record<string, unknown>;
  const complaints = async () => (await api('/v1/events?type=complained&limit=1000')).data as ApiEvent[];
  const suppressed = async () => ((await api('/v1/suppressions?limit=1000')).data as { email: string }[]).map((s) => s.email).sort();
  const submitter = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'alice-password' });
  t.after(() => submitter.close());
  const sendThrough = async (to: string[], subject: string) => {
    const reply = await submitter.send('alice@acme.test', to, `From: alice@acme.test\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\n\r\nHello\r\n`);
    const id = /queued as ([0-9A-Z]{20})/.exec(reply)![1]!;
    const got = await eventually(() => mx.messages.find((m) => m.body.toString().includes(`Subject: ${subject}`)));
    return { id, returnPath: got.mailFrom };
  };

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
