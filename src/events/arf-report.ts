// Reads a feedback report (ARF, RFC 5965): the fields of its message/feedback-report part
// (Feedback-Type, User-Agent, Original-Mail-From, Original-Rcpt-To, Source-IP, Arrival-Date,
// Reported-Domain…) and the reported message's headers (message/rfc822 or text/rfc822-headers).
// Yahoo and Microsoft (JMRP) redact the recipient: Original-Rcpt-To is then absent and the
// reported message's To is "<redacted>", so the caller finds the message through
// Original-Mail-From (the VERP return-path) or the Message-ID. Pure; report-parser.ts finds the parts.
import type { ArfReport, OriginalHeaders } from './inbound-report.js';
import { addressOf, fieldOf, fieldsOf, NO_ORIGINAL, parseFieldGroups, type FieldGroup } from './report-fields.js';

/** The ARF in `feedbackReport` (the body of the message/feedback-report part). */
export function readArf(feedbackReport: string, original: OriginalHeaders | null): ArfReport {
  // One block by the RFC; some reporters put blank lines inside it, so every block counts.
  const fields: FieldGroup = parseFieldGroups(feedbackReport).flat();
  const headers = original ?? NO_ORIGINAL;
  return {
    kind: 'arf',
    feedbackType: fieldOf(fields, 'feedback-type')?.split(/[\s;]/, 1)[0]!.toLowerCase() || 'other',
    userAgent: fieldOf(fields, 'user-agent'),
    originalMailFrom: addressOf(fieldOf(fields, 'original-mail-from')),
    originalRcptTo: fieldsOf(fields, 'original-rcpt-to').map(addressOf).filter((a): a is string => a !== null),
    sourceIp: fieldOf(fields, 'source-ip'),
    arrivalDate: fieldOf(fields, 'arrival-date') ?? fieldOf(fields, 'received-date'),
    reportedDomain: fieldOf(fields, 'reported-domain'),
    originalMessageId: headers.messageId,
    originalHeaders: { ...headers, to: [...headers.to] },
  };
}
