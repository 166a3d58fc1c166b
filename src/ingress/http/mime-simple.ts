// Owns writing the common API message (text, html or both; no attachments) straight to bytes,
// without MailComposer's compile() and MimeNode's tree: no node objects, no header list kept by
// normalized key, one random base boundary instead of one per node. The bytes are those
// MailComposer({...}).compile().build() gives for the same mail and base boundary
// (mime-simple.test.ts compares them over generated requests): the header order compile() and
// buildHeaders() produce, each value encoded by MimeNode's own encodeHeaderValue and folded by
// mime-funcs' foldLines, the same transfer-encoding choice, nodemailer's own encoders, the same
// delimiters and the same last newline and CRLF pass (mime-bytes.ts). Anything else (attachments,
// no text and no html, a custom header name that nodemailer would rewrite or that collides with
// one it sets) gives null: the caller then composes with MailComposer.
import { randomFillSync } from 'node:crypto';
import type { Transform } from 'node:stream';
import MimeNode from 'nodemailer/lib/mime-node';
import { buildHeaderValue, foldLines, isPlainText } from 'nodemailer/lib/mime-funcs';
import { Encoder as Base64Encoder } from 'nodemailer/lib/base64';
import { Encoder as QpEncoder } from 'nodemailer/lib/qp';
import { encodeAll, encodeQuotedPrintableText, finishMessage } from './mime-bytes.js';

export interface SimpleMailbox {
  name: string;
  address: string;
  /**
   * This mailbox as an address field writes it (encodeHeaderValue's text for it alone), when the
   * caller already knows it from its own check of the address (writtenMailbox); otherwise the
   * field is encoded by nodemailer as before.
   */
  written?: string | undefined;
}

/** The MailComposer options compose.ts passes, for a message without attachments. */
export interface SimpleMail {
  from: SimpleMailbox;
  to: SimpleMailbox[];
  cc: SimpleMailbox[];
  /** Envelope only: never written (MimeNode leaves Bcc out). */
  bcc: SimpleMailbox[];
  replyTo?: SimpleMailbox[];
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
  headers: Record<string, string>;
  messageId: string;
  date: Date;
}

/** A MimeNode with default options: its encodeHeaderValue and _getTextEncoding are the ones every composer node uses. */
const encoder = new MimeNode('text/plain') as MimeNode & { _getTextEncoding(value: string): 'Q' | 'B'; _encodeAddressName(name: string): string };

/** RFC 5322 atext without nodemailer's non-ASCII range: an ASCII dot-atom local part. */
const ASCII_DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

/**
 * The text encodeHeaderValue writes for the one mailbox { name, address } in an address field
 * (From, To, Cc, Reply-To), or undefined when that takes nodemailer's own pass. `asciiDomain` is
 * what domain-name.ts's normalizeDomain gave for the address's domain: when it is the domain as
 * written, domainToASCII leaves that domain alone (normalizeDomain is domainToASCII, lower-cased,
 * of the trimmed domain, and its labels are plain LDH), so nodemailer's _normalizeAddress (run
 * twice there: when the list is parsed and when it is written; a domainToASCII and five regular
 * expressions each time) returns the address unchanged, and an ASCII dot-atom local part needs
 * neither quotes nor angle brackets. The name is encoded by nodemailer's own _encodeAddressName.
 * The API's request check has already made both (compose.ts); mime-simple.test.ts compares the
 * fields with nodemailer's over generated mailboxes.
 */
export function writtenMailbox(name: string, address: string, asciiDomain: string | null): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || asciiDomain === null || address.slice(at + 1) !== asciiDomain || !ASCII_DOT_ATOM.test(address.slice(0, at))) return undefined;
  return name ? `${encoder._encodeAddressName(name)} <${address}>` : address;
}

/**
 * Header names compile() or buildHeaders() may set or treat apart for compose.ts's mail (plus Sender
 * and the Content-* fields, for safety): a custom header with one of them is replaced, moved or
 * dropped there, so that mail takes the composer. In-Reply-To and References are set by compile()
 * only from mail fields compose.ts does not pass: as custom headers they are written in place.
 */
const SET_BY_COMPOSER = new Set(['From', 'Sender', 'To', 'Cc', 'Bcc', 'Reply-To', 'Subject', 'Message-ID', 'Date',
  'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Content-Disposition', 'Content-ID', 'OTP-Token']);

/** MimeNode._normalizeHeaderKey for a name that is already a plain field name (checked by isPlainName). */
const normalizeKey = (key: string) => key.toLowerCase()
  .replace(/^X-SMTPAPI$|^(MIME|DKIM|ARC|BIMI)\b|^OTP(?=-Token$)|^[a-z]|-(SPF|FBL|ID|MD5)$|-[a-z]/gi, (c) => c.toUpperCase())
  .replace(/^Content-Features$/i, 'Content-features');

/** Printable ASCII without the colon: _normalizeHeaderKey drops nothing from it. */
const isPlainName = (key: string) => /^[!-9;-~]+$/.test(key);

/**
 * mime-funcs.hasLongerLines(str, 76): over 128 K code units, or a line of more than 76 code units
 * (what /^.{77,}/m matches: `.` is any code unit but LF, CR, U+2028 and U+2029). A scan that stops
 * at the first long line: the expression (built per call there, once here) was about a sixth of
 * this module's time in a relay profile (mime-simple.test.ts compares the two).
 */
export function hasLongerLines(s: string): boolean {
  if (s.length > 128 * 1024) return true;
  for (let i = 0, run = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) run = 0;
    else if (++run > 76) return true;
  }
  return false;
}

/**
 * MimeNode._getTextEncoding(content): 'Q' when the text has more latin letters (A-Z, a-z) than
 * control and non-ASCII code units (those isPlainText's expression matches), else 'B'. For plain
 * text there are none of the latter, so it is 'Q' exactly when the text holds a letter: one native
 * test instead of nodemailer's loop over every code unit (a 3 KB API message's two text parts with
 * a line over 76 characters take this path; the loop was ~6 % of its instructions, nineteenth
 * session). Other text goes through nodemailer's own count. mime-simple.test.ts compares the two.
 */
export function textEncodingOf(content: string, plain: boolean): 'Q' | 'B' {
  if (plain) return /[A-Za-z]/.test(content) ? 'Q' : 'B';
  return encoder._getTextEncoding(content);
}

/** MimeNode.getTransferEncoding() for a text part whose content is a non-empty string. */
function transferEncodingOf(content: string): '7bit' | 'quoted-printable' | 'base64' {
  const plain = isPlainText(content);
  if (plain && !hasLongerLines(content)) return '7bit';
  return textEncodingOf(content, plain) === 'Q' ? 'quoted-printable' : 'base64';
}

/** One header line as buildHeaders() writes it, or '' for a value that encodes to blank (left out). */
function headerLine(key: string, value: unknown): string {
  const encoded = encoder.encodeHeaderValue(key, value as string);
  return (encoded || '').toString().trim() ? foldLines(`${key}: ${encoded}`, 76) : '';
}

/** An address field: from the mailboxes' written forms when every one has it, else by headerLine. */
function addressLine(key: string, value: SimpleMailbox | SimpleMailbox[]): string {
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((m) => m.written !== undefined)) return headerLine(key, value);
  const written = list.map((m) => m.written).join(', ');
  return written.trim() ? foldLines(`${key}: ${written}`, 76) : '';
}

const contentTypeLine = (type: string, params: Record<string, string>) => foldLines(`Content-Type: ${buildHeaderValue({ value: type, params })}`, 76);

/** The text parts' Content-Type lines, the same for every message: written once (nodemailer's buildHeaderValue and foldLines per part were 2.3 % of an API message's allocation, sixteenth session). */
const TEXT_TYPE_LINES = { plain: contentTypeLine('text/plain', { charset: 'utf-8' }), html: contentTypeLine('text/html', { charset: 'utf-8' }) } as const;

/** A text part: its Content-Type and Content-Transfer-Encoding lines and its encoded content. */
interface TextPart { typeLine: string; transferEncoding: string; body: Buffer[] }

function textPart(subtype: 'plain' | 'html', content: string): TextPart {
  const transferEncoding = transferEncodingOf(content);
  const bytes = Buffer.from(content, 'utf8');
  const quoted = transferEncoding === 'quoted-printable' ? encodeQuotedPrintableText(bytes, content) : null;
  const body = transferEncoding === '7bit' ? [bytes] : quoted ? [quoted]
    : encodeAll((transferEncoding === 'base64' ? new Base64Encoder() : new QpEncoder({ binary: false })) as unknown as Transform, bytes);
  return { typeLine: TEXT_TYPE_LINES[subtype], transferEncoding, body };
}

/** The message bytes for `mail` with multipart boundaries made from `baseBoundary`, or null when it is not a simple message. */
export function buildSimpleMessage(mail: SimpleMail, baseBoundary: string = randomBoundary()): Buffer | null {
  if (!mail.text && !mail.html) return null;
  const customKeys = Object.keys(mail.headers);
  if (!customKeys.every((k) => isPlainName(k) && !SET_BY_COMPOSER.has(normalizeKey(k)))) return null;
  const parts = [...(mail.text ? [textPart('plain', mail.text)] : []), ...(mail.html ? [textPart('html', mail.html)] : [])];
  const lines: string[] = [];
  for (const k of customKeys) lines.push(headerLine(normalizeKey(k), mail.headers[k]));
  lines.push(addressLine('From', mail.from), addressLine('To', mail.to), addressLine('Cc', mail.cc));
  if (mail.replyTo) lines.push(addressLine('Reply-To', mail.replyTo));
  if (mail.subject) lines.push(headerLine('Subject', mail.subject));
  lines.push(headerLine('Message-ID', mail.messageId), headerLine('Date', mail.date));
  const out: Buffer[] = [];
  if (parts.length === 1) {
    const part = parts[0]!;
    lines.push(`Content-Transfer-Encoding: ${part.transferEncoding}`, 'MIME-Version: 1.0', part.typeLine);
    out.push(Buffer.from(`${lines.filter(Boolean).join('\r\n')}\r\n\r\n`, 'utf8'), ...part.body);
    return finishMessage(out);
  }
  const boundary = `--_NmP-${baseBoundary}-Part_1`;
  lines.push('MIME-Version: 1.0', contentTypeLine('multipart/alternative', { boundary }));
  out.push(Buffer.from(`${lines.filter(Boolean).join('\r\n')}\r\n\r\n`, 'utf8'));
  parts.forEach((part, i) => {
    out.push(Buffer.from(`${i > 0 ? '\r\n' : ''}--${boundary}\r\n${part.typeLine}\r\nContent-Transfer-Encoding: ${part.transferEncoding}\r\n\r\n`, 'utf8'), ...part.body);
  });
  out.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  return finishMessage(out);
}

/** 8 random bytes in hex, as MimeNode makes its base boundary, drawn from a pool refilled 256 at a time. */
const pool = Buffer.alloc(8 * 256);
let poolAt = pool.length;
function randomBoundary(): string {
  if (poolAt === pool.length) { randomFillSync(pool); poolAt = 0; }
  poolAt += 8;
  return pool.toString('hex', poolAt - 8, poolAt);
}
