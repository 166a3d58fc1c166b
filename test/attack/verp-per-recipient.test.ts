// Attacker's pass (inbound reports), the case the twenty-eighth session left open: a recipient of a
// message to several recipients holds its VERP return path, which names the message, so it can
// forge a DSN or ARF report naming a co-recipient and get that co-recipient suppressed. With
// domains.bounceDomain.perRecipient the message is split at acceptance into one copy per recipient,
// each with its own return path (SMTP and HTTP alike), so a report made with one recipient's
// return path can only be about that recipient. Over real sockets: the relay process, a test MX,
// the reports sent to the MX listener.
import test from 'node:test';
import assert from 'node:assert/strict';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver, type Receiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';
import { readReportFixture } from '../helpers/report-fixtures.js';

const PLACEHOLDER = 'bounce+01JZ3K4M5N6P7Q8R9S0T.k3j5d7a2qp@bounces.acme.example';
interface ApiEvent { type: string; message_id: string; recipient: string }

async function sendToMx(port: number, from: string, to: string, raw: Buffer): Promise<string> {
  const c = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name: 'mx.example.org' });
  return new Promise<string>((resolve, reject) => {
    c.on('error', reject);
    c.connect(() => c.send({ from, to: [to] }, raw, (err, info) => { c.quit(); if (err) reject(err); else resolve(info.response); }));
  });
}

/** Postfix's DSN fixture, sent back to `returnPath`, reporting `victim` as failed (5.1.1). */
const forgedDsn = (returnPath: string, victim: string) => Buffer.from(readReportFixture('postfix-dsn.eml').toString('latin1')
  .split(PLACEHOLDER).join(returnPath).split('bob@example.org').join(victim).replace(/\r?\n/g, '\r\n'), 'latin1');

test('with a return path per recipient, a recipient cannot forge a report that suppresses a co-recipient (SMTP and HTTP)', async (t) => {
  const dns = await startDnsServer();
  const mx: Receiver = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'mx.dest.test': { A: ['127.0.0.2'] }, 'example.org': { MX: [{ exchange: 'mx.dest.test', priority: 10 }] } });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port },
    domains: { bounceDomain: { label: 'bounces', target: 'relay.test', perRecipient: true } },
  });
  t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); });
  assert.equal((await relay.cli(['domains', 'add', 'acme.test', '--key', 'rsa2048'])).code, 0);
  assert.equal((await relay.cli(['users', 'add', 'alice', '--password', 'alice-password', '--domain', 'acme.test'])).code, 0);
  const key = JSON.parse((await relay.cli(['keys', 'create', '--account', 'default', '--scope', 'admin', '--json'])).stdout).token as string;
  await relay.start();
  const api = async (path: string, body?: unknown) => (await (await fetch(`http://127.0.0.1:${relay.port('http')}${path}`, {
    method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })).json()) as Record<string, unknown>;
  const bounces = async () => ((await api('/v1/events?type=bounced&limit=1000')).data as ApiEvent[]).map((e) => e.recipient).sort();
  const suppressed = async () => ((await api('/v1/suppressions?limit=1000')).data as { email: string }[]).map((s) => s.email).sort();
  /** The copies the test MX got whose Subject is `subject`: one per recipient, each with its own return path. */
  const delivered = (subject: string, count: number) => eventually(() => {
    const got = mx.messages.filter((m) => m.body.toString().includes(`Subject: ${subject}`));
    return got.length === count ? got : undefined;
  });

  // SMTP: one message to bob and peggy is stored and delivered as two copies.
  const submitter = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'alice-password' });
  t.after(() => submitter.close());
  const reply = await submitter.send('alice@acme.test', ['bob@example.org', 'peggy@example.org'],
    'From: alice@acme.test\r\nTo: bob@example.org, peggy@example.org\r\nSubject: receipts\r\n\r\nHello\r\n');
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
  const sent = await api('/v1/messages', { from: 'alice@acme.test', to: ['carol@example.org', 'dave@example.org'], subject: 'statements', text: 'Hello' });
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
