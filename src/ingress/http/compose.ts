// Owns turning a validated API request into what the queue stores: the envelope (sender and
// recipients, parsed into branded addresses by src/message/address.ts), the originator domains to
// authorise (From, Sender, Resent-From, Resent-Sender) and the From domain to sign for, and the
// MIME message built by nodemailer's MailComposer (Message-ID @hostname and Date set here, Bcc left
// out of the headers; text and html encoded into short lines), its tree written to bytes by
// mime-bytes.ts without streams (the same bytes); a message without attachments is written by
// mime-simple.ts without the composer (the same bytes again). A raw message is taken as is, so
// its lines are checked against limits.maxLineLength like SMTP DATA. Pure except for the composer;
// every refusal is an ApiError with field paths, raised before anything is queued.
import MailComposer from 'nodemailer/lib/mail-composer';
import MimeNode from 'nodemailer/lib/mime-node';
import { foldLines } from 'nodemailer/lib/mime-funcs';
import addressparser from 'nodemailer/lib/addressparser';
import { buildMimeBytes } from './mime-bytes.js';
import { buildSimpleMessage, writtenMailbox } from './mime-simple.js';
import { parseMailbox, type Address } from '../../message/address.js';
import type { DsnNotify, MessageDsn, RecipientDsn } from '../../message/dsn-params.js';
import { domainOfAddress } from '../../domains/domain-name.js';
import { parseHeaderFrom, type Originator } from '../../domains/header-from.js';
import type { MessageMeta } from '../../store/platform-store.js';
import { ApiError, invalidFields, type FieldError } from './api-error.js';
import { isStructuralHeader, MAX_CUSTOM_HEADERS, MAX_METADATA_KEYS, type RawMessageRequest, type SendMessageRequest } from './message-request.js';
import { hasField, rfc5322Date } from '../trace-fields.js';
import { MAX_HEADER_BYTES } from '../accept.js';
import type { TrackRequest } from '../track-field.js';

export interface ComposeLimits {
  maxRecipients: number;
  /** Octets per line of a raw message, CRLF included (limits.maxLineLength, like SMTP DATA). */
  maxLineLength: number;
  /** Largest send_at ahead of now (ms). */
  maxScheduleAheadMs: number;
}

/** A request that passed every check that needs no store: ready to authorise, charge and queue. */
export interface PreparedMessage {
  mailFrom: Address;
  /** Envelope recipients in request order (to, cc, bcc), duplicates removed. */
  recipients: Address[];
  /** Domains of the From: header (null for an address without a valid domain). */
  fromDomains: (string | null)[];
  /** Every originator address (From, and Sender/Resent-From/Resent-Sender when present), with the request field it came from. */
  originators: (Originator & { path: string })[];
  meta: Omit<MessageMeta, 'account'>;
  notBefore: number | null;
  /** list_unsubscribe: true/false asked explicitly; undefined: the default (broadcast mail gets it). */
  listUnsubscribe?: boolean;
  /** What the request asked of tracking (`track`); undefined: the configured defaults. */
  track?: TrackRequest;
  /** The DSN parameters asked for (`dsn`); absent: none. */
  dsn?: MessageDsn;
  /** require_tls: true (REQUIRETLS, RFC 8689). */
  requireTls?: boolean;
  /** The message bytes (header block first, CRLF line ends) for queue id `id`. */
  build(id: string, hostname: string, now: number): Promise<Buffer>;
  /**
   * Lets go of the request's content (text, html, attachments; a raw request's message) once the
   * last build is made, so that a request waiting for the store (the suppression lookup, the put)
   * does not keep it: held that long, it outlived two scavenges and was promoted to the old space
   * (bench/README.md, twenty-seventh session, api27). A build after it throws.
   */
  release(): void;
}

/**
 * A checked mailbox: `domain` is its domain as domain-name.ts normalizes it (once, here), `written`
 * its text in an address field when mime-simple.ts can write it from this check (writtenMailbox),
 * so the message is not built from a second parse and normalisation of the same address.
 */
interface Named { name: string; address: Address; domain: string; written: string | undefined }

/** The request's `dsn` as the store keeps it (what SMTP's RET/ENVID/NOTIFY/ORCPT give); errors noted in `c`. */
function dsnOf(input: SendMessageRequest['dsn'], recipients: readonly Address[], c: Collector): MessageDsn | undefined {
  if (!input) return undefined;
  let notify: DsnNotify | undefined;
  if (input.notify) {
    const asked = input.notify.map((n) => n.toUpperCase() as 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY');
    if (new Set(asked).size !== asked.length) c.add('dsn.notify', 'must not repeat a value');
    else if (asked.includes('NEVER') && asked.length > 1) c.add('dsn.notify', '"never" cannot be combined with other values');
    else notify = asked.includes('NEVER') ? 'NEVER' : (asked as Exclude<typeof asked[number], 'NEVER'>[]);
  }
  const orcpt = new Map<string, string>();
  const orcptEntries = Object.entries(input.orcpt ?? {});
  // One per recipient at most: each key is looked up among the recipients (attack30: 300,000 keys
  // held the main thread, and answered 300,000 field errors).
  if (orcptEntries.length > recipients.length) c.add('dsn.orcpt', `at most one per envelope recipient (${recipients.length})`);
  else for (const [key, original] of orcptEntries) {
    const wanted = parseMailbox(key)?.address.toLowerCase();
    const rcpt = recipients.find((r) => r.toLowerCase() === wanted);
    if (!rcpt) c.add(`dsn.orcpt.${key}`, 'is not an envelope recipient of this message');
    else if (!parseMailbox(original)) c.add(`dsn.orcpt.${key}`, 'is not a valid email address');
    else orcpt.set(rcpt, original);
  }
  const perRecipient: Record<string, RecipientDsn> = {};
  for (const r of recipients) {
    const o = orcpt.get(r);
    if (notify || o) perRecipient[r] = { ...(notify ? { notify } : {}), ...(o ? { orcpt: { type: 'rfc822', address: o } } : {}) };
  }
  const dsn: MessageDsn = {
    ...(input.ret ? { ret: input.ret === 'full' ? 'FULL' : 'HDRS' } : {}), ...(input.envid ? { envid: input.envid } : {}),
    ...(Object.keys(perRecipient).length ? { recipients: perRecipient } : {}),
  };
  return Object.keys(dsn).length ? dsn : undefined;
}

class Collector {
  readonly errors: FieldError[] = [];
  add(path: string, message: string) { this.errors.push({ path, message }); }
  throwIfAny() { if (this.errors.length) throw invalidFields(this.errors); }
}

/**
 * "Name <local@domain>" or "local@domain" whose name is words of ASCII letters and digits and whose
 * address is a dot-atom of letters, digits, "_", "+", "-" at a domain of letters, digits and "-":
 * the common request, read by one expression instead of addressparser's tokenizer.
 */
const SIMPLE_MAILBOX_TEXT = /^(?:([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) <([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>|([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+))$/;

/**
 * The one mailbox of a request's address string as addressparser(text, { flatten: true }) reads
 * it, or null when it holds no address or more than one (compose.test.ts compares the two over
 * generated strings).
 */
export function mailboxOfText(text: string): { name: string; address: string } | null {
  const simple = SIMPLE_MAILBOX_TEXT.exec(text);
  if (simple) return { name: simple[1] ?? '', address: simple[2] ?? simple[3]! };
  const parsed = addressparser(text, { flatten: true });
  if (parsed.length !== 1 || !parsed[0]!.address) return null;
  return { name: parsed[0]!.name ?? '', address: parsed[0]!.address };
}

/** One mailbox from "Name <a@b>", "a@b" or { name, email }; null (with an error noted) when invalid. */
function parseNamed(input: string | { name?: string | undefined; email: string }, path: string, c: Collector): Named | null {
  let name = '';
  let address: string;
  if (typeof input === 'string') {
    const parsed = mailboxOfText(input);
    if (!parsed) {
      c.add(path, 'must be one address: "Name <local@domain>" or "local@domain"');
      return null;
    }
    ({ name, address } = parsed);
  } else {
    name = input.name ?? '';
    address = input.email;
  }
  const mailbox = parseMailbox(address);
  const domain = mailbox && !mailbox.isAddressLiteral ? domainOfAddress(mailbox.address) : null;
  if (!mailbox || domain === null) {
    c.add(typeof input === 'string' ? path : `${path}.email`, 'is not a valid email address');
    return null;
  }
  return { name, address: mailbox.address, domain, written: writtenMailbox(name, mailbox.address, domain) };
}

function parseList(list: readonly (string | { name?: string | undefined; email: string })[] | undefined, path: string, c: Collector): Named[] {
  return (list ?? []).flatMap((m, i) => parseNamed(m, `${path}.${i}`, c) ?? []);
}

const uniqueAddresses = (lists: { address: Address }[][]): Address[] => {
  const seen = new Set<string>();
  return lists.flat().map((m) => m.address).filter((a) => !seen.has(a.toLowerCase()) && seen.add(a.toLowerCase()));
};

function checkMeta(req: Pick<SendMessageRequest, 'metadata' | 'send_at'>, limits: ComposeLimits, now: number, c: Collector): number | null {
  if (req.metadata && Object.keys(req.metadata).length > MAX_METADATA_KEYS) c.add('metadata', `at most ${MAX_METADATA_KEYS} keys`);
  if (!req.send_at) return null;
  const at = Date.parse(req.send_at);
  if (at > now + limits.maxScheduleAheadMs) c.add('send_at', `at most ${Math.floor(limits.maxScheduleAheadMs / 3_600_000)} hours ahead`);
  return at > now ? at : null;
}

const metaOf = (req: Pick<SendMessageRequest, 'tags' | 'metadata' | 'stream'>): Omit<MessageMeta, 'account'> =>
  ({ tags: req.tags ?? [], metadata: req.metadata ?? {}, stream: req.stream ?? 'transactional' });

const decodeBase64 = (s: string) => Buffer.from(s.replace(/\s+/g, ''), s.includes('-') || s.includes('_') ? 'base64url' : 'base64');

/** Checks a POST /v1/messages request (already schema-valid) and prepares it for queuing. */
export function prepareMessage(req: SendMessageRequest, limits: ComposeLimits, now: number): PreparedMessage {
  const c = new Collector();
  const from = parseNamed(req.from, 'from', c);
  const to = parseList(req.to, 'to', c);
  const cc = parseList(req.cc, 'cc', c);
  const bcc = parseList(req.bcc, 'bcc', c);
  const replyTo = parseList(req.reply_to === undefined ? [] : Array.isArray(req.reply_to) ? req.reply_to : [req.reply_to], 'reply_to', c);
  const recipients = uniqueAddresses([to, cc, bcc]);
  if (to.length + cc.length + bcc.length === 0 && c.errors.length === 0) c.add('to', 'at least one recipient (to, cc or bcc) is required');
  if (recipients.length > limits.maxRecipients) c.add('to', `at most ${limits.maxRecipients} recipients in all`);
  if (req.text === undefined && req.html === undefined) c.add('text', 'text or html is required');
  const dsn = dsnOf(req.dsn, recipients, c);
  const headers = Object.entries(req.headers ?? {});
  // attack30: 100,000 fields (2.2 MB of header block, past the 1 MiB every SMTP listener takes)
  // were accepted, composed on the main thread.
  if (headers.length > MAX_CUSTOM_HEADERS) c.add('headers', `at most ${MAX_CUSTOM_HEADERS} fields`);
  else for (const [name, value] of headers) {
    if (isStructuralHeader(name)) c.add(`headers.${name}`, 'this header is set by Postlane or by a dedicated field');
    else if (longestWrittenLine(name, value) > MAX_LINE_OCTETS) c.add(`headers.${name}`, `would be written as a line longer than ${MAX_LINE_OCTETS} octets (an unbroken part, such as a message id, is too long)`);
  }
  (req.attachments ?? []).forEach((a, i) => {
    if (a.disposition === 'inline' && !a.content_id) c.add(`attachments.${i}.content_id`, 'required for inline parts');
  });
  const notBefore = checkMeta(req, limits, now, c);
  c.throwIfAny();
  const sender = from!;
  let content: typeof mail | null;
  const mail = {
    from: { name: sender.name, address: sender.address },
    to: to.map(asNodemailer), cc: cc.map(asNodemailer), bcc: bcc.map(asNodemailer),
    ...(replyTo.length ? { replyTo: replyTo.map(asNodemailer) } : {}),
    subject: req.subject ?? '', text: crlfLines(req.text), html: crlfLines(req.html),
    headers: req.headers ?? {},
    attachments: (req.attachments ?? []).map((a) => ({
      filename: a.filename, content: decodeBase64(a.content), contentType: a.content_type,
      ...(a.content_id ? { cid: a.content_id } : {}),
      contentDisposition: a.disposition ?? (a.content_id ? 'inline' as const : 'attachment' as const),
    })),
    disableFileAccess: true, disableUrlAccess: true,
    // MailComposer keeps the line ends it is given (text and html are made CRLF above, this
    // catches any other LF); SMTP carries and DKIM signs CRLF only.
    newline: 'windows',
  };
  content = mail;
  const fromDomain = sender.domain;
  return {
    mailFrom: sender.address, recipients, fromDomains: [fromDomain], meta: metaOf(req), notBefore, listUnsubscribe: req.list_unsubscribe, track: req.track, ...(dsn ? { dsn } : {}), requireTls: req.require_tls === true,
    originators: [{ field: 'From', domain: fromDomain, path: 'from' }, ...headerOriginators(req.headers ?? {})],
    build: async (id, hostname, at) => {
      const m = content ?? released();
      const messageId = `<${id}@${hostname}>`, date = new Date(at);
      // The common shape (no attachments) is written directly; the same bytes as the composer's.
      // Its address fields are written from the mailboxes checked above (Named.written).
      const simple = m.attachments.length === 0 ? buildSimpleMessage({
        ...m, from: sender, to, cc, ...(replyTo.length ? { replyTo } : {}), messageId, date,
      }) : null;
      if (simple) return simple;
      const node = new MailComposer({ ...m, messageId, date }).compile();
      return buildMimeBytes(node) ?? node.build();
    },
    release: () => { content = null; },
  };
}

const asNodemailer = (m: Named) => ({ name: m.name, address: m.address });

const released = (): never => { throw new Error('PreparedMessage.build() after release()'); };

/** Every line end (LF, CR, CRLF) as CRLF: a bare CR or LF must not reach the stored message. */
const crlfLines = (s: string | undefined) => s?.replace(/\r\n|\r|\n/g, '\r\n');

/** RFC 5322 §2.1.1: a line is at most 998 octets without its CRLF. */
const MAX_LINE_OCTETS = 998;
const headerWriter = new MimeNode('text/plain');

/**
 * The longest line MailComposer will write for this client field: it encodes the value as it does
 * in build() (In-Reply-To and References get angle brackets, non-ASCII becomes encoded words) and
 * folds it at spaces only, so an unbroken part longer than a line cannot be folded.
 */
function longestWrittenLine(name: string, value: string): number {
  const lines = foldLines(`${name}: ${headerWriter.encodeHeaderValue(name, value)}`, 76).split(/\r?\n/);
  return Math.max(...lines.map((l) => Buffer.byteLength(l, 'utf8')));
}

/** Originator fields set through `headers` (Resent-From, Resent-Sender; From and Sender are structural). */
const headerOriginators = (headers: Record<string, string>) => Object.entries(headers)
  .flatMap(([name, value]) => parseHeaderFrom(`${name}: ${value}\r\n`).originators.map((o) => ({ ...o, path: `headers.${name}` })));

/** Checks a POST /v1/messages/raw request: envelope addresses, the message text, its From: field. */
export function prepareRawMessage(req: RawMessageRequest, limits: ComposeLimits, now: number): PreparedMessage {
  const c = new Collector();
  const mailFrom = parseMailbox(req.envelope.from);
  if (!mailFrom || domainOfAddress(mailFrom.address) === null) c.add('envelope.from', 'is not a valid email address');
  const rcpts = req.envelope.to.flatMap((a, i) => {
    const m = parseMailbox(a);
    if (!m || m.isAddressLiteral || domainOfAddress(m.address) === null) { c.add(`envelope.to.${i}`, 'is not a valid email address'); return []; }
    return [{ name: '', address: m.address }];
  });
  const recipients = uniqueAddresses([rcpts]);
  if (recipients.length > limits.maxRecipients) c.add('envelope.to', `at most ${limits.maxRecipients} recipients`);
  if ((req.message === undefined) === (req.message_base64 === undefined)) c.add('message', 'exactly one of message and message_base64 is required');
  const dsn = dsnOf(req.dsn, recipients, c);
  const notBefore = checkMeta(req, limits, now, c);
  c.throwIfAny();
  const bytes = toCrlf(req.message !== undefined ? Buffer.from(req.message, 'utf8') : decodeBase64(req.message_base64!));
  const field = req.message !== undefined ? 'message' : 'message_base64';
  const refuse = (message: string) => invalidFields([{ path: field, message }]);
  const headerEnd = bytes.indexOf('\r\n\r\n');
  if (headerEnd < 0 && !bytes.subarray(0, 2).equals(Buffer.from('\r\n'))) {
    throw refuse('must have a header block and an empty line before the body');
  }
  // SMTP DATA and BDAT refuse a NUL (550 5.6.0): a receiver reading lines as C strings would see another
  // message (From: evil@evil.test<NUL>@acme.test is authorised as acme.test, and read there as evil.test)
  if (bytes.includes(0)) {
    throw refuse('must not contain NUL bytes');
  }
  if (bytes[0] === 0x20 || bytes[0] === 0x09) { // it would continue the Received field written before it, as SMTP refuses
    throw refuse('must begin with a header field, not a continuation line');
  }
  if (hasLongLine(bytes, limits.maxLineLength - 2)) {
    throw refuse(`has a line longer than ${limits.maxLineLength - 2} octets; encode long lines (quoted-printable or base64)`);
  }
  if (headerEnd + 2 > MAX_HEADER_BYTES) { // as DATA and BDAT on every listener (554 5.6.0)
    throw refuse(`has a header block over ${MAX_HEADER_BYTES} octets`);
  }
  const headerBlock = bytes.subarray(0, headerEnd < 0 ? 0 : headerEnd + 2).toString('latin1');
  if (/(^|\r\n)x-postlane-[a-z0-9-]*[ \t]*:/i.test(headerBlock)) {
    throw refuse('X-Postlane-* fields are for SMTP; use the request fields stream, track and list_unsubscribe');
  }
  const from = parseHeaderFrom(headerBlock);
  if (from.fields !== 1) throw invalidFields([{ path: 'message', message: 'must have exactly one From: field' }]);
  let content: { bytes: Buffer; headerBlock: string } | null = { bytes, headerBlock };
  return {
    mailFrom: mailFrom!.address, recipients, fromDomains: from.domains, meta: metaOf(req), notBefore, listUnsubscribe: req.list_unsubscribe, track: req.track, ...(dsn ? { dsn } : {}), requireTls: req.require_tls === true,
    originators: from.originators.map((o) => ({ ...o, path: o.field === 'From' ? 'from' : 'message' })),
    build: async (id, hostname, at) => {
      const { bytes, headerBlock } = content ?? released();
      const added: string[] = [];
      if (!hasField(headerBlock, 'message-id')) added.push(`Message-ID: <${id}@${hostname}>\r\n`);
      if (!hasField(headerBlock, 'date')) added.push(`Date: ${rfc5322Date(new Date(at))}\r\n`);
      if (added.length === 0) return bytes;
      const at2 = headerEnd < 0 ? 0 : headerEnd + 2;
      return Buffer.concat([bytes.subarray(0, at2), Buffer.from(added.join(''), 'latin1'), bytes.subarray(at2)]);
    },
    release: () => { content = null; },
  };
}

/** A line (CRLF line ends) longer than `max` octets without its CRLF: refused like SMTP DATA refuses it. */
function hasLongLine(b: Buffer, max: number): boolean {
  for (let start = 0; start < b.length;) {
    const lf = b.indexOf(0x0a, start);
    const end = lf < 0 ? b.length : lf - 1; // toCrlf made every line end CRLF
    if (end - start > max) return true;
    start = lf < 0 ? b.length : lf + 1;
  }
  return false;
}

/** Bare LF (or CR) line ends as CRLF: what SMTP carries and DKIM signs. */
function toCrlf(b: Buffer): Buffer {
  if (!b.includes(0x0a) || !/(^|[^\r])\n|\r(?!\n)/.test(b.toString('latin1'))) return b;
  return Buffer.from(b.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

/** The message is larger than limits.maxMessageSize. */
export const tooLarge = (max: number) => new ApiError(413, 'message_too_large', `The message is larger than ${max} bytes`);
