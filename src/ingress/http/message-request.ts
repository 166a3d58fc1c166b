// Owns the shape of a message submitted over the HTTP API, as zod schemas: the same schemas
// validate requests (src/http/routes/messages.ts) and generate the OpenAPI document
// (src/http/openapi.ts), so the two cannot drift. Every field that ends up in a header line
// refuses CR, LF and NUL here (header injection), before anything is composed or queued.
import { z } from 'zod/v4';

/** No CR, LF or NUL: the value goes into a header line. */
const HEADER_SAFE = /^[^\r\n\0]*$/;
const headerText = (max: number) => z.string().max(max).regex(HEADER_SAFE, 'must not contain CR, LF or NUL');
/** A metadata key or value: any text but NUL, which PostgreSQL's jsonb cannot hold (22P05: one such put failed every batch it was in). */
const metadataText = (min: number, max: number) => z.string().min(min).max(max).regex(/^[^\u0000]*$/, 'must not contain NUL');
/**
 * A header value MailComposer may have to fold onto a line of its own: one leading space plus at
 * most 997 octets keeps it within the 998-octet line limit (RFC 5322 §2.1.1) even without a space
 * to fold at (a longer unbroken value would come out as a 999-octet line).
 */
export const MAX_HEADER_VALUE = 997;

/** Header fields a client may not set: Postlane writes them (or they define the MIME structure). */
export const STRUCTURAL_HEADERS = [
  'from', 'to', 'cc', 'bcc', 'subject', 'date', 'message-id', 'dkim-signature', 'received', 'return-path',
  'mime-version', 'reply-to', 'sender',
];
/** X-Postlane-* fields are SMTP's way to say what the API's own fields (stream, track) say; never sent on. */
export const isStructuralHeader = (name: string) => STRUCTURAL_HEADERS.includes(name.toLowerCase()) || /^(content-|x-postlane-)/i.test(name);

export const MAX_TAGS = 10;
export const MAX_METADATA_KEYS = 50;
/** Custom header fields of one message (`headers`): with the structural ones, well within the 1 MiB header block every listener takes. */
export const MAX_CUSTOM_HEADERS = 100;
export const MAX_BATCH = 500;

const email = z.string().min(3).max(254).regex(HEADER_SAFE, 'must not contain CR, LF or NUL')
  .describe('an address: local@domain (checked like an SMTP envelope address)');

/** "Name <local@domain>", "local@domain", or { name, email }. */
export const mailboxInput = z.union([
  headerText(400).describe('"Name <local@domain>" or "local@domain"'),
  z.object({ name: headerText(200).optional(), email }).strict(),
]).meta({ id: 'Mailbox' });

const recipients = z.array(mailboxInput).max(1000);

export const attachmentInput = z.object({
  filename: headerText(255).min(1).optional(),
  content: z.string().max(60_000_000).regex(/^[A-Za-z0-9+/=\s_-]*$/, 'must be base64').describe('the bytes, base64'),
  content_type: headerText(255).regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type like image/png').optional(),
  content_id: headerText(255).regex(/^[^<>\s]+$/, 'without angle brackets').optional()
    .describe('for inline parts: referenced as cid:<content_id> from the HTML'),
  disposition: z.enum(['attachment', 'inline']).optional().describe('default: inline when content_id is set, else attachment'),
}).strict().meta({ id: 'Attachment' });

/** Open and click tracking of one message (ingress/tracking-plan.ts). */
export const trackInput = z.object({
  opens: z.boolean().optional().describe('add a 1×1 pixel to the HTML: an `opened` event when it is fetched; default: tracking.opens for the streams in tracking.streams'),
  clicks: z.boolean().optional().describe('send the http(s) links of the HTML through a redirect that records a `clicked` event; default: tracking.clicks for the streams in tracking.streams'),
}).strict().meta({ id: 'Track' })
  .describe('open/click tracking for this message; only a message with a single recipient is tracked, only its HTML, never mailto: or unsubscribe links');

/** The SMTP DSN parameters (RFC 3461) of a message: what MAIL's RET/ENVID and RCPT's NOTIFY/ORCPT say over SMTP. */
export const dsnInput = z.object({
  ret: z.enum(['full', 'headers']).optional().describe('RET: a failure notice returns the whole message (up to 1 MiB) or only its headers; default: headers'),
  envid: z.string().min(1).max(100).regex(/^[\x20-\x7e]+$/, 'must be printable ASCII').optional()
    .describe('ENVID: returned as Original-Envelope-Id in every notice, and passed on to a next hop that speaks DSN'),
  notify: z.array(z.enum(['never', 'success', 'failure', 'delay'])).min(1).max(3).optional()
    .describe('NOTIFY for every recipient: ["never"], or any of success, failure, delay; default: failure and delay'),
  orcpt: z.record(email, email).optional()
    .describe('ORCPT: for an envelope recipient (the key), the original recipient address a notice names (Original-Recipient)'),
}).strict().meta({ id: 'Dsn' })
  .describe('delivery status notifications (RFC 3461); notices go to the envelope sender');

const headerName = z.string().min(1).max(76).regex(/^[!-9;-~]+$/, 'must be a header field name (printable ASCII, no colon)');

/** The API's MAIL FROM … REQUIRETLS (RFC 8689). */
const requireTlsInput = z.boolean().optional()
  .describe('REQUIRETLS (RFC 8689): deliver only over TLS with a verified certificate (DANE, MTA-STS or the CA store) to servers that offer REQUIRETLS; otherwise the message bounces (5.7.10 / 5.7.30). Default false');

export const sendMessageRequest = z.object({
  from: mailboxInput,
  to: recipients.optional(),
  cc: recipients.optional(),
  bcc: recipients.optional().describe('envelope recipients only: never in the headers'),
  reply_to: z.union([mailboxInput, z.array(mailboxInput).max(50)]).optional(),
  subject: headerText(MAX_HEADER_VALUE).optional(),
  text: z.string().optional(),
  html: z.string().optional(),
  attachments: z.array(attachmentInput).max(100).optional(),
  headers: z.record(headerName, headerText(MAX_HEADER_VALUE)).optional()
    .describe(`custom header fields (at most ${MAX_CUSTOM_HEADERS}); structural ones (From, To, Subject, Date, Message-ID, Content-*, ...) are refused`),
  tags: z.array(headerText(128).min(1)).max(MAX_TAGS).optional().describe('returned in events; searchable with ?tag='),
  metadata: z.record(metadataText(1, 64), metadataText(0, 1000)).optional()
    .describe(`string values returned in every event of the message (at most ${MAX_METADATA_KEYS} keys)`),
  stream: z.enum(['transactional', 'broadcast']).optional().describe('default transactional'),
  list_unsubscribe: z.boolean().optional()
    .describe('add one-click unsubscribe (List-Unsubscribe, RFC 8058) for the single recipient; default: for broadcast mail, unless a List-Unsubscribe header is given'),
  track: trackInput.optional(),
  send_at: z.iso.datetime({ offset: true }).optional().describe('scheduled send: recipients are not due before this time'),
  dsn: dsnInput.optional(),
  require_tls: requireTlsInput,
}).strict().meta({ id: 'SendMessageRequest' });
export type SendMessageRequest = z.infer<typeof sendMessageRequest>;

export const rawMessageRequest = z.object({
  envelope: z.object({
    from: email.describe('MAIL FROM (envelope sender)'),
    to: z.array(email).min(1).max(1000),
  }).strict(),
  message: z.string().optional().describe('the RFC 5322 message as text'),
  message_base64: z.string().regex(/^[A-Za-z0-9+/=\s]*$/, 'must be base64').optional().describe('or as base64 bytes (8-bit content)'),
  tags: z.array(headerText(128).min(1)).max(MAX_TAGS).optional(),
  metadata: z.record(metadataText(1, 64), metadataText(0, 1000)).optional(),
  stream: z.enum(['transactional', 'broadcast']).optional(),
  list_unsubscribe: z.boolean().optional(),
  track: trackInput.optional(),
  send_at: z.iso.datetime({ offset: true }).optional(),
  dsn: dsnInput.optional(),
  require_tls: requireTlsInput,
}).strict().meta({ id: 'RawMessageRequest' });
export type RawMessageRequest = z.infer<typeof rawMessageRequest>;

/** A batch item that failed validation: kept (with its issues) so the other items still go. */
export class InvalidItem {
  constructor(readonly issues: z.core.$ZodIssue[]) {}
}

/**
 * Each message is validated on its own by the same schema: an invalid item becomes an InvalidItem
 * instead of failing the batch (zod's catch, which the JSON Schema output documents as the item schema).
 */
export const batchRequest = z.object({
  messages: z.array(sendMessageRequest.catch((ctx) => (ctx ? new InvalidItem(ctx.error.issues) : undefined) as never))
    .min(1).max(MAX_BATCH),
}).strict().meta({ id: 'BatchRequest' });
