// Fuzz target: the inbound report parsers (src/events/report-parser.ts and the readers it uses:
// dsn-report.ts, arf-report.ts, heuristic-bounce.ts, report-fields.ts). parseReport() catches
// everything by contract, which would hide a reader that throws, so the pure readers are also
// called directly on the text. Properties: nothing throws; the result is one of the four kinds;
// every recipient is an address (one '@', no space, CR, LF, <, >), every status is "[245].d.d",
// every Message-ID is "<…>" without spaces, actions and feedback types are from their sets.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readArf } from '../../../src/events/arf-report.js';
import { readDsn } from '../../../src/events/dsn-report.js';
import { readTextBounce } from '../../../src/events/heuristic-bounce.js';
import type { InboundReport, OriginalHeaders } from '../../../src/events/inbound-report.js';
import { originalHeadersOf } from '../../../src/events/report-fields.js';
import { parseReport } from '../../../src/events/report-parser.js';
import { corpusOf } from '../corpus.js';
import type { FuzzTarget } from '../harness.js';

interface Input { bytes: Buffer; mime: boolean }

const ADDRESS = /^[^\s<>@]+@(?![.]*$)[^\s<>@]+$/; // a domain of dots alone is none
const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;
const MESSAGE_ID = /^<[^<>\s]+>$/;
const ACTIONS = new Set(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);

const address = (a: string | null, what: string) => { if (a !== null) assert.match(a, ADDRESS, `${what}: ${JSON.stringify(a)}`); };
const messageId = (m: string | null, what: string) => { if (m !== null) assert.match(m, MESSAGE_ID, `${what}: ${JSON.stringify(m)}`); };

function checkOriginal(o: OriginalHeaders): void {
  address(o.returnPath, 'returnPath');
  o.to.forEach((a) => address(a, 'original To'));
  messageId(o.messageId, 'original Message-ID');
}

export function checkReport(r: InboundReport): void {
  switch (r.kind) {
    case 'dsn':
      for (const x of r.recipients) {
        address(x.finalRecipient, 'Final-Recipient');
        address(x.originalRecipient, 'Original-Recipient');
        if (x.status !== null) assert.match(x.status, STATUS, 'status');
        if (x.action !== null) assert.ok(ACTIONS.has(x.action), `action ${x.action}`);
        if (x.remoteMta !== null) assert.doesNotMatch(x.remoteMta, /\s/, 'Remote-MTA');
      }
      messageId(r.originalMessageId, 'originalMessageId');
      address(r.originalReturnPath, 'originalReturnPath');
      return;
    case 'arf':
      assert.match(r.feedbackType, /^[^\s;A-Z]+$/, 'feedback type');
      address(r.originalMailFrom, 'Original-Mail-From');
      r.originalRcptTo.forEach((a) => address(a, 'Original-Rcpt-To'));
      messageId(r.originalMessageId, 'originalMessageId');
      checkOriginal(r.originalHeaders);
      return;
    case 'bounce-text':
      for (const x of r.recipients) {
        address(x.address, 'text bounce recipient');
        if (x.status !== null) assert.match(x.status, STATUS, 'status');
      }
      messageId(r.originalMessageId, 'originalMessageId');
      address(r.originalReturnPath, 'originalReturnPath');
      return;
    case 'other':
      return;
    default:
      assert.fail(`unknown kind ${(r as { kind: string }).kind}`);
  }
}

export async function checkReportInput(input: Input): Promise<void> {
  const text = input.bytes.toString('utf8');
  const original = originalHeadersOf(text);
  checkOriginal(original);
  checkReport(readDsn(text, original, null));
  checkReport(readArf(text, original));
  const bounce = readTextBounce({ from: 'MAILER-DAEMON@mx.example', subject: 'Undelivered Mail', text, envelopeFrom: '', failedRecipients: text.slice(0, 2000), original: null, namedMessageId: null });
  if (bounce) checkReport(bounce);
  if (input.mime) checkReport(await parseReport(input.bytes));
}

// ---- Inputs: report-shaped texts ----
const token = fc.constantFrom('Final-Recipient: rfc822; ', 'Original-Recipient: rfc822;', 'Action: ', 'failed', 'delayed (x)', 'Status: ', '5.1.1', '4.01.001', '2.0', '9.9.9',
  'Diagnostic-Code: smtp; 550 5.1.1 <a@b> user unknown', 'Remote-MTA: dns; mx.example.org. (192.0.2.1)', 'Reporting-MTA: dns;', 'Feedback-Type: ', 'abuse', 'Abuse; x',
  'Original-Mail-From: <bounce+1@x>', 'Original-Rcpt-To: ', 'Message-ID: ', '<id@x>', '<a b>', '<<>>', 'X-Original-Message-ID: ', 'Return-Path: <>', 'To: "A, B" <a@b>, c@d',
  '\r\n', '\n', '\r', '\r\n\r\n', '\n ', '\t', ' ', ':', ';', '<', '>', '@', '@@', 'a@b', 'a@', '@b', '(', ')', '"', ',', '550-', '550 ', '5.7.1 ', 'Remote host said: ',
  '(reason: ', '--- Below this line is a copy of the message.\n', 'Hi. This is the qmail-send program', 'x'.repeat(300), 'é', '\0');
const reportText = fc.array(token, { maxLength: 80 }).map((t) => Buffer.from(t.join(''), 'utf8'));

/** Field lines as a DSN or ARF body has them, values from the tokens, blocks split by blank lines. */
const fieldName = fc.constantFrom('Final-Recipient', 'Original-Recipient', 'Action', 'Status', 'Diagnostic-Code', 'Remote-MTA', 'Reporting-MTA', 'Feedback-Type',
  'Original-Mail-From', 'Original-Rcpt-To', 'Message-ID', 'X-Original-Message-ID', 'Return-Path', 'To', 'Source-IP', ' ', '');
const fieldLines = fc.array(fc.oneof({ weight: 5, arbitrary: fc.tuple(fieldName, fc.oneof(fc.array(token, { maxLength: 4 }).map((v) => v.join('')),
    fc.constantFrom('5.1.1', '4.2.2 (mailbox full)', '5.01.001', '2.0.0', '5.7.1.5', 'failed', 'Delayed', 'rfc822; a@b.example', 'rfc822;<x@y.example> (c)', 'dns; mx.example.',
      'smtp; 550-5.1.1 user unknown', '<id@x>', 'abuse', 'rfc822; a@b@c', 'rfc822; "a b"@c.example'))).map(([n, v]) => `${n}: ${v}`) }, { weight: 1, arbitrary: fc.constant('') }), { maxLength: 30 })
  .chain((lines) => fc.constantFrom('\n', '\r\n').map((eol) => Buffer.from(lines.join(eol), 'utf8')));

export const reportsTarget: FuzzTarget<Input> = {
  name: 'reports',
  arbitrary: fc.oneof(
    { weight: 3, arbitrary: reportText.map((bytes) => ({ bytes, mime: false })) },
    { weight: 4, arbitrary: fieldLines.map((bytes) => ({ bytes, mime: false })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => ({ bytes: Buffer.from(a), mime: false })) },
    { weight: 1, arbitrary: reportText.map((bytes) => ({ bytes: Buffer.concat([Buffer.from('Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n'), bytes, Buffer.from('\r\n--b--\r\n')]), mime: true })) },
  ),
  corpus: () => corpusOf('reports'),
  /** One mutated fixture in eight goes through mailparser as well (parseReport is the slow part). */
  fromBytes: (bytes, rng) => ({ bytes, mime: rng.next() < 0.125 }),
  check: checkReportInput,
  tokens: ['\r\n', '\n', '\r\n\r\n', '--', ': ', ';', '<', '>', '@', 'rfc822; ', 'Status: 5.1.1\n', 'Final-Recipient: rfc822; x@y\n', 'Content-Type: message/delivery-status\n',
    'Content-Type: message/feedback-report\n', 'boundary=', '=?utf-8?b?', '550 5.1.1 ', '\0', 'é'],
  show: (i) => JSON.stringify({ text: i.bytes.toString('latin1').slice(0, 3000), mime: i.mime }),
};
