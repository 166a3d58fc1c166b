// Owns the reading of one inbound message that may be a report about mail we sent: a DSN
// (multipart/report with a message/delivery-status part), a feedback report (ARF: a
// message/feedback-report part), a text bounce without either (heuristic-bounce.ts), or none of
// these ('other'). MIME is mailparser's; the report bodies are read by dsn-report.ts and
// arf-report.ts, the returned message's headers by report-fields.ts.
//
// Robust by contract: at most `maxBytes` of the input are read (reports put their machine-readable
// parts first and the returned message last, so a cut report still yields what we use), and it
// never throws — malformed input gives 'other' or whatever could be read.
import type { Attachment, ParsedMail, SimpleParserOptions } from 'mailparser';
import { readArf } from './arf-report.js';
import { readDsn } from './dsn-report.js';
import { readTextBounce } from './heuristic-bounce.js';
import type { InboundReport, OriginalHeaders } from './inbound-report.js';
import { addressOf, messageIdOf, originalHeadersOf } from './report-fields.js';

export type { InboundReport } from './inbound-report.js';

export interface ParseReportOptions {
  /** Read at most this many bytes of `raw` (default 512 KiB); the rest is ignored. */
  maxBytes?: number;
  /** The envelope sender, when known ('' = the null sender): helps recognise text bounces. */
  envelopeFrom?: string | null;
}

/**
 * Reports carry what we use in their first kilobytes (the returned message's body comes last); the
 * bound keeps the worst case (a pathological MIME structure) near a quarter of a second.
 */
export const DEFAULT_MAX_REPORT_BYTES = 512 * 1024;

/**
 * Report parts stay attachments (delivery-status not merged into the text; a returned message not
 * parsed as part of the report even when inline, so its own header section is kept); no HTML work,
 * no checksums; MIME structure bounded.
 */
const MIME_OPTIONS: SimpleParserOptions = {
  keepDeliveryStatus: true, ignoreEmbedded: true, checksumAlgo: false, maxHeadSize: 256 * 1024, maxChildNodes: 200,
  skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true,
};

const OTHER: InboundReport = Object.freeze({ kind: 'other' });
const STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const FEEDBACK_TYPES = new Set(['message/feedback-report']);
const ORIGINAL_TYPES = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);

/** What `raw` reports, if anything. Never throws. */
export async function parseReport(raw: Buffer, opts: ParseReportOptions = {}): Promise<InboundReport> {
  try {
    const maxBytes = Math.max(0, opts.maxBytes ?? DEFAULT_MAX_REPORT_BYTES);
    const { simpleParser } = await import('mailparser'); // loaded on first use (bench/README.md "Memory")
    const mail = await simpleParser(raw.length > maxBytes ? raw.subarray(0, maxBytes) : raw, MIME_OPTIONS);
    return readMail(mail, opts.envelopeFrom);
  } catch {
    return OTHER;
  }
}

/** The first part of one of `types`, decoded to text. */
function partText(attachments: readonly Attachment[], types: ReadonlySet<string>): string | null {
  const part = attachments.find((a) => types.has(a.contentType.toLowerCase()));
  return part ? Buffer.from(part.content).toString('utf8') : null;
}

/** A Message-ID the report names in its own header (In-Reply-To, else References). */
function namedMessageId(mail: ParsedMail): string | null {
  const references = Array.isArray(mail.references) ? mail.references[0] : mail.references;
  return messageIdOf(mail.inReplyTo ?? null) ?? messageIdOf(references ?? null);
}

function readMail(mail: ParsedMail, envelopeFrom: string | null | undefined): InboundReport {
  const attachments = mail.attachments ?? [];
  const originalText = partText(attachments, ORIGINAL_TYPES);
  const original: OriginalHeaders | null = originalText === null ? null : originalHeadersOf(originalText);
  const feedback = partText(attachments, FEEDBACK_TYPES);
  if (feedback !== null) return readArf(feedback, original);
  const status = partText(attachments, STATUS_TYPES);
  if (status !== null) return readDsn(status, original, namedMessageId(mail));
  const failed = mail.headers.get('x-failed-recipients');
  const text = readTextBounce({
    from: mail.from?.text ?? '',
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    envelopeFrom: envelopeFrom === undefined || envelopeFrom === null ? envelopeFrom : (addressOf(envelopeFrom) ?? ''),
    failedRecipients: typeof failed === 'string' ? failed : null,
    original,
    namedMessageId: namedMessageId(mail),
  });
  return text ?? OTHER;
}
