// Owns applying the tracking edits (html-tracking.ts) to a whole message: mailsplit splits it into
// MIME nodes, each text/html part that is not an attachment (nor inside an attached
// message/rfc822) has its transfer encoding decoded, its HTML edited, and is encoded back, and
// the Joiner puts the message together again. Every other byte (headers, text/plain parts,
// attachments, boundaries) is kept as it was.
//
// Transfer encodings stay valid: base64 and quoted-printable parts are re-encoded the same way
// (lines of at most 76 characters); a 7bit/8bit/binary part keeps its encoding unless an edit made
// a line longer than 998 octets (a long link), in which case it becomes quoted-printable. A part
// whose charset cannot be edited byte-wise (UTF-16, ISO-2022-JP, …) is left as it was.
import { Readable } from 'node:stream';
import mailsplit from '@zone-eu/mailsplit';
import type { MimeNode, SplitterChunk } from '@zone-eu/mailsplit';
import { isRewritableCharset, trackHtml, type HtmlTrackingOptions } from './html-tracking.js';

const { Splitter, Joiner } = mailsplit;

export type MimeTrackingOptions = Omit<HtmlTrackingOptions, 'charset'>;

export interface MimeTrackingResult {
  message: Buffer;
  /** text/html parts edited. */
  parts: number;
  /** Links replaced, in all parts. */
  links: number;
  /** text/html parts left alone because of their charset. */
  skipped: number;
}

/** Octets per line, CRLF excluded (RFC 5322 §2.1.1). */
const MAX_LINE = 998;
const CRLF = Buffer.from('\r\n');

const isTrackablePart = (n: MimeNode): boolean =>
  n.contentType === 'text/html' && !n.multipart && n.disposition !== 'attachment' && !n.filename;

/** The message with its HTML parts tracked; throws when it cannot be parsed (the caller sends it untracked). */
export async function trackMime(message: Buffer, o: MimeTrackingOptions): Promise<MimeTrackingResult> {
  const chunks = await split(message);
  const out: SplitterChunk[] = [];
  const result: MimeTrackingResult = { message, parts: 0, links: 0, skipped: 0 };
  for (let i = 0; i < chunks.length; i++) {
    const node = chunks[i]!;
    out.push(node);
    if (node.type !== 'node' || !isTrackablePart(node)) continue;
    const body: Buffer[] = [];
    while (chunks[i + 1]?.type === 'body') body.push((chunks[++i] as { value: Buffer }).value);
    const raw = Buffer.concat(body);
    if (!isRewritableCharset(node.charset || null)) { result.skipped++; out.push({ node, type: 'body', value: raw }); continue; }
    const edited = trackHtml(await transcode(raw, node.getDecoder()), { ...o, charset: node.charset || null });
    if (edited.links > 0 || edited.pixel) result.parts++;
    result.links += edited.links;
    out.push({ node, type: 'body', value: await encodePart(node, raw, edited.html) });
  }
  result.message = await join(out);
  return result;
}

/** The edited content in the part's transfer encoding (quoted-printable when an identity encoding no longer fits). */
async function encodePart(node: MimeNode, raw: Buffer, content: Buffer): Promise<Buffer> {
  const encoding = node.encoding || '7bit';
  let encoded: Buffer;
  if (encoding === 'base64' || encoding === 'quoted-printable') {
    encoded = await transcode(content, node.getEncoder());
    if (encoding === 'base64') encoded = trimTrailingCrlf(encoded);
  } else if (encoding === 'binary' || !hasLongLine(content)) {
    encoded = content;
  } else {
    setTransferEncoding(node, 'quoted-printable');
    encoded = await transcode(content, node.getEncoder());
  }
  return endsWithCrlf(raw) && !endsWithCrlf(encoded) ? Buffer.concat([encoded, CRLF]) : encoded;
}

function setTransferEncoding(node: MimeNode, encoding: string): void {
  const headers = node.headers;
  if (!headers) throw new Error('MIME node without parsed headers');
  if (headers.hasHeader('Content-Transfer-Encoding')) headers.update('Content-Transfer-Encoding', encoding);
  else headers.add('Content-Transfer-Encoding', encoding, headers.getList().length); // last: a root header keeps Received first
  node.encoding = encoding;
}

const endsWithCrlf = (b: Buffer) => b.length >= 2 && b[b.length - 2] === 0x0d && b[b.length - 1] === 0x0a;
const trimTrailingCrlf = (b: Buffer) => {
  let end = b.length;
  while (end >= 2 && b[end - 2] === 0x0d && b[end - 1] === 0x0a) end -= 2;
  return b.subarray(0, end);
};

function hasLongLine(b: Buffer): boolean {
  for (let start = 0; ;) {
    const lf = b.indexOf(0x0a, start);
    const end = lf < 0 ? b.length : lf > start && b[lf - 1] === 0x0d ? lf - 1 : lf;
    if (end - start > MAX_LINE) return true;
    if (lf < 0) return false;
    start = lf + 1;
  }
}

/** Runs bytes through a decoder or encoder stream of the node (libqp / libbase64 under mailsplit). */
async function transcode(bytes: Buffer, stream: NodeJS.ReadWriteStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  const piped = Readable.from([bytes]).pipe(stream);
  for await (const part of piped) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as string));
  return Buffer.concat(parts);
}

async function split(message: Buffer): Promise<SplitterChunk[]> {
  const splitter = new Splitter({ ignoreEmbedded: true });
  const chunks: SplitterChunk[] = [];
  for await (const chunk of Readable.from([message]).pipe(splitter)) chunks.push(chunk as SplitterChunk);
  return chunks;
}

async function join(chunks: SplitterChunk[]): Promise<Buffer> {
  const joiner = new Joiner();
  const parts: Buffer[] = [];
  for await (const part of Readable.from(chunks, { objectMode: true }).pipe(joiner)) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
