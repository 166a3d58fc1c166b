// buildSimpleMessage against MailComposer: for the same mail and base boundary the bytes must be
// those MailComposer(...).compile().build() gives, for fixed shapes and for generated requests
// (unicode and quoted names, long and encoded subjects, custom headers, text only, html only,
// both, long lines, bare line ends); a mail outside the simple shape gives null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import MailComposer from 'nodemailer/lib/mail-composer';
import { hasLongerLines as nodemailerHasLongerLines, isPlainText } from 'nodemailer/lib/mime-funcs';
import { assertParsesBack, parseBackMail } from '../../../test/helpers/mime-parse-back.js';
import MimeNode from 'nodemailer/lib/mime-node';
import { normalizeDomain } from '../../domains/domain-name.js';
import { buildSimpleMessage, hasLongerLines, textEncodingOf, writtenMailbox, type SimpleMail, type SimpleMailbox } from './mime-simple.js';

const BOUNDARY = '0123456789abcdef';
const base: SimpleMail = {
  from: { name: 'App', address: 'app@acme.test' }, to: [{ name: '', address: 'bob@dest.test' }], cc: [], bcc: [{ name: '', address: 'eve@dest.test' }],
  subject: 'Your receipt', headers: { 'X-Campaign': 'c1' }, text: 'Hello', messageId: '<01ABC@relay.test>', date: new Date(Date.UTC(2025, 6, 1, 12)),
};

/** The composer's bytes, with the options compose.ts gives it. */
const composed = (mail: SimpleMail) => new MailComposer({
  ...mail, attachments: [], disableFileAccess: true, disableUrlAccess: true, newline: 'windows', baseBoundary: BOUNDARY,
}).compile().build();

async function assertSame(mail: SimpleMail, label: string): Promise<Buffer> {
  const fast = buildSimpleMessage(mail, BOUNDARY);
  assert.ok(fast, `${label}: written without the composer`);
  assert.equal(fast.toString('latin1'), (await composed(mail)).toString('latin1'), label);
  return fast;
}

const long = 'Thanks for your order! '.repeat(4000);
const shapes: [string, Partial<SimpleMail>][] = [
  ['text', { text: 'Hello\r\nworld' }],
  ['html', { text: undefined, html: '<p>Hello</p>' }],
  ['text + html', { text: 'Thanks! '.repeat(200), html: `<p>${'Thanks! '.repeat(200)}</p>` }],
  ['empty text, html', { text: '', html: '<p>x</p>' }],
  ['no subject, no custom headers', { subject: '', headers: {} }],
  ['non-ASCII', { subject: 'Héllo ✓', from: { name: 'Ålice', address: 'a@acme.test' }, text: 'café\r\nnaïve', html: '<p>café</p>' }],
  ['mostly non-Latin (base64)', { subject: 'Привет '.repeat(20), text: 'Привет, мир! '.repeat(30), html: `<p>${'こんにちは'.repeat(40)}</p>` }],
  ['bare LF and CR, trailing spaces', { text: 'a \nb\t\rc  \r\n\nend   ', html: '<p>x</p>  \n' }],
  ['> 128 KB', { text: long, html: `<p>${long}</p>` }],
  ['reply-to, names, cc, several to', {
    replyTo: [{ name: 'Desk, Help', address: 'help@acme.test' }], cc: [{ name: 'Carol "C"', address: 'c@dest.test' }],
    to: [{ name: 'Bob', address: 'bob@dest.test' }, { name: 'Дима', address: 'dima@bücher.test' }],
  }],
  ['custom headers: lower case, In-Reply-To, References, List-ID, empty value', {
    headers: { 'x-lower-case': 'v', 'In-Reply-To': 'abc@x', References: 'a@x <b@y>', 'List-ID': '<list.acme.test>', 'X-Empty': '', 'X-Long': 'word '.repeat(60), 'X-Uni': 'ünïcödé ✓' },
  }],
];

for (const [label, mail] of shapes) {
  test(`the same bytes as MailComposer: ${label}`, async () => { await assertSame({ ...base, ...mail }, label); });
}

test('text + html written directly parses back to the same parts', async () => {
  await assertParsesBack(await assertSame({ ...base, ...parseBackMail }, 'parsed'));
});

test('generated requests give the same bytes as MailComposer', async () => {
  const piece = fc.constantFrom('a', 'Z', ' ', '\t', '\n', '\r', '\r\n', '=', '.', ',', '"', '\\', '<', ':', ';', '(', 'é', '✓', 'Ж', '😀', '=?', 'x'.repeat(80), '\0');
  const textOf = (maxLength: number) => fc.array(piece, { maxLength }).map((a) => a.join(''));
  const local = fc.stringMatching(/^[a-z0-9._+-]{1,20}$/).filter((s) => !s.startsWith('.') && !s.endsWith('.') && !s.includes('..'));
  const domain = fc.constantFrom('acme.test', 'dest.test', 'bücher.test', '例え.test', 'a-b.example.org');
  const mailbox = fc.record({ name: textOf(12).map((s) => s.replace(/[\r\n\0]/g, '')), address: fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`) });
  const headerName = fc.constantFrom('X-Campaign', 'x-lower', 'X-MAILER', 'List-Unsubscribe', 'List-ID', 'In-Reply-To', 'References', 'Keywords', 'X-Entity-Ref-ID', 'Thread-Topic', 'x-spf');
  const headerValue = textOf(30).map((s) => s.replace(/[\r\n\0]/g, ' '));
  const mail = fc.record({
    from: mailbox, to: fc.array(mailbox, { maxLength: 3 }), cc: fc.array(mailbox, { maxLength: 2 }), bcc: fc.array(mailbox, { maxLength: 2 }),
    replyTo: fc.option(fc.array(mailbox, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    subject: textOf(40).map((s) => s.replace(/[\r\n\0]/g, ' ')), headers: fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
    text: fc.option(textOf(120), { nil: undefined }), html: fc.option(textOf(120), { nil: undefined }),
  });
  await fc.assert(fc.asyncProperty(mail, async (m) => {
    const full: SimpleMail = { ...m, messageId: base.messageId, date: base.date };
    if (!full.replyTo) delete full.replyTo;
    if (!full.text && !full.html) { assert.equal(buildSimpleMessage(full, BOUNDARY), null); return; }
    await assertSame(full, JSON.stringify(m));
  }), { numRuns: 400 });
});

test('hasLongerLines answers as mime-funcs.hasLongerLines(s, 76)', () => {
  for (const [s, want] of [['x'.repeat(76), false], ['x'.repeat(77), true], [`${'x'.repeat(76)}\r\n${'y'.repeat(76)}`, false],
    [`${'x'.repeat(40)}\u2028${'y'.repeat(40)}`, false], [`a\n${'é'.repeat(77)}`, true], ['', false], ['x\n'.repeat(70_000), true]] as const) {
    assert.equal(hasLongerLines(s), want, JSON.stringify(s.slice(0, 90)));
    assert.equal(nodemailerHasLongerLines(s, 76), want);
  }
  const piece = fc.constantFrom('a', ' ', '\n', '\r', '\u2028', '\u2029', '\u0085', '😀', 'x'.repeat(30), 'y'.repeat(75));
  fc.assert(fc.property(fc.array(piece, { maxLength: 40 }).map((a) => a.join('')), (s) => {
    assert.equal(hasLongerLines(s), nodemailerHasLongerLines(s, 76));
  }), { numRuns: 2000 });
});

test('textEncodingOf answers as MimeNode._getTextEncoding, plain text by one test', () => {
  const node = new MimeNode('text/plain') as MimeNode & { _getTextEncoding(value: string): 'Q' | 'B' };
  const check = (s: string) => assert.equal(textEncodingOf(s, isPlainText(s)), node._getTextEncoding(s), JSON.stringify(s.slice(0, 90)));
  for (const s of ['', 'a', '1234 5678', '.,!?', `${'x'.repeat(1600)}`, '\t\r\n', '\x7f', '\x7fZ', 'é', 'éa', 'éab', '\x01ab', '\x0bA', '\x0e\x1fAb', 'Ж'.repeat(3) + 'abc', 'Ж'.repeat(3) + 'abcd']) check(s);
  const piece = fc.constantFrom('a', 'Z', '0', ' ', '\t', '\n', '\r', '\x00', '\x08', '\x0b', '\x0c', '\x0e', '\x1f', '\x7f', '\x80', 'é', 'Ж', '😀', '@', '[', '`', '{', 'x'.repeat(80));
  fc.assert(fc.property(fc.array(piece, { maxLength: 40 }).map((a) => a.join('')), check), { numRuns: 3000 });
});

test('a mail outside the simple shape is left to the composer', () => {
  assert.equal(buildSimpleMessage({ ...base, text: '', html: undefined }, BOUNDARY), null);
  assert.equal(buildSimpleMessage({ ...base, headers: { 'content-type': 'text/plain' } }, BOUNDARY), null);
  assert.equal(buildSimpleMessage({ ...base, headers: { 'X Bad': 'v' } }, BOUNDARY), null);
  assert.equal(buildSimpleMessage({ ...base, headers: { Date: 'Mon, 1 Jan 2024 00:00:00 +0000' } }, BOUNDARY), null);
});

test('two messages get different boundaries', () => {
  const mail = { ...base, html: '<p>x</p>' };
  const boundary = (b: Buffer | null) => /boundary="([^"]+)"/.exec(b!.toString('latin1'))?.[1];
  assert.notEqual(boundary(buildSimpleMessage(mail)), boundary(buildSimpleMessage(mail)));
});

// The address fields written from the request check's own mailboxes (writtenMailbox, as compose.ts
// calls it with domain-name.ts's normalizeDomain of the domain) against nodemailer's encoding of
// the same mailboxes: field by field, and whole messages against MailComposer. Names with quotes,
// commas, backslashes, semicolons, angle brackets, UTF-8 and emoji; local parts plain, upper case,
// quoted, with specials and UTF-8; domains plain, upper case, IDN (U-label and A-label), with a
// trailing dot, numeric, an address literal.
test('address fields written from the checked mailbox are the bytes nodemailer writes', async () => {
  const node = new MimeNode('text/plain');
  const namePiece = fc.constantFrom('', 'a', 'Bob', ' ', '  ', '_', '"', "'", ',', ';', ':', '\\', '<', '>', '(', ')', '@', '.', '=?', '?=', 'é', 'Дима', '例え', '😀', '\t', 'x'.repeat(40));
  const name = fc.array(namePiece, { maxLength: 8 }).map((a) => a.join(''));
  const local = fc.oneof(
    fc.stringMatching(/^[a-z0-9._+-]{1,20}$/).filter((l) => !l.startsWith('.') && !l.endsWith('.') && !l.includes('..')),
    fc.constantFrom('Bob.Smith', "o'neil", 'a+tag', 'x_y', 'a!#$%&*/=?^`{|}~', '"a b"', '"a,b"', '"a\\"b"', 'a..b', '.a', 'ü', 'δοκιμή', 'a b', '"x@y"'),
  );
  const domain = fc.constantFrom('acme.test', 'dest.test', 'Dest.TEST', 'a-b.example.org', 'bücher.test', 'xn--bcher-kva.test', '例え.test',
    'example.com.', 'sub.acme.test', '1.2.3.4', 'x.123', '[192.0.2.1]', 'localhost', 'a_b.test', 'xn--zz.test');
  const mailbox = fc.tuple(name, local, domain).map(([n, l, d]): SimpleMailbox => {
    const address = `${l}@${d}`;
    return { name: n, address, written: writtenMailbox(n, address, normalizeDomain(d)) };
  });
  let direct = 0;
  fc.assert(fc.property(fc.array(mailbox, { minLength: 1, maxLength: 3 }), (list) => {
    for (const m of list) {
      if (m.written === undefined) continue;
      direct++;
      assert.equal(m.written, node.encodeHeaderValue('To', [{ name: m.name, address: m.address }]), JSON.stringify(m));
    }
  }), { numRuns: 3000 });
  assert.ok(direct > 1000, `${direct} mailboxes written directly`);
  // Whole messages: every address field from the written forms (or nodemailer's when one lacks it).
  const mail = fc.record({
    from: mailbox, to: fc.array(mailbox, { maxLength: 4 }), cc: fc.array(mailbox, { maxLength: 3 }),
    replyTo: fc.option(fc.array(mailbox, { minLength: 1, maxLength: 2 }), { nil: undefined }), text: fc.constantFrom('Hello', 'héllo '.repeat(30)),
    html: fc.option(fc.constant('<p>x</p>'), { nil: undefined }),
  });
  const plain = (m: SimpleMailbox) => ({ name: m.name, address: m.address });
  await fc.assert(fc.asyncProperty(mail, async (m) => {
    const full: SimpleMail = { ...base, ...m, bcc: [] };
    if (!full.replyTo) delete full.replyTo;
    const reference: SimpleMail = { ...full, from: plain(full.from), to: full.to.map(plain), cc: full.cc.map(plain), ...(full.replyTo ? { replyTo: full.replyTo.map(plain) } : {}) };
    const fast = buildSimpleMessage(full, BOUNDARY);
    assert.ok(fast);
    assert.equal(fast.toString('latin1'), (await composed(reference)).toString('latin1'), JSON.stringify(m));
  }), { numRuns: 500 });
});
