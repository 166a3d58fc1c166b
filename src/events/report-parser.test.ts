// parseReport against the fixtures in test/fixtures/reports: each DSN, text bounce and feedback
// report shape → the exact report expected (read with LF and with CRLF line ends), plus the
// input bound, the envelope-sender hint and malformed input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readReportFixture, reportFixtureNames } from '../../test/helpers/report-fixtures.js';
import type { DsnRecipient, InboundReport, OriginalHeaders } from './inbound-report.js';
import { classifyBounce } from './bounce-classifier.js';
import { parseReport } from './report-parser.js';

const ID = '<01JZ3K4M5N6P7Q8R9S0T@relay.acme.example>';
const VERP = 'bounce+01JZ3K4M5N6P7Q8R9S0T.k3j5d7a2qp@bounces.acme.example';
const failed = (finalRecipient: string, status: string, diagnosticCode: string, remoteMta: string | null, originalRecipient: string | null = null): DsnRecipient =>
  ({ finalRecipient, originalRecipient, action: 'failed', status, diagnosticCode, remoteMta });
const dsn = (reportingMta: string, recipients: DsnRecipient[], more: { originalEnvelopeId?: string; originalReturnPath?: string | null } = {}): InboundReport =>
  ({ kind: 'dsn', reportingMta, recipients, originalMessageId: ID, originalEnvelopeId: more.originalEnvelopeId ?? null, originalReturnPath: more.originalReturnPath === undefined ? VERP : more.originalReturnPath });
const headers = (h: Partial<OriginalHeaders>): OriginalHeaders => ({ returnPath: VERP, to: [], messageId: ID, listUnsubscribe: null, ...h });

const EXPECTED: Record<string, InboundReport> = {
  'postfix-dsn.eml': dsn('mx2.example.org', [failed('bob@example.org', '5.1.1',
    '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table', 'mailstore1.example.org', 'bob@example.org')],
  { originalEnvelopeId: '01JZ3K4M5N6P7Q8R9S0T' }),
  'icloud-delayed.eml': dsn('mr85p00im-ztdg06021801.me.com', [{
    finalRecipient: 'carol@icloud.com', originalRecipient: 'carol@me.com', action: 'delayed', status: '4.2.2',
    diagnosticCode: 'temporary failure: 452 4.2.2 <carol@icloud.com>: user is over quota', remoteMta: null,
  }], { originalReturnPath: 'bounce+01JZ3K4M5N6P7Q8R9S0T.3.ab7c2kd9qz@bounces.acme.example' }),
  'exim-dsn.eml': dsn('smtp.example.net', [failed('dave@example.net', '5.0.0',
    '550 5.2.1 <dave@example.net>: Recipient address rejected: This mailbox is disabled', 'mx.example.net')]),
  'sendmail-dsn.eml': dsn('mail.example.edu', [failed('gina@example.edu', '5.1.1', '550 5.1.1 <gina@example.edu>... User unknown', 'inbound.example.edu')]),
  'gmail-dsn.eml': dsn('googlemail.com', [failed('ivan@gmail.com', '5.1.1',
    '550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient\'s email address '
    + 'for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser '
    + '5b1f17b1804b1-4538a1c2f3esi1234567f.88 - gsmtp', 'gmail-smtp-in.l.google.com')], { originalReturnPath: null }),
  'o365-ndr.eml': dsn('AM0PR01MB5123.eurprd01.prod.exchangelabs.com', [failed('judy@contoso.com', '5.1.10',
    '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', null)]),
  'exchange-onprem.eml': dsn('EX01.fabrikam.local', [
    failed('kim@fabrikam.example', '5.1.1', '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found', null, 'kim@fabrikam.example'),
    failed('leo@fabrikam.example', '5.4.1', '550 5.4.1 Recipient address rejected: Access denied', 'EX02.fabrikam.local', 'leo@fabrikam.example'),
  ]),
  'exim-classic.eml': { kind: 'bounce-text', originalMessageId: ID, originalReturnPath: VERP, recipients: [
    { address: 'erin@example.com', diagnostic: '550-5.1.1 <erin@example.com> No such user here.\n550 5.1.1 Please check the address and try again.', status: '5.1.1' },
    { address: 'frank@example.com', diagnostic: 'Unrouteable address', status: null },
  ] },
  'qmail.eml': { kind: 'bounce-text', originalMessageId: ID, originalReturnPath: VERP, recipients: [
    { address: 'mallory@example.net', diagnostic: 'Sorry, no mailbox here by that name. (#5.1.1)', status: '5.1.1' },
    { address: 'nina@example.net', diagnostic: '552 5.2.2 <nina@example.net>: Mailbox full', status: '5.2.2' },
  ] },
  'yahoo-failure.eml': { kind: 'bounce-text', originalMessageId: ID, originalReturnPath: VERP, recipients: [
    { address: 'oscar@example.com', diagnostic: '550: 5.1.1 <oscar@example.com>: Recipient address rejected: User unknown in virtual alias table', status: '5.1.1' },
  ] },
  'sendmail-text.eml': { kind: 'bounce-text', originalMessageId: ID, originalReturnPath: VERP, recipients: [
    { address: 'hank@legacy.example.org', diagnostic: '550 5.1.1 <hank@legacy.example.org>... User unknown', status: '5.1.1' },
  ] },
  'yahoo-arf.eml': {
    kind: 'arf', feedbackType: 'abuse', userAgent: 'Yahoo!-Mail-Feedback/2.0', originalMailFrom: VERP, originalRcptTo: ['peggy@yahoo.com'],
    sourceIp: '198.51.100.20', arrivalDate: 'Wed, 02 Jul 2025 07:58:40 +0000', reportedDomain: 'acme.example', originalMessageId: ID,
    originalHeaders: headers({ to: ['peggy@yahoo.com'],
      listUnsubscribe: '<mailto:unsub+01JZ3K4M5N6P7Q8R9S0T@acme.example>, <https://acme.example/u/01JZ3K4M5N6P7Q8R9S0T>' }),
  },
  'microsoft-jmrp.eml': {
    kind: 'arf', feedbackType: 'abuse', userAgent: 'Hotmail FBL', originalMailFrom: VERP, originalRcptTo: [],
    sourceIp: '198.51.100.20', arrivalDate: 'Wed, 02 Jul 2025 09:12:44 -0700', reportedDomain: null, originalMessageId: ID,
    originalHeaders: headers({}),
  },
  'headers-only-arf.eml': {
    kind: 'arf', feedbackType: 'abuse', userAgent: 'MailboxFBL/3.1', originalMailFrom: 'bounce+01JZ3K4M5N6P7Q8R9S0T.2.z9y8x7w6v5@bounces.acme.example',
    originalRcptTo: ['quinn@mailbox.example', 'quinn.alias@mailbox.example'], sourceIp: '198.51.100.20',
    arrivalDate: 'Thu, 03 Jul 2025 05:41:17 +0000', reportedDomain: 'acme.example', originalMessageId: ID,
    originalHeaders: headers({ returnPath: 'bounce+01JZ3K4M5N6P7Q8R9S0T.2.z9y8x7w6v5@bounces.acme.example',
      to: ['quinn@mailbox.example', 'other@mailbox.example'], listUnsubscribe: '<https://acme.example/u/01JZ3K4M5N6P7Q8R9S0T>' }),
  },
  'plain-reply.eml': { kind: 'other' },
  'out-of-office.eml': { kind: 'other' },
};

describe('parseReport: fixtures', () => {
  it('covers every fixture, with at least 10 bounce shapes and 3 feedback reports', () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), reportFixtureNames());
    const kinds = Object.values(EXPECTED).map((r) => r.kind);
    assert.ok(kinds.filter((k) => k === 'dsn' || k === 'bounce-text').length >= 10);
    assert.ok(kinds.filter((k) => k === 'arf').length >= 3);
  });
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(name, async () => {
      assert.deepEqual(await parseReport(readReportFixture(name)), expected);
      assert.deepEqual(await parseReport(readReportFixture(name, 'crlf')), expected, 'with CRLF line ends');
    });
  }
});

describe('parseReport: limits and hints', () => {
  it('reads only the first maxBytes: a report cut inside the returned message still gives its DSN', async () => {
    const raw = readReportFixture('postfix-dsn.eml');
    const cut = raw.indexOf('Hello Bob');
    const report = await parseReport(raw, { maxBytes: cut });
    assert.equal(report.kind, 'dsn');
    assert.deepEqual(report, EXPECTED['postfix-dsn.eml']);
    assert.deepEqual(await parseReport(raw, { maxBytes: 200 }), { kind: 'other' }, 'only the first header lines');
  });

  // Bounded by the test timeout, not by milliseconds: reading all 6 MB with the field parsers would blow it.
  it('reads a report returning a 6 MB message quickly, from its first 512 KiB', { timeout: 60_000 }, async () => {
    const raw = readReportFixture('postfix-dsn.eml', 'crlf');
    const at = raw.indexOf('Hello Bob');
    const big = Buffer.concat([raw.subarray(0, at), Buffer.alloc(6 * 1024 * 1024, 'All work and no play.\r\n'), raw.subarray(at)]);
    assert.deepEqual(await parseReport(big), EXPECTED['postfix-dsn.eml']);
  });

  it('takes the null envelope sender as a sign of a bounce', async () => {
    const raw = Buffer.from(readReportFixture('qmail.eml').toString('latin1').replace('From: MAILER-DAEMON@mail.example.net', 'From: mail.example.net'), 'latin1');
    assert.equal((await parseReport(raw)).kind, 'other', 'neither from a daemon nor from the null sender');
    assert.equal((await parseReport(raw, { envelopeFrom: '' })).kind, 'bounce-text');
    assert.equal((await parseReport(raw, { envelopeFrom: '<>' })).kind, 'bounce-text');
    assert.equal((await parseReport(raw, { envelopeFrom: 'someone@example.net' })).kind, 'other');
  });

  it('falls back to X-Failed-Recipients and In-Reply-To when the text names no address', async () => {
    const raw = Buffer.from([
      'From: Mail Delivery System <Mailer-Daemon@mx.example.com>', 'To: ' + VERP, 'Subject: Mail delivery failed: returning message to sender',
      'X-Failed-Recipients: zoe@example.com', `In-Reply-To: ${ID}`, '', 'A message that you sent could not be delivered.', '',
    ].join('\r\n'));
    assert.deepEqual(await parseReport(raw), {
      kind: 'bounce-text', recipients: [{ address: 'zoe@example.com', diagnostic: null, status: null }], originalMessageId: ID, originalReturnPath: null,
    });
  });

  it('answers other for nothing, noise and broken MIME', async () => {
    const inputs = ['', '\r\n\r\n', 'not a message at all', 'Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n',
      'Content-Type: multipart/report; boundary="\r\n\r\n--\r\n--\r\n', '\0\0\0\xff\xfe'];
    for (const input of inputs) assert.deepEqual(await parseReport(Buffer.from(input, 'latin1')), { kind: 'other' }, JSON.stringify(input));
  });

  it('reads a delivery-status part even when its fields are damaged', async () => {
    const raw = Buffer.from([
      'From: postmaster@example.org', 'Subject: Undeliverable', 'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary=b', '', '--b', 'Content-Type: message/delivery-status', '',
      'Reporting-MTA dns mx.example.org', '', 'Final-Recipient: <odd@example.org>', 'Action: FAILED (permanent)', 'Status: 5.1.1 (no such user)',
      'Diagnostic-Code: 550 no such user', 'Remote-MTA:', '', '--b--', '',
    ].join('\r\n'));
    assert.deepEqual(await parseReport(raw), {
      kind: 'dsn', reportingMta: null, originalMessageId: null, originalEnvelopeId: null, originalReturnPath: null,
      recipients: [{ finalRecipient: 'odd@example.org', originalRecipient: null, action: 'failed', status: '5.1.1', diagnosticCode: '550 no such user', remoteMta: null }],
    });
  });
});

describe('parseReport then classifyBounce', () => {
  it('classifies what each report says about each recipient', async () => {
    const expected: Record<string, string[]> = {
      'postfix-dsn.eml': ['bob@example.org hard unknown-user'],
      'icloud-delayed.eml': ['carol@icloud.com soft mailbox-full'],
      'exim-dsn.eml': ['dave@example.net hard mailbox-disabled'],
      'sendmail-dsn.eml': ['gina@example.edu hard unknown-user'],
      'gmail-dsn.eml': ['ivan@gmail.com hard unknown-user'],
      'o365-ndr.eml': ['judy@contoso.com hard unknown-user'],
      'exchange-onprem.eml': ['kim@fabrikam.example hard unknown-user', 'leo@fabrikam.example hard unknown-user'],
      'exim-classic.eml': ['erin@example.com hard unknown-user', 'frank@example.com hard bad-domain'],
      'qmail.eml': ['mallory@example.net hard unknown-user', 'nina@example.net soft mailbox-full'],
      'yahoo-failure.eml': ['oscar@example.com hard unknown-user'],
      'sendmail-text.eml': ['hank@legacy.example.org hard unknown-user'],
    };
    for (const [name, lines] of Object.entries(expected)) {
      const report = await parseReport(readReportFixture(name));
      const got = report.kind === 'dsn'
        ? report.recipients.map((r) => [r.finalRecipient, classifyBounce(r.diagnosticCode ?? '', r.status)] as const)
        : report.kind === 'bounce-text' ? report.recipients.map((r) => [r.address, classifyBounce(r.diagnostic ?? '', r.status)] as const) : [];
      assert.deepEqual(got.map(([a, c]) => `${a} ${c.bounceType} ${c.category}`), lines, name);
    }
  });
});
