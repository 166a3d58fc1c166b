// TLS reports other senders mail to the relay (RFC 8460 §5.3, inbound): sent over SMTP to the
// relay's MX listener (a child process) at tls-reports@<hostname>, stored as inbound mail, and
// shown by `postlane tls-reports received`: the report JSON written here from the RFC's example
// (not by Postlane's own builder), gzip- and JSON-typed attachments, and a corrupt one listed with
// its problem instead of failing the command. Ordinary inbound mail is not listed.
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { eventually, RelayProcess } from '../helpers/relay-process.js';
import type { ReceivedReport } from '../../src/tlsrpt/received.js';

async function sendToMx(port: number, from: string, to: string, raw: Buffer): Promise<string> {
  const c = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, name: 'mail.sender.example' });
  return new Promise<string>((resolve, reject) => {
    c.on('error', reject);
    c.connect(() => c.send({ from, to: [to] }, raw, (err, info) => { c.quit(); if (err) reject(err); else resolve(info.response); }));
  });
}

/** The example report of RFC 8460 §4.8 (abridged to one policy). */
const example = {
  'organization-name': 'Company-X',
  'date-range': { 'start-datetime': '2016-04-01T00:00:00Z', 'end-datetime': '2016-04-01T23:59:59Z' },
  'contact-info': 'sts-reporting@company-x.example',
  'report-id': '5065427c-23d3-47ca-b6e0-946ea0e8c4be',
  policies: [{
    policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: testing', 'mx: *.mail.company-y.example', 'max_age: 86400'],
      'policy-domain': 'relay.test', 'mx-host': ['*.mail.company-y.example'] },
    summary: { 'total-successful-session-count': 5326, 'total-failure-session-count': 303 },
    'failure-details': [
      { 'result-type': 'certificate-expired', 'sending-mta-ip': '2001:db8:abcd:0012::1', 'receiving-mx-hostname': 'mx1.mail.company-y.example', 'failed-session-count': 100 },
      { 'result-type': 'starttls-not-supported', 'sending-mta-ip': '2001:db8:abcd:0013::1', 'receiving-mx-hostname': 'mx2.mail.company-y.example', 'receiving-ip': '203.0.113.56', 'failed-session-count': 200 },
      { 'result-type': 'validation-failure', 'sending-mta-ip': '198.51.100.62', 'receiving-ip': '203.0.113.58', 'receiving-mx-hostname': 'mx-backup.mail.company-y.example', 'failed-session-count': 3, 'failure-reason-code': 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED' },
    ],
  }],
};

function reportMail(id: string, type: 'gzip' | 'json', content: Buffer): Buffer {
  const b = `b-${id}`;
  return Buffer.from([
    'From: TLS Reporting <noreply-smtp-tls-reporting@company-x.example>', 'To: <tls-reports@relay.test>',
    `Subject: Report Domain: relay.test Submitter: company-x.example Report-ID: <${id}>`, 'Date: Fri, 01 Apr 2016 12:00:00 +0000',
    `Message-ID: <${id}@company-x.example>`, 'TLS-Report-Domain: relay.test', 'TLS-Report-Submitter: company-x.example', 'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${b}"`, '', `--${b}`, 'Content-Type: text/plain', '', 'A TLS report.', '',
    `--${b}`, `Content-Type: application/tlsrpt+${type}`, 'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="company-x.example!relay.test!1459468800!1459555199!${id}.json${type === 'gzip' ? '.gz' : ''}"`, '',
    ...(content.toString('base64').match(/.{1,76}/g) ?? []), '', `--${b}--`, '',
  ].join('\r\n'));
}

test('TLS reports mailed to the relay are stored and shown by postlane tls-reports received', async (t) => {
  const relay = await RelayProcess.create({ tlsReporting: { enabled: false } });
  t.after(() => relay.cleanup());
  await relay.start();
  const mx = relay.port('mx');
  assert.match(await sendToMx(mx, '', 'tls-reports@relay.test', reportMail('r1', 'gzip', gzipSync(JSON.stringify(example)))), /^250 /);
  assert.match(await sendToMx(mx, '', 'tls-reports@relay.test', reportMail('r2', 'json', Buffer.from(JSON.stringify({ ...example, 'report-id': 'r2' })))), /^250 /);
  assert.match(await sendToMx(mx, '', 'tls-reports@relay.test', reportMail('r3', 'gzip', Buffer.from('not gzip at all'))), /^250 /);
  assert.match(await sendToMx(mx, 'a@b.example', 'postmaster@relay.test', Buffer.from('Subject: hello\r\n\r\nnot a report\r\n')), /^250 /);
  await eventually(() => relay.logs.filter((l) => l.event === 'inbound.stored').length >= 4 || null);

  const r = await relay.cli(['tls-reports', 'received', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const reports = JSON.parse(r.stdout) as ReceivedReport[];
  assert.equal(reports.length, 3, 'the three reports, not the ordinary mail');
  const byId = new Map(reports.map((x) => [x.reportId ?? x.problem, x]));
  const one = byId.get('5065427c-23d3-47ca-b6e0-946ea0e8c4be')!;
  assert.deepEqual([one.from, one.reportDomain, one.organization, one.start, one.end], ['noreply-smtp-tls-reporting@company-x.example', 'relay.test', 'Company-X', '2016-04-01T00:00:00Z', '2016-04-01T23:59:59Z']);
  assert.deepEqual(one.policies, [{ type: 'sts', domain: 'relay.test', successful: 5326, failed: 303,
    failures: [{ resultType: 'certificate-expired', count: 100 }, { resultType: 'starttls-not-supported', count: 200 }, { resultType: 'validation-failure', count: 3 }] }]);
  assert.equal(byId.get('r2')?.policies?.[0]?.successful, 5326, 'an application/tlsrpt+json attachment too');
  const bad = reports.find((x) => x.problem);
  assert.match(bad?.problem ?? '', /does not gunzip/);

  const human = await relay.cli(['tls-reports', 'received']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /Company-X\s+2016-04-01\s+sts relay\.test\s+5326\s+303\s+certificate-expired×100, starttls-not-supported×200, validation-failure×3/);
  assert.match(human.stdout, /unreadable: the attachment does not gunzip/);
});

test('hostile TLS reports: terminal escapes never reach the operator\'s terminal; a gzip bomb and odd JSON are listed with their problem', async (t) => {
  const relay = await RelayProcess.create({ tlsReporting: { enabled: false } });
  t.after(() => relay.cleanup());
  await relay.start();
  const mx = relay.port('mx');
  const esc = '\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[2J';
  const hostile = {
    ...example, 'organization-name': `Evil${esc}Corp`, 'report-id': 'h1',
    policies: [null, 5, 'x', { policy: { 'policy-type': 'sts', 'policy-domain': `relay.test${esc}` }, summary: {}, 'failure-details': [null, { 'result-type': `x${esc}`, 'failed-session-count': 1 }] }],
  };
  assert.match(await sendToMx(mx, '', 'tls-reports@relay.test', reportMail('h1', 'json', Buffer.from(JSON.stringify(hostile)))), /^250 /);
  assert.match(await sendToMx(mx, '', 'tls-reports@relay.test', reportMail('h2', 'gzip', gzipSync(Buffer.alloc(64 * 1024 * 1024)))), /^250 /);
  await eventually(() => relay.logs.filter((l) => l.event === 'inbound.stored').length >= 2 || null);

  const human = await relay.cli(['tls-reports', 'received']);
  assert.equal(human.code, 0, human.stderr);
  assert.doesNotMatch(human.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'no control characters printed');
  assert.match(human.stdout, /Evil\?+.*Corp/);
  assert.match(human.stdout, /unreadable: the attachment does not gunzip: ERR_BUFFER_TOO_LARGE/);
  const json = JSON.parse((await relay.cli(['tls-reports', 'received', '--json'])).stdout) as ReceivedReport[];
  const h1 = json.find((r) => r.reportId === 'h1')!;
  assert.equal(h1.policies?.length, 4);
  const values = [h1.organization ?? '', ...(h1.policies ?? []).flatMap((p) => [p.type, p.domain, ...p.failures.map((f) => f.resultType)])];
  assert.ok(values.every((v) => !/[\u0000-\u001f\u007f-\u009f]/.test(v)), JSON.stringify(values));
});
