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
 * soft line breaks come from nodemailer's own wrap(), called as the encoder calls it: the body
 * first, then its last line with the held-back whitespace, whose last byte is encoded. The
 * encoder's byte loop was the largest single cost of composing an API message (bench/README.md,
 * eleventh session); here one native regular-expression test replaces it. mime-bytes.test.ts
 * compares the two over generated inputs.
 */
export function encodeQuotedPrintableText(bytes: Buffer): Buffer | null {
  if (bytes.length === 0 || bytes.length > QP_SLICE_BYTES) return null;
  const text = bytes.toString('latin1');
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  const body = text.slice(0, end);
  if (QP_ESCAPED.test(body)) return null;
  let out = '';
  let line = '';
  const encodeSlice = (encoded: string) => { // the encoder's _encodeSlice, with lineLength 76
    const wrapped = qpWrap(line + encoded, 76);
    const lastLf = wrapped.lastIndexOf('\n');
    line = wrapped.substring(lastLf + 1);
    out += wrapped.substring(0, lastLf + 1);
  };
  if (body) encodeSlice(body);
  if (end < text.length) encodeSlice(`${text.slice(end, -1)}${text.endsWith(' ') ? '=20' : '=09'}`);
  return Buffer.from(out + line, 'latin1');
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
