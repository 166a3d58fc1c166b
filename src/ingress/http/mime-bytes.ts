// Owns writing a compiled MailComposer tree (a MimeNode) to bytes without streams. MimeNode's own
// build() runs every node through a PassThrough, an encoder Transform, a pipeline, LastNewline and
// LeWindows with a setImmediate between parts: most of nodemailer's CPU per API message. This
// walks the same tree in the same order with the same pieces (buildHeaders, getTransferEncoding,
// nodemailer's own quoted-printable and base64 encoders fed their whole input at once, the same
// delimiters, then the last newline and the CRLF pass), so the bytes are identical
// (mime-bytes.test.ts compares the two). A tree it does not know how to write synchronously
// (stream, file or URL content, raw nodes, transforms, another newline setting) gives null: the
// caller then uses build().
import type { Transform } from 'node:stream';
import type MimeNode from 'nodemailer/lib/mime-node';
import { Encoder as Base64Encoder } from 'nodemailer/lib/base64';
import { Encoder as QpEncoder, wrap as qpWrap } from 'nodemailer/lib/qp';

/** The parts of MimeNode that build() reads and its declaration keeps private. */
interface NodeInternals {
  _raw?: unknown;
  _transforms?: unknown[];
  _processFuncs?: unknown[];
}

/** A Transform's implementer methods, called directly: one chunk in, then the flush. */
interface Transformer {
  _transform(chunk: Buffer, encoding: string, done: (err?: Error | null) => void): void;
  _flush(done: (err?: Error | null) => void): void;
  push(chunk: unknown, encoding?: string): boolean;
}

const WINDOWS = ['win', 'windows', 'dos', '\r\n'];

/** The message MimeNode.build() would produce for `root`, or null when the tree needs build(). */
export function buildMimeBytes(root: MimeNode): Buffer | null {
  if (!isSimpleTree(root, true)) return null;
  const out: Buffer[] = [];
  writeNode(root, out);
  return finishMessage(out);
}

/** What MimeNode.build() does to the streamed parts at the end: LastNewline, then LeWindows. */
export const finishMessage = (parts: Buffer[]): Buffer => toCrlf(withLastNewline(Buffer.concat(parts)));

function isSimpleTree(node: MimeNode, isRoot: boolean): boolean {
  const n = node as unknown as NodeInternals;
  if (n._raw || n._transforms?.length || n._processFuncs?.length) return false;
  if (isRoot && !WINDOWS.includes(String(node.newline ?? '').toLowerCase())) return false;
  const c = node.content;
  if (c !== undefined && c !== null && typeof c !== 'string' && !Buffer.isBuffer(c)) return false;
  return node.childNodes.every((child) => isSimpleTree(child, false));
}

/** MimeNode.stream(): the header block, the encoded content, then each child between delimiters. */
function writeNode(node: MimeNode, out: Buffer[]): void {
  const transferEncoding = node.getTransferEncoding();
  out.push(Buffer.from(`${node.buildHeaders()}\r\n\r\n`, 'utf8'));
  const content = node.content as string | Buffer | undefined;
  if (content) {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    if (transferEncoding === 'base64') out.push(...encodeAll(new Base64Encoder() as unknown as Transform, bytes));
    else if (transferEncoding === 'quoted-printable') {
      out.push(...encodeAll(new QpEncoder({ binary: !/^text\//i.test(node.contentType ?? '') }) as unknown as Transform, bytes));
    } else out.push(bytes);
  }
  if (!node.multipart) return;
  node.childNodes.forEach((child, i) => {
    out.push(Buffer.from(`${i > 0 ? '\r\n' : ''}--${String(node.boundary)}\r\n`, 'utf8'));
    writeNode(child, out);
  });
  out.push(Buffer.from(`\r\n--${String(node.boundary)}--\r\n`, 'utf8'));
}

/** The encoder's output for `bytes` written as one chunk and ended, as its stream would give it. */
export function encodeAll(encoder: Transform, bytes: Buffer): Buffer[] {
  const t = encoder as unknown as Transformer;
  const chunks: Buffer[] = [];
  t.push = (chunk: unknown, encoding?: string) => {
    if (chunk !== null && chunk !== undefined) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), (encoding ?? 'utf8') as BufferEncoding));
    return true;
  };
  const fail = (err?: Error | null) => { if (err) throw err; };
  t._transform(bytes, 'buffer', fail);
  t._flush(fail);
  return chunks;
}

/** nodemailer's QP encoder takes its input in slices of this many bytes (ENCODE_SLICE_SIZE). */
const QP_SLICE_BYTES = 64 * 1024;
/**
 * A byte the QP encoder (binary: false) would write as =XX: outside its literal ranges (TAB, LF,
 * CR, SP to '<', '>' to '~'), or whitespace before a line break. The input's trailing whitespace
 * is taken off before the test.
 */
const QP_ESCAPED = /[^\t\n\r\x20-\x3c\x3e-\x7e]|[\t ](?=[\r\n])/;

/**
 * What `encodeAll(new QpEncoder({ binary: false }), bytes)` gives, joined, when its per-byte
 * encoding would leave every byte as it is but the trailing whitespace (the common text part:
 * ASCII with a line over 76 characters); null otherwise, and the caller uses the encoder. The
 * encoder wraps the body first (nodemailer's wrap(), 76), then its last line with the held-back
 * whitespace, whose last byte is encoded. The encoder's byte loop was the largest single cost of
 * composing an API message (bench/README.md, eleventh session); here one native regular-expression
 * test replaces it. The body's soft line breaks are found on the bytes themselves (qpSoftBreaks:
 * wrap()'s rules by index, no string of the text, no substrings or match arrays per line: the
 * largest allocation of an API message, sixteenth session) and the output written once; the short
 * last line with the held-back whitespace still goes through wrap(). `text`, when given, is the
 * string `bytes` was encoded from as UTF-8 (it saves a latin1 copy for the test). mime-bytes.test.ts
 * compares the result with the encoder's over generated inputs.
 */
export function encodeQuotedPrintableText(bytes: Buffer, text?: string): Buffer | null {
  if (bytes.length === 0 || bytes.length > QP_SLICE_BYTES) return null;
  if (text !== undefined && text.length !== bytes.length) return null; // not ASCII: the encoder escapes it
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  // Trailing whitespace cannot match QP_ESCAPED (nothing but more whitespace or the end follows it),
  // so the whole text is tested as the trimmed body would be.
  if (QP_ESCAPED.test(text ?? bytes.toString('latin1'))) return null;
  const breaks = qpSoftBreaks(bytes, end);
  let tail: Buffer | null = null;
  let lastLineStart = end;
  if (end < bytes.length) { // the encoder's second slice: the body's last line, then the held-back whitespace
    const lf = end > 0 ? bytes.lastIndexOf(0x0a, end - 1) : -1;
    lastLineStart = Math.max(lf + 1, breaks.length ? breaks[breaks.length - 1]! : 0);
    const held = `${bytes.toString('latin1', end, bytes.length - 1)}${bytes[bytes.length - 1] === 0x20 ? '=20' : '=09'}`;
    tail = Buffer.from(qpWrap(bytes.toString('latin1', lastLineStart, end) + held, 76), 'latin1');
  }
  // The text up to the last line in one copy, then each line moved up to its place from the last
  // back (copyWithin: no view object per line, as Buffer.copy of a range makes) with its break before it.
  const out = Buffer.allocUnsafe(lastLineStart + 3 * breaks.length + (tail ? tail.length : 0));
  bytes.copy(out, 0, 0, lastLineStart);
  let segEnd = lastLineStart;
  for (let k = breaks.length - 1; k >= 0; k--) {
    const b = breaks[k]!;
    const shift = 3 * (k + 1);
    out.copyWithin(b + shift, b, segEnd);
    out[b + shift - 3] = 0x3d; // =
    out[b + shift - 2] = 0x0d;
    out[b + shift - 1] = 0x0a;
    segEnd = b;
  }
  if (tail) tail.copy(out, lastLineStart + 3 * breaks.length);
  return out;
}

/** wrap()'s margin for a 76-character line: where it looks back for a line break or a space. */
const QP_MARGIN = Math.floor(76 / 3);

/**
 * Where nodemailer's qp wrap(str, 76) puts its soft line breaks ("=\r\n", before the index) in the
 * latin1 text of bytes[0, len), for a text without '=' (QP_ESCAPED passed: nothing was encoded, so its
 * branches for =XX sequences never apply). Its rules, by index: a line is the next 76 characters; one
 * holding a CRLF ends after the first; one ending in LF is whole; else one whose last 25 characters
 * hold an LF with no CR after it ends after that LF; else one longer than 51 ends after the last of
 * SP, TAB, '.', ',', '!', '?' in its last 25 characters; then, if it is not the text's end and does
 * not end in LF, a line still 76 long gives its last character to the next, and the break follows.
 */
export function qpSoftBreaks(bytes: Buffer, len: number): number[] {
  const breaks: number[] = [];
  if (len <= 76) return breaks;
  let nextCrlf = -2; // the first CRLF at or after pos (-1: none left), found once per CRLF passed
  let nextLf = -2; // an LF at or after the last line's tail (-1: none left), found again once passed
  let pos = 0;
  while (pos < len) {
    let lineEnd = Math.min(pos + 76, len);
    if (nextCrlf !== -1 && nextCrlf < pos) {
      nextCrlf = bytes.indexOf(CRLF, pos);
      if (nextCrlf >= len - 1) nextCrlf = -1;
    }
    if (nextCrlf !== -1 && nextCrlf + 2 <= lineEnd) { pos = nextCrlf + 2; continue; }
    if (bytes[lineEnd - 1] === 0x0a) { pos = lineEnd; continue; }
    const tailStart = Math.max(pos, lineEnd - QP_MARGIN);
    if (nextLf !== -1 && nextLf < tailStart) nextLf = bytes.indexOf(0x0a, tailStart);
    if (nextLf !== -1 && nextLf < lineEnd) { // an LF in the tail (rare: only lines that hold one get here)
      let lf = lineEnd - 1;
      let crAfter = false;
      for (; bytes[lf] !== 0x0a; lf--) if (bytes[lf] === 0x0d) crAfter = true;
      if (!crAfter) { pos = lf + 1; continue; }
    }
    if (lineEnd - pos > 76 - QP_MARGIN) {
      for (let i = lineEnd - 1; i >= tailStart; i--) {
        const c = bytes[i];
        if (c === 0x20 || c === 0x09 || c === 0x2e || c === 0x2c || c === 0x21 || c === 0x3f) { lineEnd = i + 1; break; }
      }
    }
    if (lineEnd < len && bytes[lineEnd - 1] !== 0x0a) {
      if (lineEnd - pos === 76) lineEnd--;
      breaks.push(lineEnd);
    }
    pos = lineEnd;
  }
  return breaks;
}

/** LastNewline: the message ends with a line break. */
function withLastNewline(b: Buffer): Buffer {
  const last = b.length ? b[b.length - 1] : undefined;
  if (last === 0x0a) return b;
  return Buffer.concat([b, Buffer.from(last === 0x0d ? '\n' : '\r\n', 'latin1')]);
}

/** LeWindows: every LF not already after a CR becomes CRLF. */
function toCrlf(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) {
    if (i > 0 && b[i - 1] === 0x0d) continue;
    parts.push(b.subarray(start, i), CRLF);
    start = i + 1;
  }
  if (start === 0) return b;
  parts.push(b.subarray(start));
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n', 'latin1');
