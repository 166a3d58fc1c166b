// Fuzz target: the HTTP API's JSON input, called directly (no sockets): the request schemas
// (src/ingress/http/message-request.ts) and composition (compose.ts) of POST /v1/messages and
// /v1/messages/raw. Properties: any JSON body is either refused 4xx-shaped (zod issues as field
// errors, or an ApiError with status 4xx naming fields) or prepared for a 202; a prepared message
// builds into bytes with CRLF line ends only, no line over 998 octets (raw: maxLineLength - 2),
// a header block, a Message-ID, no Bcc field, and envelope addresses the address parser accepts.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ApiError, zodFields } from '../../../src/ingress/http/api-error.js';
import { prepareMessage, prepareRawMessage, type PreparedMessage } from '../../../src/ingress/http/compose.js';
import { rawMessageRequest, sendMessageRequest } from '../../../src/ingress/http/message-request.js';
import { parseMailbox } from '../../../src/message/address.js';
import { corpusOf } from '../corpus.js';
import type { FuzzTarget } from '../harness.js';

interface Input { raw: boolean; body: unknown }

const LIMITS = { maxRecipients: 50, maxLineLength: 1000, maxScheduleAheadMs: 72 * 3_600_000 };
const NOW = Date.UTC(2026, 11, 3, 12);

function checkBytes(mime: Buffer, maxLine: number): void {
  const text = mime.toString('latin1');
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), 'no bare CR or LF');
  const lines = text.split('\r\n');
  const longest = Math.max(...lines.map((l) => l.length));
  assert.ok(longest <= maxLine, `a line of ${longest} octets: ${JSON.stringify(lines.find((l) => l.length === longest)!.slice(0, 120))}…`);
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  assert.ok(text.includes('\r\n\r\n'), 'a header block');
  assert.match(head, /^Message-ID:/im, 'a Message-ID (a raw message keeps its own)');
}

function check4xx(err: unknown): void {
  assert.ok(err instanceof ApiError, `not an ApiError: ${(err as Error)?.stack ?? String(err)}`);
  assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`);
  if (err.status === 422) assert.ok(err.fields.length > 0 && err.fields.every((f) => typeof f.path === 'string' && f.message), 'fields named');
}

export async function checkApi(input: Input): Promise<void> {
  const parsed = input.raw ? rawMessageRequest.safeParse(input.body) : sendMessageRequest.safeParse(input.body);
  if (!parsed.success) {
    const fields = zodFields(parsed.error);
    assert.ok(fields.length > 0 && fields.every((f) => typeof f.path === 'string' && typeof f.message === 'string'), '422 with field errors');
    return;
  }
  let prepared: PreparedMessage;
  try {
    prepared = input.raw ? prepareRawMessage(parsed.data as never, LIMITS, NOW) : prepareMessage(parsed.data as never, LIMITS, NOW);
  } catch (err) { check4xx(err); return; }
  for (const a of [prepared.mailFrom, ...prepared.recipients]) assert.equal(parseMailbox(a)?.address, a, `envelope address ${JSON.stringify(a)}`);
  assert.ok(prepared.recipients.length > 0 && prepared.recipients.length <= LIMITS.maxRecipients);
  const mime = await prepared.build('01ABCDEFGHJKMNPQRSTV', 'relay.test', NOW);
  checkBytes(mime, input.raw ? LIMITS.maxLineLength - 2 : 998);
  if (!input.raw) assert.doesNotMatch(mime.toString('latin1').split('\r\n\r\n')[0]!, /^bcc:/im, 'no Bcc field');
}

// ---- Inputs: request bodies shaped like the schema, with hostile values ----
const text = fc.oneof(
  fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\r\n', 'a\u2028b', '\t', 'x'.repeat(997), 'x'.repeat(998), 'é'.repeat(600), 'w '.repeat(498), '=?utf-8?q?x?=', '\u0000', '\u000b', '\u007f', '"', '<', 'a,b'),
  fc.tuple(fc.constantFrom('<', ''), fc.nat(1000), fc.constantFrom('>', '', '@x>')).map(([a, n, b]) => `${a}${'i'.repeat(n)}${b}`),
);
const address = fc.oneof(
  fc.constantFrom('a@acme.test', 'Bob <bob@dest.test>', '"Carol, C." <carol@dest.test>', 'x@[192.0.2.1]', 'bad', '<>', 'a@b', '用户@例子.广告', '\ud800@x.test',
    'a@[IPv6:fe80::1%eth0]', '"<x>"@dest.test', 'a@dest.test, b@dest.test', 'Group: a@dest.test;', `${'l'.repeat(64)}@dest.test`, `n@${'d'.repeat(250)}.test`),
  fc.record({ name: fc.option(text, { nil: undefined }), email: fc.oneof(fc.constantFrom('a@dest.test', 'b@dest.test', 'x'), text) }, { requiredKeys: ['email'] }),
  text,
);
const headerName = fc.constantFrom('In-Reply-To', 'References', 'X-Campaign', 'List-Unsubscribe', 'Resent-From', 'Resent-Sender', 'Keywords', 'Comments', 'X-A', 'OTP-Token',
  'Message-ID', 'Subject', 'Content-Type', 'X-Postlane-Stream', 'Bcc', 'x y', 'X:Y', '');
const attachment = fc.record({
  filename: fc.option(text, { nil: undefined }), content: fc.oneof(fc.constantFrom('', 'aGk=', 'AAEC/w==', 'a-b_', '@@@'), fc.base64String({ maxLength: 40 })),
  content_type: fc.option(fc.constantFrom('text/plain', 'image/png', 'application/octet-stream', 'bad', 'text/html; charset=x'), { nil: undefined }),
  content_id: fc.option(fc.constantFrom('logo@x', '<x>', 'a b', 'i'.repeat(300)), { nil: undefined }), disposition: fc.option(fc.constantFrom('attachment', 'inline', 'x'), { nil: undefined }),
}, { requiredKeys: ['content'] });
const send = fc.record({
  from: address, to: fc.array(address, { maxLength: 3 }), cc: fc.array(address, { maxLength: 2 }), bcc: fc.array(address, { maxLength: 2 }),
  reply_to: fc.oneof(address, fc.array(address, { maxLength: 2 })), subject: text, text: fc.oneof(text, fc.constant('line\n.\nend\r\n' + 'z'.repeat(3000))), html: text,
  headers: fc.dictionary(headerName, text, { maxKeys: 3 }), attachments: fc.array(attachment, { maxLength: 2 }), tags: fc.array(text, { maxLength: 2 }),
  metadata: fc.dictionary(fc.string({ maxLength: 5 }), text, { maxKeys: 2 }), stream: fc.constantFrom('transactional', 'broadcast', 'x'), list_unsubscribe: fc.boolean(),
  track: fc.record({ opens: fc.boolean(), clicks: fc.boolean() }, { requiredKeys: [] }), send_at: fc.constantFrom('2026-12-03T13:00:00Z', '2027-01-01T00:00:00Z', 'tomorrow', '2026-12-03T12:00:00+01:00'),
  nosuch: fc.jsonValue(),
}, { requiredKeys: ['from'] });
/** Header-safe text (what the schema lets through), long and unbroken parts included. */
const safe = text.filter((t) => !/[\r\n\0]/.test(t) && t.length <= 997);
const goodAddress = fc.oneof(fc.constantFrom('a@acme.test', 'Bob <bob@dest.test>', '"Carol, C." <carol@dest.test>', 'd@dest.test', '用户@例子.广告'),
  fc.record({ name: safe.filter((t) => t.length <= 200), email: fc.constantFrom('e@dest.test', 'f@dest.test', 'ü@dest.test') }));
const goodHeaderName = fc.constantFrom('In-Reply-To', 'References', 'X-Campaign', 'List-Unsubscribe', 'Resent-From', 'Keywords', 'Comments', 'X-A', 'OTP-Token', 'List-Id', 'X-' + 'h'.repeat(70));
const mostlyValid = fc.record({
  from: goodAddress, to: fc.array(goodAddress, { minLength: 1, maxLength: 3 }), cc: fc.array(goodAddress, { maxLength: 2 }), bcc: fc.array(goodAddress, { maxLength: 2 }),
  reply_to: goodAddress, subject: safe, text, html: text, headers: fc.dictionary(goodHeaderName, safe, { maxKeys: 3 }),
  attachments: fc.array(fc.record({ filename: safe.filter((t) => t.length > 0 && t.length <= 255), content: fc.base64String({ maxLength: 40 }), content_type: fc.constantFrom('text/plain', 'image/png') }, { requiredKeys: ['content'] }), { maxLength: 2 }),
  tags: fc.array(safe.filter((t) => t.length > 0 && t.length <= 128), { maxLength: 2 }), stream: fc.constantFrom('transactional', 'broadcast'), list_unsubscribe: fc.boolean(),
}, { requiredKeys: ['from', 'to'] });
/** A mostly valid request with one field replaced by anything the generators above make. */
const oneOff = fc.tuple(mostlyValid, send).chain(([good, bad]) => fc.constantFrom(...Object.keys(bad)).map((k) => ({ ...good, [k]: (bad as Record<string, unknown>)[k] })));
const rawText = fc.oneof(
  fc.tuple(fc.array(fc.tuple(fc.constantFrom('From', 'To', 'Subject', 'Message-ID', 'Date', 'X-Postlane-Track', 'Resent-From', 'from '), text), { maxLength: 4 }), fc.constantFrom('\r\n', '\n', '\r'), text)
    .map(([fields, eol, body]) => `From: app@acme.test${eol}${fields.map(([n, v]) => `${n}: ${v}`).join(eol)}${eol}${eol}${body}`),
  text,
);
const raw = fc.record({
  envelope: fc.record({
    from: fc.oneof({ weight: 6, arbitrary: fc.constant('app@acme.test') }, { weight: 1, arbitrary: text }),
    to: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('bob@dest.test', 'carol@dest.test') }, { weight: 1, arbitrary: address.filter((a) => typeof a === 'string') }), { minLength: 1, maxLength: 3 }),
  }),
  message: rawText, message_base64: fc.oneof(fc.base64String({ maxLength: 60 }), rawText.map((t) => Buffer.from(t, 'latin1').toString('base64'))),
  tags: fc.array(fc.oneof({ weight: 5, arbitrary: fc.constant('raw') }, { weight: 1, arbitrary: text }), { maxLength: 2 }), send_at: fc.constantFrom('2026-12-03T13:00:00Z', '2026-12-03T12:30:00+01:00', 'x'),
}, { requiredKeys: ['envelope', 'message'] }).map((r) => (r.message !== undefined && r.message_base64 !== undefined && r.message.length % 4 ? { ...r, message_base64: undefined } : r));

export const apiTarget: FuzzTarget<Input> = {
  name: 'api-json',
  arbitrary: fc.oneof(
    { weight: 4, arbitrary: mostlyValid.map((body) => ({ raw: false, body })) }, { weight: 2, arbitrary: oneOff.map((body) => ({ raw: false, body })) },
    { weight: 1, arbitrary: send.map((body) => ({ raw: false, body })) }, { weight: 2, arbitrary: raw.map((body) => ({ raw: true, body })) },
    { weight: 1, arbitrary: fc.tuple(fc.boolean(), fc.jsonValue()).map(([r, body]) => ({ raw: r, body })) },
  ),
  corpus: () => corpusOf('fuzz/api'),
  fromBytes: (b) => {
    let body: unknown;
    try { body = JSON.parse(b.toString('utf8')); } catch { body = b.toString('utf8'); }
    return { raw: !!body && typeof body === 'object' && 'envelope' in body, body };
  },
  check: checkApi,
  tokens: ['"', '\\r\\n', '\\n', '\\u0000', '\\ud800', 'é', '<', '>', '@', ',', '{', '}', '[', ']', 'x'.repeat(997), ' ', 'In-Reply-To', 'References'],
  show: (i) => JSON.stringify(i).slice(0, 4000),
};
