import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { pixelTag } from './html-tracking.js';
import { trackMime } from './mime-tracking.js';

const PIXEL = 'https://r.test/t/o/P.gif';

/** Tracks with links replaced by https://r.test/t/c/<n>; `untrack` maps a tracked HTML back to the original. */
async function track(message: Buffer | string, pixel = true) {
  const seen: string[] = [];
  const r = await trackMime(Buffer.isBuffer(message) ? message : Buffer.from(message, 'latin1'), {
    pixelUrl: pixel ? PIXEL : null, wrapLink: (url) => `https://r.test/t/c/${seen.push(url)}`,
  });
  const untrack = (html: string) => html.replace(pixelTag(PIXEL), '').replace(/https:\/\/r\.test\/t\/c\/(\d+)/g, (_, n: string) => seen[Number(n) - 1]!.replace(/&/g, '&amp;'));
  return { ...r, text: r.message.toString('latin1'), seen, untrack };
}

/** Every line of a body (CRLF excluded) is at most `max` octets. */
const longestLine = (s: string) => Math.max(...s.split('\r\n').map((l) => l.length));
const bodyOf = (message: string, afterHeader: string) => message.slice(message.indexOf(afterHeader) + afterHeader.length).split('\r\n--')[0]!;

test('multipart/alternative from MailComposer (quoted-printable): text part untouched, html has the links and the pixel, same text', async () => {
  const html = `<html><body><p>Hello café ${'long words '.repeat(20)}<a href="https://shop.example/p?a=1&amp;b=2">shop</a> <a href="mailto:x@a.example">mail</a></p></body></html>`;
  const original = await new MailComposer({ from: 'a@a.example', to: 'b@b.example', subject: 's', text: 'Hello café https://shop.example/p', html }).compile().build();
  const r = await track(original);
  assert.deepEqual([r.parts, r.links, r.seen], [1, 1, ['https://shop.example/p?a=1&b=2']]);
  const [before, after] = await Promise.all([simpleParser(original), simpleParser(r.message)]);
  assert.equal(after.text, before.text, 'text/plain part: same text');
  assert.equal(r.untrack(after.html as string), before.html, 'text/html part: same HTML but for the links and the pixel');
  assert.ok((after.html as string).includes(pixelTag(PIXEL)));
  const encoded = bodyOf(r.text, 'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
  assert.ok(longestLine(encoded) <= 76, 'quoted-printable lines of at most 76');
  const origText = original.toString('latin1');
  assert.equal(r.text.slice(0, r.text.indexOf('Content-Type: text/html')), origText.slice(0, origText.indexOf('Content-Type: text/html')), 'everything before the html part byte for byte');
});

test('a single-part 7bit html message: the header is kept byte for byte, the body edited in place', async () => {
  const header = 'Received: from x\r\n\tby relay.test\r\nFrom: a@a.example\r\nContent-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n';
  const r = await track(`${header}<HTML><BODY><A HREF=http://a.example/>x</A></BODY></HTML>\r\n`);
  assert.equal(r.text, `${header}<HTML><BODY><A HREF="https://r.test/t/c/1">x</A>${pixelTag(PIXEL)}</BODY></HTML>\r\n`);
});

test('a 7bit line that an edit takes past 998 octets makes the part quoted-printable; a short 8bit part stays 8bit', async () => {
  const link = `http://a.example/${'x'.repeat(900)}`;
  const r = await trackMime(Buffer.from(`From: a@a.example\r\nContent-Type: text/html\r\n\r\n<a href="${link}">x</a>\r\n`), {
    pixelUrl: null, wrapLink: () => `https://r.test/t/c/${'y'.repeat(1000)}`,
  });
  const text = r.message.toString('latin1');
  assert.match(text, /^From: a@a\.example\r\nContent-Type: text\/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n/);
  assert.ok(longestLine(text) <= 76);
  assert.equal((await simpleParser(r.message)).html, `<a href="https://r.test/t/c/${'y'.repeat(1000)}">x</a>\n`);
  const eight = await track(Buffer.from('From: a@a.example\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>été <a href="http://a.example/">x</a></p>\r\n'), false);
  assert.equal(eight.message.toString(), 'From: a@a.example\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>été <a href="https://r.test/t/c/1">x</a></p>\r\n');
});

test('a base64 html part in iso-8859-1 is re-encoded in base64 (76-character lines), its charset kept', async () => {
  const html = Buffer.from(`<html><body><p>Déjà vu ${'àéîõü '.repeat(30)}</p><a href='http://a.example/d\xe9j\xe0'>l</a></body></html>`, 'latin1');
  const message = `From: a@a.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nD=E9j=E0 vu\r\n--b1\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n${html.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b1--\r\n`;
  const r = await track(message);
  assert.deepEqual(r.seen, ['http://a.example/d%C3%A9j%C3%A0']);
  const encoded = bodyOf(r.text, 'Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n');
  assert.ok(longestLine(encoded) <= 76 && /^[A-Za-z0-9+/=\r\n]+$/.test(encoded), 'base64 lines');
  assert.match(r.text, /\r\n--b1--\r\n$/);
  const [before, after] = await Promise.all([simpleParser(Buffer.from(message, 'latin1')), simpleParser(r.message)]);
  assert.equal(after.text, before.text);
  assert.equal(r.untrack(after.html as string), (before.html as string).replace('/déjà', '/d%C3%A9j%C3%A0'), 'the link as new URL() writes it');
  assert.ok((after.html as string).includes('Déjà vu àéîõü'), 'still read as iso-8859-1');
});

test('nested multipart/mixed: attachments (an .html file, an attached message with links, a PDF) untouched', async () => {
  const attached = 'From: c@c.example\r\nContent-Type: text/html\r\n\r\n<a href="http://forwarded.example/">f</a>\r\n';
  const original = await new MailComposer({
    from: 'a@a.example', to: 'b@b.example', subject: 's', text: 'plain', html: '<p><a href="http://a.example/">a</a></p>',
    attachments: [
      { filename: 'page.html', content: '<a href="http://attached.example/">x</a>', contentType: 'text/html' },
      { filename: 'fwd.eml', content: attached, contentType: 'message/rfc822' },
      { filename: 'doc.pdf', content: Buffer.from('%PDF-1.4 binary \x00\x01\x02'), contentType: 'application/pdf' },
    ],
  }).compile().build();
  const r = await track(original);
  assert.deepEqual([r.parts, r.seen], [1, ['http://a.example/']]);
  const [before, after] = await Promise.all([simpleParser(original), simpleParser(r.message)]);
  assert.equal(after.text, before.text);
  assert.equal(r.untrack(after.html as string), before.html);
  assert.deepEqual(after.attachments.map((a) => [a.filename, a.checksum]), before.attachments.map((a) => [a.filename, a.checksum]));
  const origText = original.toString('latin1');
  const tail = (s: string) => s.slice(s.indexOf('Content-Disposition: attachment'));
  assert.equal(tail(r.text), tail(origText), 'the attachments byte for byte');
});

test('an html part in UTF-16 is left as it is (and counted)', async () => {
  const message = `From: a@a.example\r\nContent-Type: text/html; charset=utf-16le\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('<a href="http://a.example/">x</a>', 'utf16le').toString('base64')}\r\n`;
  const r = await track(message);
  assert.deepEqual([r.parts, r.skipped, r.text], [0, 1, message]);
});

test('a text/plain message is returned as it was', async () => {
  const message = 'From: a@a.example\r\n\r\nsee http://a.example/ <a href="http://a.example/">\r\n';
  const r = await track(message);
  assert.deepEqual([r.parts, r.text], [0, message]);
});
