import test from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import fc from 'fast-check';
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import { parseMailbox } from '../../message/address.js';
import { mailboxOfText, prepareMessage, prepareRawMessage } from './compose.js';
import { sendMessageRequest, rawMessageRequest, batchRequest, InvalidItem } from './message-request.js';
import { ApiError } from './api-error.js';

const LIMITS = { maxRecipients: 5, maxLineLength: 1000, maxScheduleAheadMs: 3_600_000 };
const NOW = Date.UTC(2025, 6, 1, 12);

const fieldsOf = (fn: () => unknown) => {
  try { fn(); } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return err.fields.map((f) => f.path);
  }
  assert.fail('expected an ApiError');
};

test('composes MIME with names, cc, bcc kept out of the headers, inline image and attachment', async () => {
  const req = sendMessageRequest.parse({
    from: 'Alice Example <alice@acme.test>', to: [{ name: 'Bob', email: 'bob@dest.test' }], cc: ['carol@dest.test'], bcc: ['dave@dest.test'],
    subject: 'Hello ✓', text: 'plain', html: '<p>hi <img src="cid:logo@x"></p>', headers: { 'X-Campaign': 'c1' },
    attachments: [
      { filename: 'logo.png', content: Buffer.from('PNGDATA').toString('base64'), content_type: 'image/png', content_id: 'logo@x' },
      { filename: 'a.bin', content: Buffer.from([0, 1, 2, 255]).toString('base64'), content_type: 'application/octet-stream' },
    ],
    tags: ['welcome'], metadata: { user: '42' },
  });
  const p = prepareMessage(req, LIMITS, NOW);
  assert.equal(p.mailFrom, 'alice@acme.test');
  assert.deepEqual(p.recipients, ['bob@dest.test', 'carol@dest.test', 'dave@dest.test']);
  assert.deepEqual(p.fromDomains, ['acme.test']);
  assert.deepEqual(p.meta, { tags: ['welcome'], metadata: { user: '42' }, stream: 'transactional' });
  const mime = await p.build('01ABCDEFGHJKMNPQRSTV', 'relay.test', NOW);
  const text = mime.toString('latin1');
  assert.doesNotMatch(text, /^bcc:/im);
  assert.match(text, /^Message-ID: <01ABCDEFGHJKMNPQRSTV@relay\.test>/m);
  const parsed = await simpleParser(mime);
  assert.equal(parsed.subject, 'Hello ✓');
  assert.equal(parsed.from?.value[0]?.name, 'Alice Example');
  assert.equal(parsed.headers.get('x-campaign'), 'c1');
  const logo = parsed.attachments.find((a) => a.filename === 'logo.png')!;
  assert.equal(logo.cid, 'logo@x');
  assert.equal(logo.content.toString(), 'PNGDATA');
  assert.deepEqual([...parsed.attachments.find((a) => a.filename === 'a.bin')!.content], [0, 1, 2, 255]);
});

test('header injection (CR/LF) is refused by the schema in every header-bound field', () => {
  const base = { from: 'a@acme.test', to: ['b@dest.test'], text: 'x' };
  for (const bad of [
    { subject: 'hi\r\nBcc: victim@x.test' }, { from: 'a@acme.test\r\nBcc: v@x.test' }, { from: { name: 'A\nB', email: 'a@acme.test' } },
    { to: ['b@dest.test\nBcc: v@x.test'] }, { headers: { 'X-A': 'v\r\nBcc: v@x.test' } }, { headers: { 'X-A\r\nBcc': 'v' } },
  ]) {
    assert.equal(sendMessageRequest.safeParse({ ...base, ...bad }).success, false, JSON.stringify(bad));
  }
});

test('semantic refusals carry field paths', () => {
  const base = { from: 'a@acme.test', text: 'x' };
  assert.deepEqual(fieldsOf(() => prepareMessage(sendMessageRequest.parse({ ...base, to: ['not-an-address'] }), LIMITS, NOW)), ['to.0']);
  assert.deepEqual(fieldsOf(() => prepareMessage(sendMessageRequest.parse({ ...base, to: [{ email: 'x@[1.2.3.4]' }] }), LIMITS, NOW)), ['to.0.email']);
  assert.deepEqual(fieldsOf(() => prepareMessage(sendMessageRequest.parse({ ...base }), LIMITS, NOW)), ['to']);
  assert.deepEqual(fieldsOf(() => prepareMessage(sendMessageRequest.parse({ ...base, to: ['b@d.test'], headers: { subject: 'x', 'Content-Type': 'y' } }), LIMITS, NOW)),
    ['headers.subject', 'headers.Content-Type']);
  assert.deepEqual(fieldsOf(() => prepareMessage(sendMessageRequest.parse({ ...base, to: ['1@d.test', '2@d.test', '3@d.test', '4@d.test', '5@d.test', '6@d.test'] }), LIMITS, NOW)), ['to']);
  assert.deepEqual(fieldsOf(() => prepareMessage(sendMessageRequest.parse({ ...base, to: ['b@d.test'], send_at: new Date(NOW + 7_200_000).toISOString() }), LIMITS, NOW)), ['send_at']);
  const later = prepareMessage(sendMessageRequest.parse({ ...base, to: ['b@d.test'], send_at: new Date(NOW + 60_000).toISOString() }), LIMITS, NOW);
  assert.equal(later.notBefore, NOW + 60_000);
});

test('release(): a prepared message builds until released, and a build after it throws (api27)', async () => {
  const p = prepareMessage(sendMessageRequest.parse({ from: 'a@acme.test', to: ['b@dest.test'], subject: 's', text: 'hi' }), LIMITS, NOW);
  const first = await p.build('ID', 'relay.test', NOW);
  assert.deepEqual(await p.build('ID', 'relay.test', NOW), first);
  p.release();
  assert.deepEqual(p.recipients, ['b@dest.test'], 'the envelope and the rest stay');
  await assert.rejects(p.build('ID', 'relay.test', NOW), /after release/);
  const raw = prepareRawMessage(rawMessageRequest.parse({ envelope: { from: 'a@acme.test', to: ['b@dest.test'] }, message: 'From: a@acme.test\r\n\r\nx\r\n' }), LIMITS, NOW);
  assert.match((await raw.build('ID', 'relay.test', NOW)).toString(), /^From: a@acme\.test\r\nMessage-ID: <ID@relay\.test>/);
  raw.release();
  await assert.rejects(raw.build('ID', 'relay.test', NOW), /after release/);
});

test('raw messages: LF made CRLF, Message-ID and Date added, one From field required', async () => {
  const p = prepareRawMessage(rawMessageRequest.parse({ envelope: { from: 'a@acme.test', to: ['b@dest.test', 'B@dest.test'] }, message: 'From: a@acme.test\nSubject: s\n\nbody\n' }), LIMITS, NOW);
  assert.deepEqual(p.recipients, ['b@dest.test']);
  const out = (await p.build('ID', 'relay.test', NOW)).toString();
  assert.match(out, /^From: a@acme\.test\r\nSubject: s\r\nMessage-ID: <ID@relay\.test>\r\nDate: Tue, 01 Jul 2025 12:00:00 \+0000\r\n\r\nbody\r\n$/);
  assert.deepEqual(fieldsOf(() => prepareRawMessage(rawMessageRequest.parse({ envelope: { from: 'a@acme.test', to: ['b@d.test'] }, message: 'Subject: s\r\n\r\nx' }), LIMITS, NOW)), ['message']);
});

test('originators to authorise: From, Resent-* set through headers, and every originator field of a raw message', () => {
  const p = prepareMessage(sendMessageRequest.parse({
    from: 'a@acme.test', to: ['b@d.test'], text: 'x', headers: { 'resent-from': 'R <r@other.test>, s@acme.test', 'Resent-Sender': 'ops@acme.test', 'X-From': 'z@z.test' },
  }), LIMITS, NOW);
  assert.deepEqual(p.originators, [
    { field: 'From', domain: 'acme.test', path: 'from' },
    { field: 'Resent-From', domain: 'other.test', path: 'headers.resent-from' }, { field: 'Resent-From', domain: 'acme.test', path: 'headers.resent-from' },
    { field: 'Resent-Sender', domain: 'acme.test', path: 'headers.Resent-Sender' },
  ]);
  const raw = prepareRawMessage(rawMessageRequest.parse({ envelope: { from: 'a@acme.test', to: ['b@d.test'] },
    message: 'From: a@acme.test\r\nSender: s@one.test\r\nReply-To: r@any.test\r\nResent-From: f@two.test\r\nResent-Sender: x\r\n\r\nbody\r\n' }), LIMITS, NOW);
  assert.deepEqual(raw.originators, [
    { field: 'From', domain: 'acme.test', path: 'from' }, { field: 'Sender', domain: 'one.test', path: 'message' },
    { field: 'Resent-From', domain: 'two.test', path: 'message' }, { field: 'Resent-Sender', domain: null, path: 'message' },
  ]);
});

const longestLine = (b: Buffer) => Math.max(...b.toString('latin1').split('\r\n').map((l) => Buffer.byteLength(l, 'latin1')));

test('lines: long text and html are encoded into lines of at most 78 octets; header values fit 998; a raw long line is refused', async () => {
  const long = 'word'.repeat(1250); // one 5,000-character line without a space
  const p = prepareMessage(sendMessageRequest.parse({
    from: 'a@acme.test', to: ['b@d.test'], text: `${long}\n${'ü'.repeat(3000)}`, html: `<p>${long}</p>`,
    subject: 's'.repeat(997), headers: { 'X-Long-Header-Name-Of-Some-Length': 'h'.repeat(997) },
  }), LIMITS, NOW);
  const mime = await p.build('ID', 'relay.test', NOW);
  const [head, ...body] = mime.toString('latin1').split('\r\n\r\n');
  assert.ok(longestLine(Buffer.from(head!, 'latin1')) <= 998, 'header lines within 998 octets');
  assert.ok(longestLine(Buffer.from(body.join('\r\n\r\n'), 'latin1')) <= 78, 'body lines within 78 octets');
  const parsed = await simpleParser(mime);
  assert.equal(parsed.text?.trim(), `${long}\n${'ü'.repeat(3000)}`);
  assert.equal(String(parsed.html).trim(), `<p>${long}</p>`);
  assert.equal(parsed.subject, 's'.repeat(997));
  assert.equal(sendMessageRequest.safeParse({ from: 'a@acme.test', to: ['b@d.test'], text: 'x', subject: 's'.repeat(998) }).success, false,
    'an unbroken 998-octet value would fold into a 999-octet line');

  const raw = (message: string) => rawMessageRequest.parse({ envelope: { from: 'a@acme.test', to: ['b@d.test'] }, message });
  assert.deepEqual(fieldsOf(() => prepareRawMessage(raw(`From: a@acme.test\r\n\r\n${'x'.repeat(999)}\r\n`), LIMITS, NOW)), ['message']);
  assert.deepEqual(fieldsOf(() => prepareRawMessage(raw(`From: a@acme.test\n\nok\n${'x'.repeat(5000)}`), LIMITS, NOW)), ['message'], 'the last line, LF ends');
  assert.deepEqual(fieldsOf(() => prepareRawMessage(raw(`From: a@acme.test\r\nX-H: ${'x'.repeat(995)}\r\n\r\nb\r\n`), LIMITS, NOW)), ['message'], 'a header line');
  const fits = prepareRawMessage(raw(`From: a@acme.test\r\n\r\n${'é'.repeat(499)}\r\n`), LIMITS, NOW); // 998 octets in UTF-8
  assert.equal(longestLine(await fits.build('ID', 'relay.test', NOW)), 998);
  assert.deepEqual(fieldsOf(() => prepareRawMessage(raw(`From: a@acme.test\r\n\r\n${'é'.repeat(500)}\r\n`), LIMITS, NOW)), ['message'], 'octets, not characters');
});

test('a batch keeps valid items and marks invalid ones', () => {
  const b = batchRequest.parse({ messages: [{ from: 'a@acme.test', to: ['b@d.test'], text: 'x' }, { from: 'a@acme.test', bogus: 1 }] });
  assert.ok(!(b.messages[0] instanceof InvalidItem));
  assert.ok(b.messages[1] instanceof InvalidItem);
  assert.equal(batchRequest.safeParse({ messages: [] }).success, false);
});

test('client header fields that would come out longer than 998 octets are refused with 422 naming the field', async () => {
  // In-Reply-To and References get angle brackets added and are not folded inside an id: a
  // 997-character id came out as a 1000-octet line (RFC 5322 §2.1.1 allows 998).
  const long = 'i'.repeat(997);
  for (const [name, value] of [['In-Reply-To', long], ['References', long], ['In-Reply-To', 'j'.repeat(996)]] as const) {
    const req = sendMessageRequest.parse({ from: 'a@acme.test', to: ['b@dest.test'], text: 'x', headers: { [name]: value } });
    assert.deepEqual(fieldsOf(() => prepareMessage(req, LIMITS, NOW)), [`headers.${name}`], name);
  }
  const fine = sendMessageRequest.parse({ from: 'a@acme.test', to: ['b@dest.test'], text: 'x',
    headers: { 'In-Reply-To': `<${'k'.repeat(993)}@x>`, References: Array.from({ length: 40 }, (_, i) => `<id${i}@acme.test>`).join(' '), 'X-Long': 'w '.repeat(490) } });
  const mime = await prepareMessage(fine, LIMITS, NOW).build('01ABCDEFGHJKMNPQRSTV', 'relay.test', NOW);
  for (const line of mime.toString('latin1').split('\r\n')) assert.ok(line.length <= 998, `line of ${line.length}`);
});

test('text and html with LF or CR line ends are composed with CRLF only (found by fuzzing)', async () => {
  // MailComposer keeps the line ends it is given: "\n.\n" in a JSON text went into the stored
  // message as is, bare LFs that DKIM signed and a lenient receiver might read as end of data.
  const req = sendMessageRequest.parse({ from: 'a@acme.test', to: ['b@dest.test'], text: 'Thanks!\n\n.\nTotal: 10 €\rend', html: '<p>a</p>\n.\n<p>b</p>' });
  const mime = (await prepareMessage(req, LIMITS, NOW).build('01ABCDEFGHJKMNPQRSTV', 'relay.test', NOW)).toString('latin1');
  assert.doesNotMatch(mime, /\r(?!\n)|(?<!\r)\n/, 'no bare CR or LF');
  const parsed = await simpleParser(Buffer.from(mime, 'latin1'));
  assert.match(parsed.text ?? '', /Thanks!\r?\n\r?\n\.\r?\nTotal: 10 €/);
});

// The address fields of the built message come from the request check's own parse (compose.ts's
// Named.written) and not from nodemailer's second parse: the bytes must be what MailComposer
// writes for the same request, its addresses as the check read them (addressparser for a string,
// the mailbox's address with its domain lower-cased), as the build did before. Generated requests:
// string and object forms, quoted names with commas, quotes and backslashes, UTF-8 names, upper
// case, IDN (U-label and A-label) and UTF-8 local parts, groups of one; text only and text + html
// (the random boundary put back to the composer's fixed one).
test('built messages: address fields from the checked addresses, the same bytes as MailComposer', async () => {
  const BOUNDARY = '0123456789abcdef';
  const namePiece = fc.constantFrom('', 'App', 'Bob', ' ', '_', "'", ',', ';', ':', '\\', '(', '.', '=?', 'é', 'Дима', '例え', '😀', 'x'.repeat(30));
  const name = fc.array(namePiece, { maxLength: 6 }).map((a) => a.join(''));
  const local = fc.constantFrom('app', 'bob', 'Bob.Smith', 'a+tag', "o'neil", 'x_y', '"a b"', '"a,b"', 'ü', 'δοκιμή');
  const domain = fc.constantFrom('acme.test', 'dest.test', 'Dest.TEST', 'a-b.example.org', 'bücher.test', 'xn--bcher-kva.test', '例え.test', 'sub.acme.test');
  const email = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
  const quoted = (n: string) => `"${n.replace(/(["\\])/g, '\\$1')}"`;
  const input = fc.oneof(
    email,
    fc.tuple(name, email).map(([n, e]) => (n.trim() ? `${quoted(n)} <${e}>` : e)),
    fc.tuple(fc.constantFrom('App', 'Bob Smith', 'Team'), email).map(([n, e]) => `${n} <${e}>`),
    fc.tuple(name, email).map(([n, e]) => ({ name: n, email: e })),
    fc.tuple(fc.constantFrom('Team', 'List'), email).map(([g, e]) => `${g}: ${e};`),
  );
  const request = fc.record({
    from: input, to: fc.array(input, { minLength: 1, maxLength: 3 }), cc: fc.array(input, { maxLength: 2 }), bcc: fc.array(input, { maxLength: 1 }),
    reply_to: fc.option(input, { nil: undefined }), subject: fc.constantFrom('Hi', 'Héllo ✓'), text: fc.constantFrom('Hello', 'Thanks! '.repeat(50)),
    html: fc.option(fc.constant('<p>Thanks!</p>'), { nil: undefined }),
  });
  /** A mailbox as prepareMessage read it before its written form existed. */
  const checked = (m: string | { name: string; email: string }) => {
    const [name, address] = typeof m === 'string' ? [addressparser(m, { flatten: true })[0]!.name ?? '', addressparser(m, { flatten: true })[0]!.address!] : [m.name, m.email];
    return { name, address: parseMailbox(address)!.address };
  };
  let built = 0;
  await fc.assert(fc.asyncProperty(request, async (r) => {
    const req = sendMessageRequest.parse(r);
    let prepared;
    try { prepared = prepareMessage(req, { ...LIMITS, maxRecipients: 50 }, NOW); } catch (err) { if (err instanceof ApiError) return; throw err; }
    built++;
    const messageId = '<01ABCDEFGHJKMNPQRSTV@relay.test>';
    const mime = (await prepared.build('01ABCDEFGHJKMNPQRSTV', 'relay.test', NOW)).toString('latin1').replace(/_NmP-[0-9a-f]{16}-Part_1/g, `_NmP-${BOUNDARY}-Part_1`);
    const reference = await new MailComposer({
      from: checked(r.from), to: r.to.map(checked), cc: r.cc.map(checked), bcc: r.bcc.map(checked),
      ...(r.reply_to !== undefined ? { replyTo: [checked(r.reply_to)] } : {}), subject: r.subject, text: r.text, ...(r.html ? { html: r.html } : {}),
      headers: {}, attachments: [], messageId, date: new Date(NOW), disableFileAccess: true, disableUrlAccess: true, newline: 'windows', baseBoundary: BOUNDARY,
    }).compile().build();
    assert.equal(mime, reference.toString('latin1'), JSON.stringify(r));
  }), { numRuns: 400 });
  assert.ok(built > 200, `${built} requests built`);
});

// mailboxOfText reads the common "Name <local@domain>" and "local@domain" by one expression: it must
// give what addressparser(text, { flatten: true }) gives (one mailbox, or null for none or several),
// over strings near that shape (spaces, dots, quotes, commas, angle brackets, groups, comments,
// encoded words, UTF-8, upper case) and over strings of the shape itself.
test('mailboxOfText reads a request address string as addressparser does', () => {
  const viaParser = (text: string) => {
    const parsed = addressparser(text, { flatten: true });
    return parsed.length !== 1 || !parsed[0]!.address ? null : { name: parsed[0]!.name ?? '', address: parsed[0]!.address };
  };
  const piece = fc.constantFrom('a', 'Z', '0', 'App', 'bob', ' ', '  ', '.', '..', '@', '<', '>', '+', '-', '_', '"', ',', ':', ';', '(', ')', '\\', '=?', '?=', 'é', '\t', 'acme.test', 'x@y.z');
  const loose = fc.array(piece, { maxLength: 12 }).map((a) => a.join(''));
  const word = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
  const atom = fc.stringMatching(/^[A-Za-z0-9_+-]{1,8}$/);
  const addr = fc.tuple(fc.array(atom, { minLength: 1, maxLength: 3 }), fc.array(fc.stringMatching(/^[A-Za-z0-9-]{1,8}$/), { minLength: 2, maxLength: 3 }))
    .map(([l, d]) => `${l.join('.')}@${d.join('.')}`);
  const shaped = fc.oneof(addr, fc.tuple(fc.array(word, { minLength: 1, maxLength: 3 }), addr).map(([n, a]) => `${n.join(' ')} <${a}>`),
    fc.tuple(fc.array(word, { minLength: 1, maxLength: 3 }), fc.constantFrom(' ', '', '  ', ' , '), addr, fc.constantFrom('', ' ', '>', ',x@y.z')).map(([n, sp, a, tail]) => `${n.join(' ')}${sp}<${a}>${tail}`));
  let simple = 0;
  fc.assert(fc.property(fc.oneof(loose, shaped), (text) => {
    if (/^(?:[A-Za-z0-9]+(?: [A-Za-z0-9]+)* <[^<>]+>|[^\s<>]+)$/.test(text) && !/[",:;()\\]/.test(text)) simple++;
    assert.deepEqual(mailboxOfText(text), viaParser(text), JSON.stringify(text));
  }), { numRuns: 5000 });
  assert.ok(simple > 1000, `${simple} strings of the common shape`);
});
