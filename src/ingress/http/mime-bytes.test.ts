// buildMimeBytes against MimeNode.build(): the same compiled tree (the same boundary) written both
// ways must give the same bytes, for the shapes the API composes (text, html, both, attachments,
// non-ASCII, long lines, bare LF/CR, trailing spaces, > 64 KB parts) and for random text; a tree
// with stream content gives null (the caller builds it with MimeNode).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, type Transform } from 'node:stream';
import fc from 'fast-check';
import MailComposer from 'nodemailer/lib/mail-composer';
import { assertParsesBack, parseBackMail } from '../../../test/helpers/mime-parse-back.js';
import { Encoder as QpEncoder, wrap as qpWrap } from 'nodemailer/lib/qp';
import { buildMimeBytes, encodeAll, encodeQuotedPrintableText, qpSoftBreaks } from './mime-bytes.js';

type Mail = ConstructorParameters<typeof MailComposer>[0];

const base: Mail = {
  from: { name: 'App', address: 'app@acme.test' }, to: [{ name: '', address: 'bob@dest.test' }], cc: [], bcc: [{ name: '', address: 'eve@dest.test' }],
  subject: 'Your receipt', headers: { 'X-Campaign': 'c1' }, attachments: [], disableFileAccess: true, disableUrlAccess: true, newline: 'windows',
  messageId: '<01ABC@relay.test>', date: new Date(Date.UTC(2025, 6, 1, 12)), baseBoundary: '0123456789abcdef',
};

/** Both ways, each from its own compile of the same mail (so neither sees the other's header pass). */
async function assertSame(mail: Mail, label: string): Promise<Buffer> {
  const fast = buildMimeBytes(new MailComposer({ ...base, ...mail }).compile());
  assert.ok(fast, `${label}: written without MimeNode.build`);
  const slow = await new MailComposer({ ...base, ...mail }).compile().build();
  assert.equal(fast.toString('latin1'), slow.toString('latin1'), label);
  return fast;
}

const long = 'Thanks for your order! '.repeat(4000); // > 64 KB: the encoders' slices
const shapes: [string, Mail][] = [
  ['text', { text: 'Hello\r\nworld' }],
  ['html', { html: '<p>Hello</p>' }],
  ['text + html', { text: 'Thanks! '.repeat(200), html: `<p>${'Thanks! '.repeat(200)}</p>` }],
  ['no subject, empty text', { subject: '', text: '' }],
  ['non-ASCII (quoted-printable)', { subject: 'Héllo ✓', from: { name: 'Ålice', address: 'a@acme.test' }, text: 'café\r\nnaïve', html: '<p>café</p>' }],
  ['mostly non-Latin (base64)', { subject: 'Привет', text: 'Привет, мир! '.repeat(30), html: `<p>${'こんにちは'.repeat(40)}</p>` }],
  ['bare LF and CR, trailing spaces', { text: 'a \nb\t\rc  \r\n\nend   ', html: '<p>x</p>  \n' }],
  ['ends with CR', { text: 'line\r' }],
  ['long lines, > 64 KB', { text: long, html: `<p>${long}</p>` }],
  ['reply-to, names, cc', { replyTo: [{ name: 'Desk, Help', address: 'help@acme.test' }], cc: [{ name: 'Carol "C"', address: 'c@dest.test' }], text: 'x' }],
  ['attachments', {
    text: 'see attached', html: '<p><img src="cid:logo@x"></p>',
    attachments: [
      { filename: 'logo.png', content: Buffer.from('PNGDATA'), contentType: 'image/png', cid: 'logo@x', contentDisposition: 'inline' },
      { filename: 'résumé.bin', content: Buffer.from([0, 1, 2, 13, 10, 255]), contentType: 'application/octet-stream', contentDisposition: 'attachment' },
      { filename: 'note.txt', content: Buffer.from('plain\nnote'), contentType: 'text/plain', contentDisposition: 'attachment' },
    ],
  }],
];

for (const [label, mail] of shapes) {
  test(`the same bytes as MimeNode.build: ${label}`, async () => { await assertSame(mail, label); });
}

test('text + html written directly parses back to the same parts', async () => {
  await assertParsesBack(await assertSame(parseBackMail, 'parsed'));
});

test('random text and html give the same bytes both ways', async () => {
  const alphabet = fc.constantFrom('a', 'Z', ' ', '\t', '\n', '\r', '\r\n', '=', '.', 'é', '✓', 'Ж', '😀', 'x'.repeat(80), '\0');
  const body = fc.array(alphabet, { maxLength: 200 }).map((a) => a.join(''));
  await fc.assert(fc.asyncProperty(fc.option(body, { nil: undefined }), fc.option(body, { nil: undefined }), async (text, html) => {
    await assertSame({ text, html }, JSON.stringify({ text, html }));
  }), { numRuns: 150 });
});

test('a tree with stream content is left to MimeNode.build', () => {
  const stream = new PassThrough();
  stream.end('streamed');
  assert.equal(buildMimeBytes(new MailComposer({ ...base, text: stream }).compile()), null);
  assert.equal(buildMimeBytes(new MailComposer({ ...base, text: 'x', newline: 'unix' }).compile()), null);
});

test('encodeQuotedPrintableText: the QP encoder\'s bytes for text it leaves literal, with held-back trailing whitespace; null where it escapes', () => {
  const viaEncoder = (b: Buffer) => Buffer.concat(encodeAll(new QpEncoder({ binary: false }) as unknown as Transform, b)).toString('latin1');
  const cases = ['Thanks! '.repeat(200), `<p>${'Thanks! '.repeat(200)}</p>`, 'short', 'x'.repeat(76), 'x'.repeat(77), 'a '.repeat(100),
    `${'word '.repeat(40)}w\r\n${'more\t'.repeat(30)}x`, 'line one\nline two\r\nline three\rend', ' ', '\t\t', 'ends in a tab\t', `${'y'.repeat(75)} \t `,
    `${'z'.repeat(150)}\r\n\r\n`, '<>?@[]^_`{|}~!"#$%&\'()*+,-./0123456789:;'];
  for (const s of cases) {
    const b = Buffer.from(s, 'latin1');
    const fast = encodeQuotedPrintableText(b);
    assert.ok(fast, JSON.stringify(s.slice(0, 40)));
    assert.equal(fast.toString('latin1'), viaEncoder(b), JSON.stringify(s.slice(0, 40)));
  }
  for (const s of ['a=b', 'café', 'tab before break\t\r\nx', 'space before break \nx', 'nul\u0000', '\u007f']) {
    assert.equal(encodeQuotedPrintableText(Buffer.from(s, 'utf8')), null, JSON.stringify(s));
  }
  assert.equal(encodeQuotedPrintableText(Buffer.alloc(0)), null);
  assert.equal(encodeQuotedPrintableText(Buffer.alloc(64 * 1024 + 1, 'a')), null, 'over one of the encoder\'s slices');
  let taken = 0;
  fc.assert(fc.property(fc.array(fc.constantFrom('a', 'Z', ' ', '\t', '\r', '\n', '\r\n', '.', ',', '!', '?', '~', 'word', 'x'.repeat(80)), { maxLength: 300 }), (parts) => {
    const b = Buffer.from(parts.join(''), 'utf8');
    const fast = encodeQuotedPrintableText(b);
    if (fast) { taken++; assert.equal(fast.toString('latin1'), viaEncoder(b)); }
  }), { numRuns: 2000 });
  assert.ok(taken > 200, `the fast path taken ${taken} times of 2,000`);
});

test('qpSoftBreaks: the soft line breaks of nodemailer\'s wrap(text, 76) for text without "="', () => {
  const viaWrap = (s: string) => qpWrap(s, 76);
  const withBreaks = (b: Buffer) => {
    let out = '';
    let from = 0;
    for (const at of qpSoftBreaks(b, b.length)) { out += `${b.toString('latin1', from, at)}=\r\n`; from = at; }
    return out + b.toString('latin1', from);
  };
  const cases = ['', 'x'.repeat(76), 'x'.repeat(77), 'x'.repeat(152), 'x'.repeat(153), `${'y'.repeat(75)}\r\n${'z'.repeat(200)}`,
    `${'a'.repeat(60)}\n${'b'.repeat(60)}\r${'c'.repeat(60)}`, `${'d'.repeat(74)}\r\n`, `${'d'.repeat(75)}\r\nx`, `${'e'.repeat(60)}?${'f'.repeat(30)}`,
    'Thanks! '.repeat(200), `<p>${'Thanks! '.repeat(200)}</p>`, `${'g'.repeat(51)}.${'h'.repeat(40)}`, `${'g'.repeat(50)} ${'h'.repeat(40)}`];
  for (const s of cases) assert.equal(withBreaks(Buffer.from(s, 'latin1')), viaWrap(s), JSON.stringify(s.slice(0, 60)));
  fc.assert(fc.property(fc.array(fc.constantFrom('a', 'Z', ' ', '\t', '\r', '\n', '\r\n', '\n\r', '.', ',', '!', '?', ';', 'word', 'x'.repeat(50), 'y'.repeat(80)), { maxLength: 400 }), (parts) => {
    const s = parts.join('');
    assert.equal(withBreaks(Buffer.from(s, 'latin1')), viaWrap(s));
  }), { numRuns: 3000 });
});

test('encodeQuotedPrintableText with the text it was encoded from: the same bytes as without; null for non-ASCII text', () => {
  const viaEncoder = (b: Buffer) => Buffer.concat(encodeAll(new QpEncoder({ binary: false }) as unknown as Transform, b)).toString('latin1');
  assert.equal(encodeQuotedPrintableText(Buffer.from('café '.repeat(30), 'utf8'), 'café '.repeat(30)), null);
  let taken = 0;
  fc.assert(fc.property(fc.array(fc.constantFrom('a', ' ', '\t', '\r', '\n', '\r\n', '.', '!', 'word', 'x'.repeat(80), '  ', '\t '), { maxLength: 300 }), (parts) => {
    const s = parts.join('');
    const b = Buffer.from(s, 'utf8');
    const withText = encodeQuotedPrintableText(b, s);
    const without = encodeQuotedPrintableText(b);
    assert.deepEqual(withText, without);
    if (withText) { taken++; assert.equal(withText.toString('latin1'), viaEncoder(b)); }
  }), { numRuns: 2000 });
  assert.ok(taken > 200, `the fast path taken ${taken} times of 2,000`);
});
