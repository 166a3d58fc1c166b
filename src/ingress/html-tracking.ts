// Owns the tracking edits to one HTML document (the decoded bytes of a text/html part): the href
// of each <a>/<area> whose value is an absolute http(s) URL is replaced by the redirect URL the
// caller gives (or left alone when it gives none), and a 1×1 pixel <img> is inserted before
// </body> (else before </html>, else at the end). Positions come from htmlparser2's tokenizer,
// so links inside comments, <style>, <script>, <title> and <textarea> are never seen as links.
//
// The bytes are read as latin1 (one character per byte): every byte outside the edited spans is
// kept as it was, in whatever ASCII-compatible charset the part uses (UTF-8, ISO-8859-x,
// windows-125x, Shift_JIS, GBK, Big5, EUC-x: their multi-byte sequences never contain the
// ASCII delimiters < > " ' = & or whitespace). Charsets where that does not hold (UTF-16/32,
// ISO-2022-x, UTF-7, HZ) are refused by isRewritableCharset and their parts left untouched.
import { Tokenizer, QuoteType } from 'htmlparser2';
import { decode as decodeCharset } from 'libmime/lib/charset.js';

export interface HtmlTrackingOptions {
  /** The URL to put in place of a link (an absolute http(s) URL, normalized by new URL()); null: keep it. */
  wrapLink: ((url: string) => string | null) | null;
  /** The open pixel's URL; null: no pixel. */
  pixelUrl: string | null;
  /** The part's Content-Type charset (for the non-ASCII bytes of a link); null: none given. */
  charset: string | null;
}

export interface HtmlTrackingResult { html: Buffer; links: number; pixel: boolean }

interface Edit { at: number; end: number; text: string }

const NOT_ASCII_COMPATIBLE = /^(utf-?(16|32|7)|ucs-?[24]|unicode|iso-?2022|csiso2022|hz|x-?utf-?7)/i;

/** Whether a part in this charset can be edited as latin1 bytes (see the header comment). */
export const isRewritableCharset = (charset: string | null): boolean => charset === null || !NOT_ASCII_COMPATIBLE.test(charset.trim());

const escapeAttribute = (s: string) => s.replace(/[&"'<>]/g, (c) => `&#${c.charCodeAt(0)};`);
const isHtmlSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

/** The pixel: 1×1, no border or spacing, empty alt so screen readers skip it. */
export const pixelTag = (url: string): string =>
  `<img src="${escapeAttribute(url)}" width="1" height="1" alt="" border="0" style="height:1px!important;width:1px!important;border:0!important;margin:0!important;padding:0!important">`;

/** Applies the tracking edits to one HTML document. */
export function trackHtml(bytes: Buffer, o: HtmlTrackingOptions): HtmlTrackingResult {
  const src = bytes.toString('latin1');
  const found = scanHtml(src, o.charset);
  const edits: Edit[] = [];
  if (o.wrapLink) {
    for (const link of found.links) {
      const to = o.wrapLink(link.url);
      if (to !== null) edits.push({ at: link.start, end: link.end, text: link.quoted ? escapeAttribute(to) : `"${escapeAttribute(to)}"` });
    }
  }
  const links = edits.length;
  if (o.pixelUrl !== null) {
    const at = found.bodyClose ?? found.htmlClose ?? endOfContent(src);
    edits.push({ at, end: at, text: pixelTag(o.pixelUrl) });
  }
  return { html: applyEdits(bytes, edits), links, pixel: o.pixelUrl !== null };
}

function endOfContent(src: string): number {
  let end = src.length;
  while (end > 0 && isHtmlSpace(src[end - 1])) end--;
  return end;
}

function applyEdits(bytes: Buffer, edits: Edit[]): Buffer {
  if (edits.length === 0) return bytes;
  const out: Buffer[] = [];
  let from = 0;
  for (const e of [...edits].sort((a, b) => a.at - b.at)) {
    out.push(bytes.subarray(from, e.at), Buffer.from(e.text, 'latin1'));
    from = e.end;
  }
  out.push(bytes.subarray(from));
  return Buffer.concat(out);
}

interface FoundLink { start: number; end: number; quoted: boolean; url: string }
interface Scan { links: FoundLink[]; bodyClose: number | null; htmlClose: number | null }

/** The http(s) links of <a>/<area> (first href of each) and the last </body> and </html>, by offset. */
function scanHtml(src: string, charset: string | null): Scan {
  const scan: Scan = { links: [], bodyClose: null, htmlClose: null };
  let tag = '';
  let attr = '';
  let nameEnd = 0;
  let hrefSeen = false;
  let value: (string | number)[] = [];
  const cbs = {
    onopentagname(start: number, end: number) { tag = src.slice(start, end).toLowerCase(); hrefSeen = false; },
    onattribname(start: number, end: number) { attr = src.slice(start, end).toLowerCase(); nameEnd = end; value = []; },
    onattribdata(start: number, end: number) { value.push(src.slice(start, end)); },
    onattribentity(codepoint: number) { value.push(codepoint); },
    onattribend(quote: QuoteType, end: number) {
      if (attr !== 'href' || (tag !== 'a' && tag !== 'area') || hrefSeen) return;
      hrefSeen = true;
      if (quote === QuoteType.NoValue) return;
      const link = linkOf(src, nameEnd, quote, end, decodeValue(value, charset));
      if (link) scan.links.push(link);
    },
    onclosetag(start: number, end: number) {
      const name = src.slice(start, end).toLowerCase();
      if (name === 'body') scan.bodyClose = start - 2;
      else if (name === 'html') scan.htmlClose = start - 2;
    },
    oncdata() {}, oncomment() {}, ondeclaration() {}, onend() {}, onopentagend() {}, onprocessinginstruction() {},
    onselfclosingtag() {}, ontext() {}, ontextentity() {},
  };
  const tokenizer = new Tokenizer({ xmlMode: false, decodeEntities: true }, cbs);
  tokenizer.write(src);
  tokenizer.end();
  return scan;
}

/** Raw pieces (latin1 strings of the part's bytes) and entity code points → the attribute's text. */
function decodeValue(pieces: (string | number)[], charset: string | null): string {
  return pieces.map((p) => (typeof p === 'number' ? String.fromCodePoint(p)
    : /[^\x00-\x7f]/.test(p) ? decodeCharset(Buffer.from(p, 'latin1'), charset ?? 'utf-8') : p)).join('');
}

/** The span of an href value and its URL, if it is an absolute http(s) URL that parses. */
function linkOf(src: string, nameEnd: number, quote: QuoteType, end: number, text: string): FoundLink | null {
  const raw = text.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '');
  if (!/^https?:\/\//i.test(raw) || raw.includes('\ufffd')) return null;
  let url: URL;
  try { url = new URL(raw); } catch { return null; }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  let start = nameEnd;
  while (isHtmlSpace(src[start])) start++;
  start++; // '='
  while (isHtmlSpace(src[start])) start++;
  const quoted = quote !== QuoteType.Unquoted;
  return { start: quoted ? start + 1 : start, end: quoted ? end - 1 : end, quoted, url: url.href };
}
