// Owns delivery status notifications (RFC 3464): building the multipart/report a sender gets
// when a recipient failed or is delayed, or — asked with NOTIFY=SUCCESS (RFC 3461) — was
// delivered or relayed to a next hop without DSN, and storing it as a new queued message with the
// null reverse-path (so it can never cause a bounce itself). Output uses CRLF only, lines ≤ 998.
// RFC 3461 in the report: ENVID as Original-Envelope-Id, ORCPT as Original-Recipient; the third
// part is the original's header section (text/rfc822-headers), or the whole message
// (message/rfc822) when RET=FULL was asked, the report tells of a failure and the message is at
// most MAX_RETURNED_BYTES (else its headers, and the notice says why).
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { newQueueId } from '../message/ids.js';
import type { GeneratedMessage, QueueStore } from '../store/store.js';
import { writeWholeBody } from '../store/whole-body.js';
import { originalRecipientField, type DsnOrcpt, type DsnRet } from '../message/dsn-params.js';

export interface DsnRecipient {
  address: string;
  /** delivered: final delivery here; relayed: handed to a next hop that does not speak DSN. */
  action: 'failed' | 'delayed' | 'delivered' | 'relayed';
  /** The recipient's ORCPT, for Original-Recipient. */
  originalRecipient?: DsnOrcpt;
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string;
  /** Human explanation (used when there is no remote reply). */
  reason: string;
  /** Host that answered, for Remote-MTA. */
  remoteMta?: string;
  /** The remote server's reply, for Diagnostic-Code. */
  diagnostic?: string;
  lastAttemptAt?: number;
  /** For 'delayed': when the relay gives up. */
  willRetryUntil?: number;
}

export interface DsnReport {
  hostname: string;
  /** Queue id of the DSN itself (Message-ID local part). */
  dsnId: string;
  originalId: string;
  originalSender: string;
  arrivalDate: number;
  date: number;
  recipients: DsnRecipient[];
  /** The original message's header section, as stored (CRLF); or the whole message when `returnedFull`. */
  originalHeaders: Buffer;
  /** originalHeaders holds the whole message (RET=FULL): the third part is message/rfc822. */
  returnedFull?: boolean;
  /** RET=FULL was asked, but the message was over MAX_RETURNED_BYTES: only its headers came back. */
  fullTooBig?: boolean;
  /** The ENVID the client gave, for Original-Envelope-Id. */
  envid?: string;
  /** The RET the client gave (FULL: the whole message comes back in a failure report). */
  ret?: DsnRet;
}

const MAX_LINE = 998;
const MAX_HEADER_BYTES = 64 * 1024;
/** RET=FULL returns the whole message up to this size; a bigger one comes back as its headers. */
export const MAX_RETURNED_BYTES = 1024 * 1024;

/** RFC 5322 date-time in UTC: "Tue, 03 Mar 2026 10:00:00 +0000". */
export const formatDate = (ms: number) => new Date(ms).toUTCString().replace(/GMT$/, '+0000');

/** Fold "Name: value" at spaces so every line stays within `soft` chars where possible, ≤ 998 always. */
export function foldField(name: string, value: string, soft = 78): string[] {
  const words = value.replace(/[\r\n]+/g, ' ').split(' ').filter((w) => w !== '');
  const lines: string[] = [];
  let line = `${name}:`;
  for (const word of words.flatMap((w) => chunk(w, MAX_LINE - 1))) {
    if (line.length + 1 + word.length > soft && line.trim() !== `${name}:` && line.trim() !== '') {
      lines.push(line);
      line = ' ' + word;
    } else {
      line += ' ' + word;
    }
  }
  lines.push(line);
  return lines;
}

function chunk(s: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

/** Word-wrap prose to `width`, hard-splitting anything that would exceed 998. */
function wrap(text: string, width = 76): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ').flatMap((w) => chunk(w, MAX_LINE))) {
      if (line && line.length + 1 + word.length > width) { out.push(line); line = word; } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

function humanText(r: DsnReport): string[] {
  const failed = r.recipients.filter((x) => x.action === 'failed');
  const delayed = r.recipients.filter((x) => x.action === 'delayed');
  const done = r.recipients.filter((x) => x.action === 'delivered' || x.action === 'relayed');
  const lines = [`This is the mail system at ${r.hostname}.`, ''];
  const explain = (x: DsnRecipient) => wrap(`<${x.address}>: ${x.diagnostic ? `${x.remoteMta ?? 'the remote server'} said: ${x.diagnostic}` : x.reason}`);
  if (failed.length) {
    lines.push(...wrap('Your message could not be delivered to one or more recipients. This is a permanent error; the message will not be retried.'), '');
    for (const x of failed) lines.push(...explain(x), '');
  }
  if (delayed.length) {
    const until = delayed[0]!.willRetryUntil;
    lines.push(...wrap(`Your message has not been delivered yet to the following recipients. The relay keeps trying${until ? ` until ${formatDate(until)}` : ''}; you do not need to send it again.`), '');
    for (const x of delayed) lines.push(...explain(x), '');
  }
  if (done.length) {
    lines.push(...wrap('You asked to be told when your message was delivered (NOTIFY=SUCCESS).'), '');
    for (const x of done) {
      lines.push(...wrap(x.action === 'delivered'
        ? `<${x.address}>: delivered to the mailbox.`
        : `<${x.address}>: relayed to ${x.remoteMta ?? 'the next mail server'}, which does not offer delivery notifications; no further notice will come from there.`), '');
    }
  }
  if (r.fullTooBig) lines.push(...wrap(`The message was larger than ${MAX_RETURNED_BYTES} bytes: only its header section is returned.`), '');
  lines.push(`Queue ID: ${r.originalId}`);
  return lines;
}

function statusFields(r: DsnReport): string[] {
  const lines = [
    ...(r.envid ? foldField('Original-Envelope-Id', r.envid) : []),
    ...foldField('Reporting-MTA', `dns; ${r.hostname}`), ...foldField('X-Postlane-Queue-ID', r.originalId), ...foldField('Arrival-Date', formatDate(r.arrivalDate)),
  ];
  for (const x of r.recipients) {
    lines.push('');
    if (x.originalRecipient) lines.push(...foldField('Original-Recipient', originalRecipientField(x.originalRecipient)));
    lines.push(...foldField('Final-Recipient', `rfc822; ${x.address}`), `Action: ${x.action}`, `Status: ${x.status}`);
    if (x.remoteMta) lines.push(...foldField('Remote-MTA', `dns; ${x.remoteMta}`));
    if (x.diagnostic) lines.push(...foldField('Diagnostic-Code', `smtp; ${x.diagnostic}`));
    if (x.lastAttemptAt) lines.push(`Last-Attempt-Date: ${formatDate(x.lastAttemptAt)}`);
    if (x.willRetryUntil) lines.push(`Will-Retry-Until: ${formatDate(x.willRetryUntil)}`);
  }
  return lines;
}

/** The header section for the text/rfc822-headers part, bytes kept as stored: CRLF lines ≤ 998 bytes. */
function headerSection(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  const section = end >= 0 ? raw.subarray(0, end) : raw;
  const lines: Buffer[] = [];
  let start = 0;
  while (start < section.length) {
    let eol = section.indexOf('\n', start);
    if (eol < 0) eol = section.length;
    let line = section.subarray(start, eol);
    if (line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length > 0) lines.push(line.subarray(0, MAX_LINE), CRLF);
    start = eol + 1;
  }
  return Buffer.concat(lines);
}

const CRLF = Buffer.from('\r\n');
const isAscii = (b: Buffer) => b.every((byte) => byte < 0x80);
const cte = (part: Buffer) => `Content-Transfer-Encoding: ${isAscii(part) ? '7bit' : '8bit'}`;
const joinLines = (lines: string[]) => Buffer.from(lines.map((l) => l + '\r\n').join(''), 'utf8');

/** The complete DSN message (headers + multipart/report body). */
export function buildDsn(r: DsnReport): Buffer {
  const boundary = `=_postlane_report_${randomBytes(12).toString('hex')}`;
  const anyFailed = r.recipients.some((x) => x.action === 'failed');
  const anyDelayed = r.recipients.some((x) => x.action === 'delayed');
  const human = joinLines(humanText(r));
  const status = joinLines(statusFields(r));
  const full = r.returnedFull === true && anyFailed;
  const original = full ? r.originalHeaders : headerSection(r.originalHeaders);
  const subject = anyFailed ? 'Undelivered Mail Returned to Sender' : anyDelayed ? 'Delayed Mail (still being retried)' : 'Successful Mail Delivery Report';
  const part = (type: string, description: string, content: Buffer) =>
    [joinLines([`--${boundary}`, `Content-Type: ${type}`, `Content-Description: ${description}`, cte(content), '']), content, CRLF];
  return Buffer.concat([
    joinLines([
      `From: Mail Delivery System <MAILER-DAEMON@${r.hostname}>`,
      ...foldField('To', `<${r.originalSender}>`),
      `Subject: ${subject}`,
      `Date: ${formatDate(r.date)}`,
      `Message-ID: <${r.dsnId}@${r.hostname}>`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status;',
      ` boundary="${boundary}"`,
      '',
      'This is a MIME-encapsulated message.',
      '',
    ]),
    ...part('text/plain; charset=utf-8', 'Notification', human),
    ...part('message/delivery-status', 'Delivery report', status),
    ...(full ? part('message/rfc822', 'The original message', original) : part('text/rfc822-headers', 'Headers of the original message', original)),
    joinLines([`--${boundary}--`]),
  ]);
}

/** DKIM-signs a DSN as the relay's own domain: returns the DKIM-Signature lines ('' = unsigned). */
export type DsnSigner = (dsn: Buffer, dsnId: string) => Promise<string>;

/** Reads a stored body up to the end of its header section (at most 64 KiB), then stops reading. */
export async function readHeaderSection(body: Readable, maxBytes = MAX_HEADER_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of body) {
      const buf = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
      chunks.push(buf);
      size += buf.length;
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end >= 0 && end + 2 <= maxBytes) return all.subarray(0, end + 2);
      if (size >= maxBytes) {
        const capped = all.subarray(0, maxBytes);
        return capped.subarray(0, capped.lastIndexOf('\r\n') + 2);
      }
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks);
}

/** The whole stored message when it is at most `maxBytes`; null when bigger (reading stops there). */
export async function readWhole(body: Readable, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of body) {
      const buf = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
      size += buf.length;
      if (size > maxBytes) return null;
      chunks.push(buf);
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks);
}

/**
 * Builds the DSN for `report` (reading the original's headers from the store), writes its body
 * durably and returns it as a GeneratedMessage for recordResults. The caller must not call this
 * for a message with the null sender or one that is itself a bounce.
 */
export async function createDsn(
  store: QueueStore, report: Omit<DsnReport, 'dsnId' | 'originalHeaders'>, sign?: DsnSigner,
): Promise<GeneratedMessage> {
  const dsnId = newQueueId(report.date);
  // RET=FULL: the whole message in a failure report (RFC 3461 §4.3), up to MAX_RETURNED_BYTES.
  const wantsFull = report.ret === 'FULL' && report.recipients.some((x) => x.action === 'failed');
  const full = wantsFull ? await readWhole(store.readBody(report.originalId), MAX_RETURNED_BYTES).catch(() => null) : null;
  const originalHeaders = full ?? await readHeaderSection(store.readBody(report.originalId)).catch(() => Buffer.alloc(0));
  const unsigned = buildDsn({ ...report, dsnId, originalHeaders, ...(full ? { returnedFull: true } : wantsFull ? { fullTooBig: true } : {}) });
  const body = sign ? Buffer.concat([Buffer.from(await sign(unsigned, dsnId)), unsigned]) : unsigned;
  const size = await writeWholeBody(store, dsnId, body);
  return {
    message: {
      id: dsnId,
      mailFrom: '',
      recipients: [report.originalSender],
      size,
      receivedAt: report.date,
      origin: { listener: 'local', clientIp: '127.0.0.1', user: null },
      isBounce: true,
      route: 'relay',
    },
  };
}
