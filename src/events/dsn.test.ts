import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { buildDsn, foldField, formatDate, readHeaderSection, type DsnReport } from './dsn.js';

const original = Buffer.from([
  'From: Alice <alice@sender.test>',
  'To: bob@example.test',
  'Subject: Hello',
  `X-Long: ${'x'.repeat(1500)}`,
  'Message-ID: <m1@sender.test>',
  '',
  'Body line that must not appear in the DSN',
  '',
].join('\r\n'));

/** Unfolded, LF line endings: easier to match with /^…$/m. */
const unfold = (b: Buffer) => b.toString().replace(/\r\n[ \t]/g, ' ').replace(/\r\n/g, '\n');

const report = (over: Partial<DsnReport> = {}): DsnReport => ({
  hostname: 'relay.test',
  dsnId: '0000000000DSNID00000',
  originalId: '0000000000ORIGINAL00',
  originalSender: 'alice@sender.test',
  arrivalDate: Date.UTC(2026, 0, 2, 3, 4, 5),
  date: Date.UTC(2026, 0, 2, 4, 0, 0),
  recipients: [{
    address: 'bob@example.test', action: 'failed', status: '5.1.1', reason: 'rejected',
    remoteMta: 'mx1.example.test', diagnostic: `550 5.1.1 <bob@example.test>: User unknown ${'y'.repeat(1200)}`,
  }],
  originalHeaders: original,
  ...over,
});

describe('buildDsn', () => {
  it('is a multipart/report with the three RFC 3464 parts', async () => {
    const raw = buildDsn(report());
    const mail = await simpleParser(raw, { keepDeliveryStatus: true });
    assert.equal(mail.subject, 'Undelivered Mail Returned to Sender');
    assert.equal(mail.from?.text, '"Mail Delivery System" <MAILER-DAEMON@relay.test>');
    assert.equal(mail.headers.get('auto-submitted'), 'auto-replied');
    assert.equal(mail.messageId, '<0000000000DSNID00000@relay.test>');
    const ct = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
    assert.equal(ct.value, 'multipart/report');
    assert.equal(ct.params['report-type'], 'delivery-status');
    assert.match(mail.text ?? '', /could not be delivered/);
    assert.match(mail.text ?? '', /<bob@example\.test>: mx1\.example\.test said: 550 5\.1\.1/);
    const types = mail.attachments.map((a) => a.contentType);
    assert.deepEqual(types, ['message/delivery-status', 'text/rfc822-headers']);
    const status = unfold(mail.attachments[0]!.content);
    assert.match(status, /^Reporting-MTA: dns; relay\.test$/m);
    assert.match(status, /^Arrival-Date: Fri, 02 Jan 2026 03:04:05 \+0000$/m);
    assert.match(status, /^Final-Recipient: rfc822; bob@example\.test$/m);
    assert.match(status, /^Action: failed$/m);
    assert.match(status, /^Status: 5\.1\.1$/m);
    assert.match(status, /^Remote-MTA: dns; mx1\.example\.test$/m);
    assert.match(status, /^Diagnostic-Code: smtp; 550 5\.1\.1 <bob@example\.test>: User unknown y+ y+$/m);
    const headers = unfold(mail.attachments[1]!.content);
    assert.match(headers, /^Subject: Hello$/m);
    assert.match(headers, /^Message-ID: <m1@sender\.test>$/m);
    assert.doesNotMatch(headers, /Body line/);
  });

  it('uses CRLF only and keeps every line within 998 bytes', () => {
    const raw = buildDsn(report());
    assert.equal(raw.toString().replace(/\r\n/g, '').includes('\n'), false);
    assert.equal(raw.toString().replace(/\r\n/g, '').includes('\r'), false);
    for (const line of raw.toString().split('\r\n')) assert.ok(Buffer.byteLength(line) <= 998, `line of ${line.length}`);
  });

  it('reports delayed recipients with Will-Retry-Until and its own subject', async () => {
    const until = Date.UTC(2026, 0, 7);
    const mail = await simpleParser(buildDsn(report({
      recipients: [{ address: 'bob@example.test', action: 'delayed', status: '4.4.1', reason: 'could not connect', willRetryUntil: until }],
    })), { keepDeliveryStatus: true });
    assert.equal(mail.subject, 'Delayed Mail (still being retried)');
    const status = unfold(mail.attachments[0]!.content);
    assert.match(status, /^Action: delayed$/m);
    assert.match(status, /^Status: 4\.4\.1$/m);
    assert.match(status, new RegExp(`^Will-Retry-Until: ${formatDate(until).replace('+', '\\+')}$`, 'm'));
    assert.doesNotMatch(status, /Diagnostic-Code/);
    assert.match(mail.text ?? '', /could not connect/);
  });
});

describe('foldField', () => {
  it('folds at spaces and splits overlong words', () => {
    assert.deepEqual(foldField('A', 'short'), ['A: short']);
    const lines = foldField('Diagnostic-Code', `smtp; ${'w '.repeat(60)}${'z'.repeat(2000)}`);
    assert.ok(lines.length > 3);
    assert.ok(lines.every((l) => l.length <= 998));
    assert.ok(lines.slice(1).every((l) => l.startsWith(' ')));
  });
});

describe('readHeaderSection', () => {
  it('stops at the blank line, across chunk boundaries', async () => {
    const chunks = [original.subarray(0, 10), original.subarray(10, 1600), original.subarray(1600)];
    const h = await readHeaderSection(Readable.from(chunks));
    assert.ok(h.toString().endsWith('Message-ID: <m1@sender.test>\r\n'));
  });
  it('caps a header section without end', async () => {
    const h = await readHeaderSection(Readable.from([Buffer.from('A: b\r\n'.repeat(1000))]), 100);
    assert.ok(h.length <= 100 && h.toString().endsWith('\r\n'));
  });
});

describe('buildDsn with the RFC 3461 parameters', () => {
  it('Original-Envelope-Id first in the per-message block, Original-Recipient before Final-Recipient', async () => {
    const raw = buildDsn(report({ envid: 'QQ314159', recipients: [{
      address: 'bob@example.test', action: 'failed', status: '5.1.1', reason: 'rejected',
      originalRecipient: { type: 'rfc822', address: 'Bob+x@example.test' },
    }, {
      address: 'jo@example.test', action: 'failed', status: '5.1.1', reason: 'rejected',
      originalRecipient: { type: 'utf-8', address: 'jos\u00e9@example.test' },
    }] }));
    const mail = await simpleParser(raw, { keepDeliveryStatus: true });
    const status = unfold(mail.attachments[0]!.content);
    assert.match(status, /^Original-Envelope-Id: QQ314159\nReporting-MTA: dns; relay\.test$/m);
    assert.match(status, /^Original-Recipient: rfc822; Bob\+x@example\.test\nFinal-Recipient: rfc822; bob@example\.test$/m);
    assert.match(status, /^Original-Recipient: utf-8; jos\\x\{E9\}@example\.test$/m, 'utf-8 addresses stay ASCII (RFC 6533 unitext)');
  });

  it('RET=FULL with a failure: the whole message as message/rfc822; success only: headers', async () => {
    const full = await simpleParser(buildDsn(report({ returnedFull: true })), { keepDeliveryStatus: true });
    assert.deepEqual(full.attachments.map((a) => a.contentType), ['message/delivery-status', 'message/rfc822']);
    assert.match(full.attachments[1]!.content.toString(), /Body line that must not appear in the DSN/);
    const relayed = buildDsn(report({ returnedFull: true, recipients: [{ address: 'bob@example.test', action: 'relayed', status: '2.0.0', reason: 'relayed', remoteMta: 'mx.example.test' }] }));
    const mail = await simpleParser(relayed, { keepDeliveryStatus: true });
    assert.equal(mail.subject, 'Successful Mail Delivery Report');
    assert.deepEqual(mail.attachments.map((a) => a.contentType), ['message/delivery-status', 'text/rfc822-headers']);
    assert.doesNotMatch(relayed.toString(), /Body line/);
    assert.match(unfold(mail.attachments[0]!.content), /^Action: relayed$/m);
    assert.match((mail.text ?? '').replace(/\s+/g, ' '), /relayed to mx\.example\.test, which does not offer delivery notifications/);
  });

  it('RET=FULL over the cap: headers, and the notice says why', () => {
    const raw = buildDsn(report({ fullTooBig: true })).toString();
    assert.match(raw, /Content-Type: text\/rfc822-headers/);
    assert.match(raw.replace(/\r\n/g, ' '), /larger than 1048576 bytes: only its header section is returned/);
  });
});
