import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRewritableCharset, pixelTag, trackHtml } from './html-tracking.js';

const PIXEL = 'https://r.test/t/o/P.gif';

/** Runs trackHtml on a latin1 string; links are replaced by https://r.test/t/c/<n> and collected. */
function track(html: string, o: { pixel?: boolean; charset?: string | null; keep?: (url: string) => boolean } = {}) {
  const seen: string[] = [];
  const r = trackHtml(Buffer.from(html, 'latin1'), {
    charset: o.charset ?? 'utf-8', pixelUrl: o.pixel ? PIXEL : null,
    wrapLink: (url) => (o.keep?.(url) ? null : `https://r.test/t/c/${seen.push(url)}`),
  });
  return { html: r.html.toString('latin1'), seen, links: r.links };
}

const links: [name: string, html: string, expected: string, urls: string[]][] = [
  ['double-quoted', '<a href="http://a.example/x">A</a>', '<a href="https://r.test/t/c/1">A</a>', ['http://a.example/x']],
  ['single-quoted', "<a href='https://a.example/'>A</a>", "<a href='https://r.test/t/c/1'>A</a>", ['https://a.example/']],
  ['unquoted', '<a href=http://a.example/x?y=1>A</a>', '<a href="https://r.test/t/c/1">A</a>', ['http://a.example/x?y=1']],
  ['spaces around =', '<a class=b href = "http://a.example/" id=c>A</a>', '<a class=b href = "https://r.test/t/c/1" id=c>A</a>', ['http://a.example/']],
  ['uppercase tag, attribute and scheme', '<A HREF="HTTPS://A.Example/P">A</A>', '<A HREF="https://r.test/t/c/1">A</A>', ['https://a.example/P']],
  ['entities decoded, legacy &copy= kept', '<a href="http://a.example/?a=1&amp;b=2&copy=3&#38;c">A</a>', '<a href="https://r.test/t/c/1">A</a>', ['http://a.example/?a=1&b=2&copy=3&c']],
  ['numeric entity in the scheme', '<a href="&#x68;ttp://a.example/">A</a>', '<a href="https://r.test/t/c/1">A</a>', ['http://a.example/']],
  ['whitespace around the value', '<a href="\n  http://a.example/  ">A</a>', '<a href="https://r.test/t/c/1">A</a>', ['http://a.example/']],
  ['space inside is percent-encoded', '<a href="http://a.example/a b">A</a>', '<a href="https://r.test/t/c/1">A</a>', ['http://a.example/a%20b']],
  ['area of an image map', '<map><area shape=rect href="http://a.example/m"></map>', '<map><area shape=rect href="https://r.test/t/c/1"></map>', ['http://a.example/m']],
  ['first href of a tag only', '<a href="http://a.example/1" href="http://a.example/2">A</a>', '<a href="https://r.test/t/c/1" href="http://a.example/2">A</a>', ['http://a.example/1']],
  ['mailto, tel, relative, fragment, javascript, ftp', '<a href="mailto:x@a.example">m</a><a href="tel:+1">t</a><a href="/p">r</a><a href="#top">f</a><a href="javascript:x()">j</a><a href="ftp://a.example/">f</a>', '', []],
  ['not links: link, img, base', '<link href="http://a.example/c.css"><img src="http://a.example/i.png"><base href="http://a.example/">', '', []],
  ['in a comment', '<!-- <a href="http://a.example/">A</a> -->', '', []],
  ['in an Outlook conditional comment', '<!--[if mso]><a href="http://a.example/">A</a><![endif]-->', '', []],
  ['in style and script', '<style>a{background:url(http://a.example/b.png)} <a href="http://a.example/"></style><script>"<a href=\'http://a.example/\'>"</script>', '', []],
  ['in title and textarea', '<title><a href="http://a.example/"></title><textarea><a href="http://a.example/"></textarea>', '', []],
  ['href without a value', '<a href>A</a>', '', []],
  ['a broken URL', '<a href="http://exa mple.com:99999/">A</a>', '', []],
];

test('links: which are wrapped, and how the attribute is written back', () => {
  for (const [name, html, expected, urls] of links) {
    const r = track(html);
    assert.equal(r.html, expected || html, name);
    assert.deepEqual(r.seen, urls, name);
    assert.equal(r.links, urls.length, name);
  }
});

test('a link the caller keeps is left as written', () => {
  const html = '<a href="https://a.example/keep">k</a> <a href="https://a.example/go">g</a>';
  const r = track(html, { keep: (u) => u.endsWith('/keep') });
  assert.equal(r.html, '<a href="https://a.example/keep">k</a> <a href="https://r.test/t/c/1">g</a>');
  assert.equal(r.links, 1);
});

test('a new URL with characters special in HTML is escaped', () => {
  const r = trackHtml(Buffer.from('<a href="http://a.example/">A</a>'), { charset: null, pixelUrl: null, wrapLink: () => 'https://r.test/x?a=1&b="2"' });
  assert.equal(r.html.toString(), '<a href="https://r.test/x?a=1&#38;b=&#34;2&#34;">A</a>');
});

test('non-ASCII bytes of a link are read in the part\'s charset; every other byte is kept', () => {
  const latin1 = track('<p>caf\xe9 <a href="http://a.example/caf\xe9">\xe9</a></p>', { charset: 'windows-1252' });
  assert.equal(latin1.html, '<p>caf\xe9 <a href="https://r.test/t/c/1">\xe9</a></p>');
  assert.deepEqual(latin1.seen, ['http://a.example/caf%C3%A9']);
  const utf8 = track(Buffer.from('<p>café <a href="http://a.example/café">é</a></p>').toString('latin1'), { charset: 'UTF-8' });
  assert.deepEqual(utf8.seen, ['http://a.example/caf%C3%A9']);
  assert.equal(Buffer.from(utf8.html, 'latin1').toString(), '<p>café <a href="https://r.test/t/c/1">é</a></p>');
});

const pixels: [name: string, html: string, expected: string][] = [
  ['before </body>', '<html><body><p>x</p></body></html>\r\n', `<html><body><p>x</p>${pixelTag(PIXEL)}</body></html>\r\n`],
  ['before the last </BODY>, not one in a comment', '<body>x<!-- </body> --></BODY>\r\n', `<body>x<!-- </body> -->${pixelTag(PIXEL)}</BODY>\r\n`],
  ['before </html> without </body>', '<html><p>x</p></html>', `<html><p>x</p>${pixelTag(PIXEL)}</html>`],
  ['at the end of a fragment, before trailing whitespace', '<p>x</p>\r\n\r\n', `<p>x</p>${pixelTag(PIXEL)}\r\n\r\n`],
  ['an empty part', '', pixelTag(PIXEL)],
];

test('the pixel', () => {
  for (const [name, html, expected] of pixels) assert.equal(track(html, { pixel: true }).html, expected, name);
  assert.match(pixelTag(PIXEL), /^<img src="https:\/\/r\.test\/t\/o\/P\.gif" width="1" height="1" alt="" /);
});

test('nothing to do: the same bytes', () => {
  const bytes = Buffer.from('<p>no links</p>');
  assert.equal(trackHtml(bytes, { charset: null, pixelUrl: null, wrapLink: () => 'x' }).html, bytes);
});

test('charsets that cannot be edited byte-wise', () => {
  for (const c of ['utf-8', 'UTF-8', 'iso-8859-1', 'windows-1252', 'shift_jis', 'gb2312', 'big5', 'euc-kr', 'koi8-r', null]) assert.equal(isRewritableCharset(c), true, String(c));
  for (const c of ['utf-16', 'UTF-16LE', 'utf-32', 'ucs-2', 'iso-2022-jp', 'ISO-2022-KR', 'utf-7', 'hz-gb-2312']) assert.equal(isRewritableCharset(c), false, c);
});
