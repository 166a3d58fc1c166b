// Owns reading a message's Subject for the queue (issue 12, the Messages search): the first Subject
// field of a header block, unfolded, its RFC 2047 encoded-words decoded (an undecodable word is kept
// as written), control characters replaced by spaces, whitespace collapsed, and cut at
// MAX_SUBJECT_CHARS characters (whole code points). Pure: no I/O, never throws.
import { createRequire } from 'node:module';

// libmime (with iconv-lite and encoding-japanese's tables) is loaded at the first Subject that has
// an encoded-word, not at start: most relays' Subjects are plain ASCII, and it is the only use of
// libmime on the SMTP path (bench/README.md "ninth session"). Synchronous, as subjectOf is.
type Libmime = { decodeWords(value: string): string };
let libmime: Libmime | undefined;
const loadLibmime = (): Libmime => (libmime ??= createRequire(import.meta.url)('libmime') as Libmime);

export const MAX_SUBJECT_CHARS = 200;

/** At most this much of the field is decoded: a hostile 1 MB Subject costs no more than a short one. */
const MAX_RAW_CHARS = 4 * 1024;

/** The decoded Subject of `header` (the header block, bytes), or null when it has none or it is empty. */
export function subjectOf(header: Buffer | string): string | null {
  const text = typeof header === 'string' ? header : header.toString('latin1');
  const raw = rawField(text);
  if (raw === null) return null;
  const decoded = decodeWords(typeof header === 'string' ? raw : Buffer.from(raw, 'latin1').toString('utf8'));
  const clean = decoded.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
  if (clean === '') return null;
  return [...clean].slice(0, MAX_SUBJECT_CHARS).join('');
}

/** The value of the first Subject field, continuation lines joined; null: no such field. */
function rawField(text: string): string | null {
  const m = /(?:^|\r?\n)subject[ \t]*:/i.exec(text);
  if (!m) return null;
  const start = m.index + m[0].length;
  const lines = /^[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/.exec(text.slice(start, start + MAX_RAW_CHARS))!;
  return lines[0].replace(/\r?\n(?=[ \t])/g, '');
}

function decodeWords(value: string): string {
  // Without "=?" libmime's decodeWords changes nothing (each of its patterns starts with an
  // encoded-word; NUL is checked too: its join marker holds one).
  if (!value.includes('=?') && !value.includes('\u0000')) return value;
  const mime = loadLibmime();
  try { return mime.decodeWords(value); } catch { return value; }
}
